package io.vmscale.cli.bench.scale;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Role;
import io.vmscale.broker.event.Topic;
import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.cli.Main;
import io.vmscale.cli.common.BrokerClients;
import io.vmscale.cli.common.Local;
import io.vmscale.cli.config.ConfigLoader;
import io.vmscale.cli.config.VmscaleConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * {@code vmscale bench scale}: what the control plane costs from 10 to 1,000 replicas over 1 to 50 hosts. The real
 * broker and balancer run as their own processes ({@code vmscale broker}, {@code vmscale balancer}), the real scaler in
 * a third ({@link ScaleNode}) over simulated hypervisors (libvirt's test driver through libvirtd, one UDP socket per
 * replica); this process plays the monitor (one {@code cpu.sample} per READY replica per second, the monitor's rate
 * and wire traffic) and watches the topics. For each size: the time to take back a running fleet, a steady minute's
 * costs (ticks, broker CPU and messages, memory), {@code ops status --json}, and load steps that make the group scale
 * up and down (sample to decision, decision to action).
 */
public final class ScaleBench {
    /** A size: replicas over hosts. */
    public record Size(int replicas, int hosts) {
        @Override
        public String toString() {
            return replicas + "x" + hosts;
        }
    }

    public static final List<Size> SIZES = List.of(new Size(10, 1), new Size(100, 10), new Size(300, 10),
            new Size(1000, 50));

    /**
     * The policy's window, s (two samples of each replica; a window of one monitor interval misses a replica whenever
     * a tick falls while the monitor's batch is still arriving, for as long as the two rhythms stay in that phase);
     * from the moment it holds only samples of the new load to the decision is the control plane's own latency.
     */
    static final double WINDOW_S = 2;
    private static final double HIGH = 90;
    private static final double MID = 50;
    private static final double LOW = 10;

    private ScaleBench() {
    }

    /** The figures of one size. */
    record Figures(Size size, double takeBackS, double tickWallP50, double tickWallP99, double tickCpuP50,
                   double tickCpuP99, double brokerCpu, double scalerCpu, double balancerCpu, double libvirtdCpu,
                   double messagesPerS, long brokerRss, long scalerRss, long balancerRss, double brokerHeap,
                   double scalerHeap, double balancerHeap, int statusBytes, double statusMs, List<Double> upDecision,
                   List<Double> upAction, List<Double> downDecision, List<Double> downAction, double bulkMs,
                   List<Double> sampleToDecision) {
    }

    public static List<Figures> run(PrintWriter out, List<Size> sizes, Duration steady, int steps, Path png)
            throws Exception {
        out.printf(Locale.ROOT, "bench scale: %d cores, Java %s; per size: broker, balancer and scaler in processes of "
                        + "their own, this one the monitor (1 sample per replica per s); %d s steady at %.0f %% CPU, "
                        + "then %d load steps up (%.0f %%) and down (%.0f %%); tick 1 s, threshold-window of 2 s (the first sample after a load change that fills it comes 1 s after the change)%n%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), steady.toSeconds(),
                MID, steps, HIGH, LOW);
        out.flush();
        List<Figures> all = new ArrayList<>();
        for (Size size : sizes) {
            Figures f = one(out, size, steady, steps);
            all.add(f);
            print(out, f);
        }
        out.println();
        table(out, all);
        if (png != null) {
            ScaleCurves.write(all, png);
            out.println("curves: " + png);
        }
        out.flush();
        return all;
    }

