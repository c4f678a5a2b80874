package io.vmscale.cli.bench;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.EmbeddedBroker;
import io.vmscale.broker.Role;
import io.vmscale.broker.event.Topic;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.cli.config.VmscaleConfig;
import io.vmscale.cli.demo.FullDemo;
import io.vmscale.cli.stack.Stack;
import io.vmscale.scaler.ScalerConfig;
import io.vmscale.scaler.provision.Replica;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * What {@code ./vmscale up} costs when nothing happens: broker, monitor, scaler and balancer in this
 * JVM with one READY replica (calibrated) and the load off, against the same JVM running the broker
 * alone (over the same span, at most two minutes): process CPU time (% of one core) and resident memory,
 * where the stack's CPU went, thread by thread (from {@code /proc/self/task}: the JIT's and the
 * collector's threads too), and over a longer span each minute's figures, as the JIT's share falls.
 */
final class IdleBench {
    private static final int REPLICAS = 1;
    /**
     * From the replica's calibration on: the JIT still compiles what the first minutes ran (about 15 methods a second
     * 90 s after the calibration, at this rate of events), which a long-running {@code up} no longer pays.
     */
    private static final Duration SETTLE = Duration.ofSeconds(90);

    private IdleBench() {
    }

    static void run(PrintWriter out, VmscaleConfig loaded, Duration span) throws Exception {
        VmscaleConfig demo = FullDemo.demoConfig(loaded, Files.createTempDirectory("vmscale-bench-idle-"));
        ScalerConfig s = demo.scaler();
        VmscaleConfig config = new VmscaleConfig(demo.broker(), new io.vmscale.libvirt.LibvirtConfig(
                demo.libvirt().uris(), loaded.libvirt().prefix() + "bench", demo.libvirt().reconnectMinMs(),
                demo.libvirt().reconnectMaxMs()), demo.monitor(), demo.provisioning(),
                s.withLimits(REPLICAS, REPLICAS).withWarmPool(ScalerConfig.WarmPoolConfig.NONE),
                demo.balancer(), demo.guest(), demo.application(), demo.traffic());
        Duration alone = span.compareTo(BROKER_SPAN) > 0 ? BROKER_SPAN : span;
        out.printf(Locale.ROOT, "bench idle: %d cores, Java %s, options %s; the broker alone for %d s, then the whole "
                + "stack with %d replica(s) (%s-NNNN), load off, for %d s from %d s after the calibration%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"),
                ManagementFactory.getRuntimeMXBean().getInputArguments(), alone.toSeconds(), REPLICAS,
                config.libvirt().prefix(), span.toSeconds(), SETTLE.toSeconds());
        out.flush();
        Figures broker;
        try (EmbeddedBroker brokerAlone = EmbeddedBroker.start(config.broker())) {
            pause(Duration.ofSeconds(5));
            broker = measure(alone, out);
        }
        out.printf(Locale.ROOT, "broker alone:               %5.2f %% of one core, RSS %4d MB%n", broker.cpuPercent,
                broker.rssMb);
        broker.printThreads(out, alone);
        out.flush();
        Figures stack;
        try (Stack up = Stack.start(config, new PrintWriter(java.io.Writer.nullWriter()), "bench")) {
            long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            while (up.scaler().replicas().values().stream().filter(r -> r == ReplicaState.READY).count() < REPLICAS
                    || up.balancer().calibrations() < REPLICAS) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the replicas were not READY and calibrated within 5 minutes");
                }
                pause(Duration.ofMillis(200));
            }
            // what the stack sends while idle, counted before the measured span (a listener costs too)
            Map<String, Integer> sent = new java.util.concurrent.ConcurrentHashMap<>();
            try (BrokerConnection count = up.broker().connect(Role.COMPONENT, BrokerConnection.source("bench"))) {
                count.subscribeAll(Topic.PREFIX + "*", e -> sent.merge(e.type().wireName(), 1, Integer::sum));
                pause(SETTLE);
            }
            out.printf(Locale.ROOT, "events while idle (per second, over %d s): %s%n", SETTLE.toSeconds(),
                    sent.entrySet().stream().sorted(Map.Entry.comparingByKey()).map(e -> String.format(Locale.ROOT,
                            "%s %.2f", e.getKey(), e.getValue() / (double) SETTLE.toSeconds())).toList());
            out.flush();
            stack = measure(span, out);
            up.scaler().close();
            for (Replica replica : up.provisioner().running()) {
                up.provisioner().stop(replica.domain());
            }
        }
        out.printf(Locale.ROOT, "whole stack, 1 replica:     %5.2f %% of one core, RSS %4d MB%n", stack.cpuPercent,
                stack.rssMb);
        stack.printThreads(out, span);
        out.printf(Locale.ROOT, "ratio stack / broker alone: CPU %.1f x, RSS %.2f x%n",
                stack.cpuPercent / Math.max(0.01, broker.cpuPercent), (double) stack.rssMb / Math.max(1, broker.rssMb));
        out.flush();
    }

    /** @param threads CPU clock ticks spent in the span by each group of threads */
    private record Figures(double cpuPercent, long rssMb, Map<String, Long> threads) {
        void printThreads(PrintWriter out, Duration span) {
            out.printf(Locale.ROOT, "  where it went (%% of one core; threads by name, numbers as N, cut at 15 chars):%n");
            threads.entrySet().stream().filter(e -> e.getValue() > 0)
                    .sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(12)
                    .forEach(e -> out.printf(Locale.ROOT, "    %5.2f %%  %s%n",
                            100.0 * e.getValue() / TICKS_PER_SECOND / span.toSeconds(), e.getKey()));
            out.flush();
        }
    }

    /** Over the span; a span over a minute also prints each minute's figures (how the JIT's share falls). */
    private static Figures measure(Duration span, PrintWriter out) throws Exception {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        Map<String, Long> before = threadTicks();
        long cpu0 = os.getProcessCpuTime();
        long t0 = System.nanoTime();
        if (span.compareTo(MINUTE) > 0) {
            for (int minute = 1; minute * MINUTE.toSeconds() <= span.toSeconds(); minute++) {
                Map<String, Long> start = threadTicks();
                long cpu = os.getProcessCpuTime();
                long t = System.nanoTime();
                pause(MINUTE);
                double percent = 100.0 * (os.getProcessCpuTime() - cpu) / (System.nanoTime() - t);
                double jit = 100.0 * spent(start, threadTicks()).getOrDefault(COMPILERS, 0L) / TICKS_PER_SECOND
                        / MINUTE.toSeconds();
                out.printf(Locale.ROOT, "  minute %2d: %5.2f %% of one core, the JIT's compilers %5.2f %% of it, "
                        + "RSS %4d MB%n", minute, percent, jit, rssKb() / 1024);
                out.flush();
            }
        }
        pause(Duration.ofNanos(Math.max(0, span.toNanos() - (System.nanoTime() - t0))));
        double percent = 100.0 * (os.getProcessCpuTime() - cpu0) / (System.nanoTime() - t0);
        return new Figures(percent, rssKb() / 1024, spent(before, threadTicks()));
    }

    private static final Duration MINUTE = Duration.ofMinutes(1);
    /** The broker alone is measured for at most this long: it compiles little. */
    private static final Duration BROKER_SPAN = Duration.ofMinutes(2);
    /** C1's and C2's threads, as {@link #group} names them. */
    private static final String COMPILERS = "CN CompilerThre";

    /** Each group's ticks from {@code before} to {@code after}. */
    private static Map<String, Long> spent(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> spent = new HashMap<>();
        after.forEach((thread, ticks) -> spent.merge(group(thread.substring(thread.indexOf(' ') + 1)),
                ticks - before.getOrDefault(thread, 0L), Long::sum));
        return spent;
    }

    private static final double TICKS_PER_SECOND = 100; // USER_HZ, 100 on Linux

    /** "tid name" to the thread's user and system CPU so far, in clock ticks. */
    private static Map<String, Long> threadTicks() throws IOException {
        Map<String, Long> ticks = new HashMap<>();
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : tasks.toList()) {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    ticks.put(task.getFileName() + " " + name, Long.parseLong(fields[11]) + Long.parseLong(fields[12]));
                } catch (IOException gone) {
                    // the thread ended meanwhile
                }
            }
        }
        return ticks;
    }

    /** A pool's threads under one name: their numbers as N. */
    private static String group(String thread) {
        return thread.replaceAll("[0-9]+", "N");
    }

    private static long rssKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        return -1;
    }

    private static void pause(Duration d) throws InterruptedException {
        new CountDownLatch(1).await(d.toMillis(), TimeUnit.MILLISECONDS); // the measured span, not a synchronisation
    }
}