    private static Figures one(PrintWriter out, Size size, Duration steady, int steps) throws Exception {
        Path dir = Files.createTempDirectory("vmscale-bench-scale-");
        boolean done = false;
        int port = Local.freeTcpPort();
        Path file = Files.writeString(dir.resolve("vmscale.json"), """
                {"broker": {"port": %d, "dataDir": "%s", "users": [
                  {"name": "component", "password": "component-secret", "role": "component"},
                  {"name": "operator", "password": "operator-secret", "role": "operator"}]},
                 "libvirt": {"prefix": "%s"},
                 "scaler": {"policy": "threshold-window", "minReplicas": 1, "maxReplicas": 1000, "cooldownSeconds": 0,
                   "tickMs": 1000, "probeTimeoutSeconds": 10, "drainTimeoutSeconds": 10, "warmupSeconds": 0,
                   "maxVcpusPerCore": 1.0, "consolidateAfterSeconds": -1, "thresholdWindow": {"high": 75, "low": 30, "windowSeconds": %d}},
                 "balancer": {"replicaCapacity": 100, "initialMode": "off", "slowStartMs": 0}}
                """.formatted(port, dir.resolve("broker"), ScaleNode.PREFIX, (int) WINDOW_S));
        VmscaleConfig config = ConfigLoader.load(file);
        out.printf(Locale.ROOT, "%s: %d replicas on %d hosts%n", size, size.replicas(), size.hosts());
        out.flush();
        try (Child broker = Child.java("broker", dir.resolve("broker.log"), List.of(Main.class.getName(), "broker",
                "--config", file.toString()))) {
            broker.await("broker: listening", Duration.ofSeconds(60));
            try (BrokerConnection monitor = BrokerClients.connect(config.broker(), Role.COMPONENT, "monitor");
                 Child balancer = Child.java("balancer", dir.resolve("balancer.log"), List.of(Main.class.getName(),
                         "balancer", "--config", file.toString(), "--load", "1"))) {
                balancer.await("balancer:", Duration.ofSeconds(60));
                Watch watch = new Watch();
                monitor.subscribeAll(Topic.PREFIX + "*", e -> watch.messages.incrementAndGet());
                monitor.subscribe(VmLifecycle.class, e -> watch.lifecycle(e.body()));
                monitor.subscribe(ScaleDecision.class, e -> watch.decision(e.body()));
                monitor.subscribe(CpuSample.class, e -> {
                    watch.lag.recordValue(Math.max(0, java.time.Duration.between(e.ts(), java.time.Instant.now())
                            .toNanos()));
                    watch.sampleArrived(System.nanoTime());
                });
                Feeder feeder = new Feeder(monitor, watch);
                Child node = Child.java("scaler", dir.resolve("scaler.log"), List.of(ScaleNode.class.getName(),
                        file.toString(), Integer.toString(size.hosts()), Integer.toString(size.replicas()),
                        dir.toString()));
                try (node; feeder) {
                    out.printf("%s: %s%n", size, node.await("node: ", Duration.ofMinutes(10)).substring(6));
                    node.await("node: scaler started", Duration.ofSeconds(60));
                    long started = System.nanoTime();
                    feeder.level(MID);
                    watch.await(() -> watch.ready.size() >= size.replicas(), Duration.ofMinutes(30),
                            "all " + size.replicas() + " replicas READY");
                    double takeBack = (System.nanoTime() - started) / 1e9;
                    out.printf(Locale.ROOT, "%s: took back %d running replicas in %.1f s%n", size, size.replicas(), takeBack);
                    out.flush();
                    Thread.sleep(5000); // the take-back's own work is over: steady from here
                    // ---- steady ----
                    node.send("report");
                    node.await("report", Duration.ofSeconds(60));
                    long libvirtd = Procs.pidOf("libvirtd").orElse(-1);
                    long[] cpu0 = {Procs.cpuTicks(broker.pid()), Procs.cpuTicks(node.pid()), Procs.cpuTicks(balancer.pid()),
                            Procs.cpuTicks(libvirtd)};
                    long messages0 = watch.messages.get();
                    watch.lag.reset();
                    long t0 = System.nanoTime();
                    Thread.sleep(steady.toMillis());
                    double span = (System.nanoTime() - t0) / 1e9;
                    long[] cpu1 = {Procs.cpuTicks(broker.pid()), Procs.cpuTicks(node.pid()), Procs.cpuTicks(balancer.pid()),
                            Procs.cpuTicks(libvirtd)};
                    double perS = (watch.messages.get() - messages0) / span;
                    org.HdrHistogram.Histogram lag = watch.lag.getIntervalHistogram();
                    out.printf(Locale.ROOT, "%s: samples arrive %.0f / %.0f / %.0f ms after publication (p50 / p99 / max)%n",
                            size, lag.getValueAtPercentile(50) / 1e6, lag.getValueAtPercentile(99) / 1e6,
                            lag.getMaxValue() / 1e6);
                    node.send("report");
                    Map<String, Double> report = parse(node.await("report", Duration.ofSeconds(60)));
                    long brokerRss = Procs.rssKiB(broker.pid());
                    long scalerRss = Procs.rssKiB(node.pid());
                    long balancerRss = Procs.rssKiB(balancer.pid());
                    double brokerHeap = broker.heapMb();
                    double balancerHeap = balancer.heapMb();
                    // ---- ops status --json ----
                    List<Double> statusMs = new ArrayList<>();
                    int statusBytes = 0;
                    for (int i = 0; i < 3; i++) {
                        StringWriter text = new StringWriter();
                        long s0 = System.nanoTime();
                        int code = Main.commandLine().setOut(new PrintWriter(text, true))
                                .setErr(new PrintWriter(Writer.nullWriter()))
                                .execute("ops", "status", "--json", "--config", file.toString(), "--timeout", "10");
                        statusMs.add((System.nanoTime() - s0) / 1e6);
                        if (code != 0) {
                            throw new IllegalStateException("ops status --json failed with " + code + ": " + text);
                        }
                        statusBytes = text.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
                    }
                    // ---- load steps ----
                    List<Double> upDecision = new ArrayList<>();
                    List<Double> upAction = new ArrayList<>();
                    List<Double> downDecision = new ArrayList<>();
                    List<Double> downAction = new ArrayList<>();
                    List<Double> sampleToDecision = new ArrayList<>();
                    for (int i = 0; i < steps; i++) {
                        // between steps a calm spell longer than the window: each step starts from a full window
                        // down first, then up: the group moves between R - 1 and R (1,000 is the most a group has)
                        step(watch, feeder, LOW, ScaleAction.DOWN, downDecision, sampleToDecision, downAction, size);
                        feeder.level(MID);
                        Thread.sleep(2500);
                        step(watch, feeder, HIGH, ScaleAction.UP, upDecision, sampleToDecision, upAction, size);
                        feeder.level(MID);
                        Thread.sleep(2500);
                    }
                    watch.held.forEach(h -> out.println(size + ": " + h));
                    done = !watch.anomaly;
                    return new Figures(size, takeBack, report.get("wallP50") / 1e6, report.get("wallP99") / 1e6,
                            report.get("cpuP50") / 1e6, report.get("cpuP99") / 1e6,
                            percent(cpu1[0] - cpu0[0], span), percent(cpu1[1] - cpu0[1], span),
                            percent(cpu1[2] - cpu0[2], span), percent(cpu1[3] - cpu0[3], span), perS,
                            brokerRss / 1024, scalerRss / 1024, balancerRss / 1024, brokerHeap, report.get("heapMB"),
                            balancerHeap, statusBytes, median(statusMs), upDecision, upAction, downDecision, downAction,
                            report.get("bulkMs"), sampleToDecision);
                } finally {
                    feeder.close();
                    node.quit(Duration.ofMinutes(5));
                }
            }
        } finally {
            if (done && System.getenv("VMSCALE_BENCH_KEEP") == null) {
                Local.deleteTree(dir);
            } else {
                out.println(size + ": the components' logs are kept in " + dir);
                out.flush();
            }
        }
    }

    private static double percent(long ticks, double seconds) {
        return ticks * 10.0 / 1000 / seconds * 100; // USER_HZ 100: a tick is 10 ms
    }

    /**
     * One load step: the feeder moves to {@code level} (its first batch goes out at once); the decision it causes and
     * the action's end (READY of a new replica, or a replica's STOPPED) are timed from that batch.
     */
    private static void step(Watch watch, Feeder feeder, double level, ScaleAction action, List<Double> toDecision,
                             List<Double> windowFull, List<Double> toAction, Size size) throws InterruptedException {
        int before = watch.decisions.size();
        int events = watch.events.size();
        long dropped = feeder.connection.periodicDropped();
        watch.takeGap();
        // the monitor's rhythm and the scaler's ticks run on independent clocks: each step at another phase
        long t0 = feeder.level(level, java.util.concurrent.ThreadLocalRandom.current().nextLong(1000));
        Watch.Seen decision = watch.await(() -> watch.decisionAfter(before, action), Duration.ofSeconds(60),
                action + " decision after the load went to " + level + " %");
        Watch.Seen done = watch.await(() -> watch.eventAfter(events, action == ScaleAction.UP ? ReplicaState.READY
                : ReplicaState.STOPPED, decision.nanos()), Duration.ofSeconds(60), action + " carried out");
        toDecision.add((decision.nanos() - t0) / 1e6);
        // the window holds only the new level's samples once the old level's last ones are a window old
        windowFull.add((decision.nanos() - (feeder.lastOld() + (long) (WINDOW_S * 1e9))) / 1e6);
        if (decision.nanos() - t0 > 5_000_000_000L) {
            watch.anomaly = true; // the components' logs are kept to tell why
        }
        Map<String, Integer> held = watch.holdsBetween(t0, decision.nanos());
        if (!held.isEmpty()) {
            watch.held.add(action + " " + Math.round((decision.nanos() - t0) / 1e6) + " ms after the load changed, "
                    + "held before: " + held + ", samples the broker did not take meanwhile: "
                    + (feeder.connection.periodicDropped() - dropped) + ", the longest gap between samples arriving here: "
                    + watch.takeGap() / 1_000_000 + " ms"
                    + (decision.nanos() - t0 > 2_000_000_000L && watch.lastHold != null
                    ? "; the last: " + watch.lastHold.reason() : ""));
        }
        toAction.add((done.nanos() - decision.nanos()) / 1e6);
    }

    private static Map<String, Double> parse(String report) {
        Map<String, Double> values = new java.util.HashMap<>();
        for (String field : report.substring("report ".length()).split(" ")) {
            String[] kv = field.split("=");
            values.put(kv[0], Double.parseDouble(kv[1]));
        }
        return values;
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.isEmpty() ? Double.NaN : sorted.get(sorted.size() / 2);
    }

    static double max(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }

    private static void print(PrintWriter out, Figures f) {
        out.printf(Locale.ROOT, "%s: tick %.1f / %.1f ms (p50 / p99 wall), cpu %.1f / %.1f ms; broker %.1f %% of a core, "
                        + "%.0f msg/s; scaler %.1f %%, balancer %.1f %%, libvirtd %.1f %%; RSS broker %d, scaler %d, "
                        + "balancer %d MB; heap %.0f / %.0f / %.0f MB; status %d B in %.0f ms; the monitor's read %.2f ms/host%n",
                f.size(), f.tickWallP50(), f.tickWallP99(), f.tickCpuP50(), f.tickCpuP99(), f.brokerCpu(),
                f.messagesPerS(), f.scalerCpu(), f.balancerCpu(), f.libvirtdCpu(), f.brokerRss(), f.scalerRss(),
                f.balancerRss(), f.brokerHeap(), f.scalerHeap(), f.balancerHeap(), f.statusBytes(), f.statusMs(),
                f.bulkMs());
        out.printf(Locale.ROOT, "%s: up: load to decision %s ms, decision to READY %s ms; down: load to decision %s ms, "
                + "decision to STOPPED %s ms; window full of the new load to decision %s ms%n", f.size(),
                list(f.upDecision()), list(f.upAction()), list(f.downDecision()), list(f.downAction()),
                list(f.sampleToDecision()));
        out.flush();
    }

    private static String list(List<Double> values) {
        return String.join(" ", values.stream().map(v -> String.format(Locale.ROOT, "%.0f", v)).toList());
    }

    private static void table(PrintWriter out, List<Figures> all) {
        out.println("| replicas x hosts | take back s | tick p50 / p99 ms | tick CPU p50 / p99 ms | load to UP ms (median / max) "
                + "| UP to READY ms | load to DOWN ms | DOWN to STOPPED ms | broker % core | msg/s | scaler % core "
                + "| libvirtd % core | heap MB broker / scaler / balancer | RSS MB broker / scaler / balancer "
                + "| status --json KB / ms | monitor's read ms/host | window full to decision ms (median / max) |");
        out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (Figures f : all) {
            out.printf(Locale.ROOT, "| %d x %d | %.1f | %.1f / %.1f | %.1f / %.1f | %.0f / %.0f | %.0f / %.0f | %.0f / %.0f "
                            + "| %.0f / %.0f | %.1f | %.0f | %.1f | %.1f | %.0f / %.0f / %.0f | %d / %d / %d | %.1f / %.0f "
                            + "| %.2f | %.0f / %.0f |%n", f.size().replicas(), f.size().hosts(), f.takeBackS(), f.tickWallP50(),
                    f.tickWallP99(), f.tickCpuP50(), f.tickCpuP99(), median(f.upDecision()), max(f.upDecision()),
                    median(f.upAction()), max(f.upAction()), median(f.downDecision()), max(f.downDecision()),
                    median(f.downAction()), max(f.downAction()), f.brokerCpu(), f.messagesPerS(), f.scalerCpu(),
                    f.libvirtdCpu(), f.brokerHeap(), f.scalerHeap(), f.balancerHeap(), f.brokerRss(), f.scalerRss(),
                    f.balancerRss(), f.statusBytes() / 1024.0, f.statusMs(), f.bulkMs(), median(f.sampleToDecision()),
                    max(f.sampleToDecision()));
        }
        out.flush();
    }

    /** What the topics said, with when this process received it. */
    static final class Watch {
        record Seen(long nanos, Object event) {
        }

        final AtomicLong messages = new AtomicLong();
        /** From a sample's publication to its arrival here: what the scaler's window sees late. */
        final org.HdrHistogram.Recorder lag = new org.HdrHistogram.Recorder(3);
        final List<Seen> decisions = new CopyOnWriteArrayList<>();
        final List<Seen> events = new CopyOnWriteArrayList<>();
        /** READY replicas and their host. */
        final Map<String, String> ready = new ConcurrentHashMap<>();

        void lifecycle(VmLifecycle e) {
            events.add(new Seen(System.nanoTime(), e));
            if (e.state() == ReplicaState.READY) {
                ready.put(e.domain(), e.host());
            } else if (e.state() != ReplicaState.RUNNING) {
                ready.remove(e.domain());
            }
        }

        private long lastSample;
        /** The longest time without a sample arriving here since the last {@link #takeGap}. */
        private long gap;

        synchronized void sampleArrived(long now) {
            if (lastSample != 0) {
                gap = Math.max(gap, now - lastSample);
            }
            lastSample = now;
        }

        synchronized long takeGap() {
            long g = Math.max(gap, lastSample == 0 ? 0 : System.nanoTime() - lastSample);
            gap = 0;
            return g;
        }

        /** A step took far longer than a tick: the logs are kept. */
        volatile boolean anomaly;
        /** What held a decision back after the load changed, in words. */
        final List<String> held = new CopyOnWriteArrayList<>();
        /** The last HOLD, to say why an awaited decision did not come. */
        volatile ScaleDecision lastHold;

        /** Every HOLD, with when it came. */
        final List<Seen> holds = new CopyOnWriteArrayList<>();

        /** The HOLDs' reasons between two instants, counted by code. */
        Map<String, Integer> holdsBetween(long from, long to) {
            Map<String, Integer> codes = new java.util.TreeMap<>();
            for (Seen seen : holds) {
                if (seen.nanos() >= from && seen.nanos() <= to) {
                    codes.merge(((ScaleDecision) seen.event()).reasonCode(), 1, Integer::sum);
                }
            }
            return codes;
        }

        void decision(ScaleDecision d) {
            if (d.action() == ScaleAction.HOLD) {
                lastHold = d;
                holds.add(new Seen(System.nanoTime(), d));
            } else {
                decisions.add(new Seen(System.nanoTime(), d));
            }
        }

        Seen decisionAfter(int index, ScaleAction action) {
            for (int i = index; i < decisions.size(); i++) {
                if (((ScaleDecision) decisions.get(i).event()).action() == action) {
                    return decisions.get(i);
                }
            }
            return null;
        }

        Seen eventAfter(int index, ReplicaState state, long notBefore) {
            for (int i = index; i < events.size(); i++) {
                Seen seen = events.get(i);
                if (seen.nanos() >= notBefore && ((VmLifecycle) seen.event()).state() == state) {
                    return seen;
                }
            }
            return null;
        }

        <T> T await(java.util.function.Supplier<T> what, Duration timeout, String describe) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                T value = what.get();
                if (value != null && !Boolean.FALSE.equals(value)) {
                    return value;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("no " + describe + " within " + timeout.toSeconds() + " s"
                            + (lastHold == null ? "" : "; the last HOLD: " + lastHold.reasonCode() + ": "
                            + lastHold.reason()));
                }
                Thread.sleep(5); // polling what the subscriber threads recorded
            }
        }
    }

    /**
     * The monitor's part: every second a {@code cpu.sample} for each READY replica, at the level the bench sets; a new
     * level goes out at once.
     */
    static final class Feeder implements AutoCloseable {
        private final BrokerConnection connection;
        private final Watch watch;
        private final Thread thread;
        private double level = MID;
        private boolean changed;
        private long shift;
        private long batchEnd;
        /** When the last batch of the level before the latest change finished going out. */
        private long lastOld;

        synchronized long lastOld() {
            return lastOld;
        }
        private long lastBatch;
        private volatile boolean closed;

        Feeder(BrokerConnection connection, Watch watch) {
            this.connection = connection;
            this.watch = watch;
            this.thread = new Thread(this::run, "feeder");
            this.thread.setDaemon(true);
            this.thread.start();
        }

        /**
         * Samples at this level from the next batch on (a second after the last one, as the monitor keeps its
         * rhythm); returns when that batch started going out.
         */
        synchronized long level(double next) throws InterruptedException {
            return level(next, 0);
        }

        /** The same, the batch coming {@code shiftMs} later than the rhythm says: the monitor's phase moves. */
        synchronized long level(double next, long shiftMs) throws InterruptedException {
            level = next;
            shift = shiftMs * 1_000_000L;
            changed = true;
            while (changed) {
                wait(100);
            }
            return lastBatch;
        }

        private void run() {
            while (!closed) {
                double now;
                synchronized (this) {
                    now = level;
                    if (changed) {
                        lastOld = batchEnd; // the last samples of the old level were stamped before this
                    }
                    changed = false;
                    lastBatch = System.nanoTime();
                    notifyAll();
                }
                List<Map.Entry<String, String>> replicas = new ArrayList<>(watch.ready.entrySet());
                for (Map.Entry<String, String> r : replicas) {
                    connection.publish(new CpuSample(r.getValue(), r.getKey(), "RUNNING", 1, 0, now, 1000));
                }
                synchronized (this) {
                    batchEnd = System.nanoTime();
                }
                synchronized (this) {
                    long base = lastBatch + 1_000_000_000L;
                    try {
                        for (long until = base; !closed && System.nanoTime() < until;
                             until = base + (changed ? shift : 0)) {
                            wait(Math.max(1, (until - System.nanoTime()) / 1_000_000));
                        }
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
        }

        @Override
        public void close() {
            closed = true;
            thread.interrupt();
        }
    }
}
