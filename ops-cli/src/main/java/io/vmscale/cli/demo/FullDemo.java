package io.vmscale.cli.demo;

import io.vmscale.balancer.Balancer;
import io.vmscale.balancer.BalancerConfig;
import io.vmscale.balancer.LoadMode;
import io.vmscale.broker.BrokerConfig;
import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Role;
import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.broker.event.Topic;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.broker.log.EventLog;
import io.vmscale.cli.chart.ChartCommand;
import io.vmscale.cli.chart.ChartModel;
import io.vmscale.cli.common.Home;
import io.vmscale.cli.common.Local;
import io.vmscale.cli.config.VmscaleConfig;
import io.vmscale.cli.log.RecordCommand;
import io.vmscale.cli.stack.Stack;
import io.vmscale.libvirt.LibvirtConfig;
import io.vmscale.scaler.ScalerConfig;
import java.awt.GraphicsEnvironment;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import javax.swing.SwingUtilities;

/**
 * The whole story on real VMs: broker, monitor, scaler and balancer from the configuration; one
 * replica at low load; high load until the scaler adds a replica and the balancer uses it; low load
 * until it drains and stops one. Everything is recorded to an event log and drawn as a chart.
 * Ends with {@code summary: scale-ups=U scale-downs=D answers=A wrong=W lost=L chart=PNG events=LOG}.
 */
public final class FullDemo {
    private final PrintWriter out;
    private final Narrator narrator;
    private final Path outDir;
    private final Duration hold;
    private final AtomicInteger ups = new AtomicInteger();
    private final AtomicInteger downs = new AtomicInteger();
    private final AtomicInteger migrations = new AtomicInteger();
    private final AtomicInteger consolidations = new AtomicInteger();
    /** Hosts besides the configuration's first, started for the demo (scripts/libvirt-host) and stopped after. */
    private final int extraHosts;
    private VmscaleConfig config;

    FullDemo(VmscaleConfig loaded, PrintWriter out, Path outDir, Duration hold) throws java.io.IOException {
        this(loaded, out, outDir, hold, 1);
    }

    FullDemo(VmscaleConfig loaded, PrintWriter out, Path outDir, Duration hold, int hosts) throws java.io.IOException {
        this.out = out;
        this.narrator = new Narrator(out);
        this.outDir = outDir;
        this.hold = hold;
        this.extraHosts = hosts - 1;
        this.config = demoConfig(loaded, Files.createTempDirectory("vmscale-demo-broker-"));
    }

    /** Runs scripts/libvirt-host ACTION N; returns what it printed (the host's URI for start). */
    private String libvirtHost(String action, int n) throws java.io.IOException, InterruptedException {
        Process process = new ProcessBuilder(Home.dir().resolve("scripts/libvirt-host").toString(), action,
                Integer.toString(n)).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String printed = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
        if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IllegalStateException("scripts/libvirt-host " + action + " " + n + " failed");
        }
        return printed;
    }

    /**
     * The configuration, made for a demo of a few minutes: a broker of its own (free port, own data),
     * replicas named PREFIXdemo-NNNN (a running {@code up} is left alone), 1..2 replicas, a window and a
     * cooldown of at most 5 s, load off until the demo sets it.
     */
    public static VmscaleConfig demoConfig(VmscaleConfig c, Path brokerDir) {
        BrokerConfig broker = new BrokerConfig(c.broker().bind(), Local.freeTcpPort(), brokerDir.toString(),
                c.broker().users());
        LibvirtConfig libvirt = new LibvirtConfig(c.libvirt().uris(), c.libvirt().prefix() + "demo",
                c.libvirt().reconnectMinMs(), c.libvirt().reconnectMaxMs(), c.libvirt().hosts());
        ScalerConfig s = c.scaler();
        ScalerConfig scaler = new ScalerConfig("threshold-window", 1, 2, Math.min(5, s.cooldownSeconds()), s.tickMs(),
                s.probeTimeoutSeconds(), s.drainTimeoutSeconds(), s.warmupSeconds(), s.maxVcpusPerCore(),
                new ScalerConfig.ThresholdWindowConfig(
                s.thresholdWindow().high(), s.thresholdWindow().low(), Math.min(5, s.thresholdWindow().windowSeconds())),
                s.targetTracking(), new ScalerConfig.WarmPoolConfig(0, "paused", -1, s.warmPool().warmRequests()),
                Math.min(10, s.hostGraceSeconds()), s.consolidateAfterSeconds() < 0 ? -1 : 60, s.rebalanceAbove());
        BalancerConfig b = c.balancer();
        BalancerConfig balancer = new BalancerConfig(b.work(), b.replicaCapacity(), b.low(), b.mid(), b.high(), "off",
                b.dispatch(), b.maxInFlightPerReplica(), b.timeoutMs(), b.ejectAfterTimeouts(), b.ejectMs(),
                b.statsIntervalMs(), b.frontBind(), 0, List.of(), b.slowStartMs(), b.allowedNetworks(), b.maxLoad(),
                b.maxEjectedPercent());
        return new VmscaleConfig(broker, libvirt, c.monitor(), c.provisioning(), scaler, balancer, c.guest(), c.application(), c.traffic());
    }

    /**
     * What a demo attaches before any component starts: a viewer recording every event to {@code log}, feeding the
     * chart, and telling the story's decisions and lifecycle changes to the demo.
     */
    static List<AutoCloseable> watch(io.vmscale.broker.EmbeddedBroker broker, Path log, ChartModel chart,
                                     java.util.function.Consumer<ScaleDecision> decided,
                                     java.util.function.BiConsumer<VmLifecycle, String> changed) {
        BrokerConnection viewer = broker.connect(Role.VIEWER, BrokerConnection.source("demo"));
        EventLog.Writer writer;
        try {
            writer = new EventLog.Writer(log, 256L * 1024 * 1024, 1);
        } catch (java.io.IOException e) {
            viewer.close();
            throw new java.io.UncheckedIOException("cannot write the event log " + log + ": " + e.getMessage(), e);
        }
        return List.of(viewer, writer, RecordCommand.record(viewer, false, writer),
                viewer.subscribeAll(Topic.PREFIX + "*", chart::accept),
                viewer.subscribe(ScaleDecision.class, e -> decided.accept(e.body())),
                viewer.subscribe(VmLifecycle.class, e -> changed.accept(e.body(), e.source())));
    }

    private void step(String format, Object... args) {
        narrator.step(format, args);
    }

    int run() throws Exception {
        if (extraHosts == 0) {
            return runStory();
        }
        List<String> uris = new java.util.ArrayList<>(List.of(config.libvirt().uris().get(0)));
        try {
            for (int n = 2; n < 2 + extraHosts; n++) {
                uris.add(libvirtHost("start", n));
                step("libvirt host %d started: %s (scripts/libvirt-host)", n, uris.get(uris.size() - 1));
            }
            config = new VmscaleConfig(config.broker(), config.libvirt().withUris(uris), config.monitor(),
                    config.provisioning(), config.scaler(), config.balancer(), config.guest(),
                    config.application(), config.traffic());
            return runStory();
        } finally {
            for (int n = 2; n < 2 + extraHosts; n++) {
                libvirtHost("stop", n);
                step("libvirt host %d stopped", n);
            }
        }
    }

    private int runStory() throws Exception {
        Files.createDirectories(outDir);
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Path log = outDir.resolve("events-" + stamp + ".jsonl").toAbsolutePath();
        Path png = outDir.resolve("chart-" + stamp + ".png").toAbsolutePath();
        ScalerConfig s = config.scaler();
        step("replicas %s-NNNN, threshold-window: HIGH %.0f %% / LOW %.0f %% over %d s, cooldown %d s, %d..%d replicas",
                config.libvirt().prefix(), s.thresholdWindow().high(), s.thresholdWindow().low(),
                s.thresholdWindow().windowSeconds(), s.cooldownSeconds(), s.minReplicas(), s.maxReplicas());
        ChartModel chart = new ChartModel(null, s.thresholdWindow().high(), s.thresholdWindow().low());
        Balancer.Totals totals;
        boolean done;
        // the recording starts before the scaler does: the log holds its first decision too
        try (Stack stack = Stack.start(config, out, "demo", broker -> watch(broker, log, chart, this::decided,
                this::changed))) {
            step("recording every event to %s", log);
            if (!GraphicsEnvironment.isHeadless()) {
                SwingUtilities.invokeLater(() -> ChartCommand.window(chart, "vmscale demo", new CountDownLatch(1)));
                step("chart window open");
            }
            done = extraHosts > 0 ? hostsStory(stack) : story(stack);
            stack.balancer().setMode(LoadMode.OFF);
            step("load off; waiting for the last answers");
            waitFor("every request answered or timed out", Duration.ofSeconds(10), () -> {
                Balancer.Totals t = stack.balancer().totals();
                return t.sent() == t.answered() + t.wrong() + t.timedOut();
            });
            totals = stack.balancer().totals();
            stack.scaler().close(); // no replacement for what is stopped next
            for (var replica : stack.provisioner().observe().replicas()) { // the warm pool's too
                stack.provisioner().stop(replica.domain());
                step("stopped %s", replica.domain());
            }
        }
        ChartCommand.render(chart, "vmscale demo " + stamp, png, new int[] {1400, 900});
        step("chart drawn: %s", png);
        long lost = totals.sent() - totals.answered() - totals.wrong();
        step("balancer: sent %d, answered %d, wrong %d, timed out %d; %d not sent (the replicas were full: load shed, "
                + "not lost)", totals.sent(), totals.answered(), totals.wrong(), totals.timedOut(), totals.unsent());
        out.printf(Locale.ROOT, "summary: scale-ups=%d scale-downs=%d answers=%d wrong=%d lost=%d%s chart=%s events=%s%n",
                ups.get(), downs.get(), totals.answered(), totals.wrong(), lost,
                extraHosts > 0 ? " migrations=" + migrations.get() : "", png, log);
        out.flush();
        return done && ups.get() >= 1 && downs.get() >= 1 && totals.wrong() == 0 && lost == 0
                && (extraHosts == 0 || migrations.get() >= 2) ? 0 : 1;
    }

    /** The load changes and what the scaler should do about each; false when something did not happen in time. */
    private boolean story(Stack stack) throws InterruptedException {
        Duration boot = Duration.ofSeconds(config.scaler().probeTimeoutSeconds() + 60);
        Duration react = Duration.ofSeconds(config.scaler().thresholdWindow().windowSeconds()
                + config.scaler().cooldownSeconds() + 60L);
        if (!waitFor("the first replica READY (below the minimum of 1)", boot, () -> ready(stack) == 1)) {
            return false;
        }
        if (!waitFor("the balancer's calibration on it", Duration.ofSeconds(60), () -> stack.balancer().calibration() != null)) {
            return false;
        }
        step("calibrated: one replica serves %.0f requests/s of n=%d", stack.balancer().calibration().capacityPerSecond(),
                stack.balancer().calibration().work());
        // the pool's boot after the calibration: its CPU would make the first replica look slower than it is
        AdminResult pool = stack.scaler().handle(new AdminCommand("demo-pool", Topic.REPLY_PREFIX + "demo", "scaler",
                "pool", List.of("1", "paused")));
        step("%s", pool.message());
        load(stack, "low", config.balancer().low());
        pause(hold);
        if (!waitFor("the warm pool's replica booted, warmed and paused", boot, () -> in(stack, ReplicaState.POOLED) >= 1)) {
            return false;
        }
        load(stack, "high", config.balancer().high());
        if (!waitFor("a scale-up", react, () -> ups.get() >= 1)
                || !waitFor("2 replicas READY and in the balancer", boot,
                        () -> ready(stack) == 2 && stack.balancer().members().size() == 2)) {
            return false;
        }
        pause(hold);
        load(stack, "low", config.balancer().low());
        if (!waitFor("a scale-down", react, () -> downs.get() >= 1)
                || !waitFor("one replica drained, and stopped or back in the warm pool",
                        Duration.ofSeconds(config.scaler().drainTimeoutSeconds() + 60L),
                        () -> ready(stack) == 1 && stack.scaler().replicas().values().stream()
                                .filter(s -> s != ReplicaState.POOLED && s != ReplicaState.WARMING).count() == 1)) {
            return false;
        }
        pause(hold.dividedBy(2));
        return true;
    }

    /**
     * With two hosts: one replica on the first host; high load until a scale-up places the second on the other host;
     * the first live-migrated there under load; low load until a scale-down, then the survivor consolidated back to
     * the first host so that the second runs none.
     */
    private boolean hostsStory(Stack stack) throws InterruptedException {
        Duration boot = Duration.ofSeconds(config.scaler().probeTimeoutSeconds() + 60);
        Duration react = Duration.ofSeconds(config.scaler().thresholdWindow().windowSeconds()
                + config.scaler().cooldownSeconds() + 60L);
        String home = config.libvirt().uris().get(0);
        String other = config.libvirt().uris().get(1);
        if (!waitFor("the first replica READY on " + home, boot, () -> ready(stack) == 1)
                || !waitFor("the balancer's calibration on it", Duration.ofSeconds(60),
                        () -> stack.balancer().calibration() != null)) {
            return false;
        }
        load(stack, "low", config.balancer().low());
        pause(hold);
        load(stack, "high", config.balancer().high());
        if (!waitFor("a scale-up", react, () -> ups.get() >= 1)
                || !waitFor("2 replicas READY, one on each host, both in the balancer", boot,
                        () -> ready(stack) == 2 && stack.balancer().members().size() == 2
                                && hostsInUse(stack).size() == 2)) {
            return false;
        }
        pause(hold.dividedBy(2));
        String first = onHost(stack, home);
        AdminResult moving = stack.scaler().handle(new AdminCommand("demo-migrate", Topic.REPLY_PREFIX + "demo", "scaler",
                "migrate", List.of(first, other)));
        step("ops migrate %s %s: %s", first, other, moving.message());
        if (!moving.ok() || !waitFor(first + " READY on " + other + " (live migration under load)", boot,
                () -> migrations.get() >= 1 && ready(stack) == 2 && hostsInUse(stack).equals(java.util.Set.of(other)))) {
            return false;
        }
        pause(hold.dividedBy(2));
        load(stack, "low", config.balancer().low());
        if (!waitFor("a scale-down", react, () -> downs.get() >= 1)
                || !waitFor("the survivor consolidated: " + other + " runs none", boot,
                        () -> consolidations.get() >= 1 && ready(stack) == 1 && stack.scaler().replicas().size() == 1
                                && hostsInUse(stack).equals(java.util.Set.of(home)))) {
            return false;
        }
        pause(hold.dividedBy(2));
        return true;
    }

    /** The hosts that run a replica of the group now, from libvirt. */
    private static java.util.Set<String> hostsInUse(Stack stack) {
        java.util.Set<String> hosts = new java.util.TreeSet<>();
        stack.provisioner().observe().replicas().stream().filter(o -> o.active()).forEach(o -> hosts.add(o.host()));
        return hosts;
    }

    private static String onHost(Stack stack, String host) {
        return stack.provisioner().observe().replicas().stream().filter(o -> o.running() && o.host().equals(host))
                .map(o -> o.domain()).findFirst().orElseThrow();
    }

    private void load(Stack stack, String name, double replicas) {
        stack.balancer().setMode(new LoadMode(name, replicas));
        step("load %s: %.2f replicas' worth", name, replicas);
    }

    private static long ready(Stack stack) {
        return in(stack, ReplicaState.READY);
    }

    private static long in(Stack stack, ReplicaState state) {
        return stack.scaler().replicas().values().stream().filter(s -> s == state).count();
    }

    private void decided(ScaleDecision d) {
        if (d.action() == ScaleAction.HOLD) {
            return;
        }
        if (d.action() == ScaleAction.UP && !d.reasonCode().equals("BelowMinReplicas")) {
            ups.incrementAndGet();
        } else if (d.action() == ScaleAction.DOWN) {
            downs.incrementAndGet();
        }
        if (d.action() == ScaleAction.MIGRATE && d.reasonCode().equals("Consolidate")) {
            consolidations.incrementAndGet();
        }
        step("decision %s %d->%d (%s): %s", d.action(), d.fromReplicas(), d.toReplicas(), d.reasonCode(), d.reason());
    }

    private void changed(VmLifecycle v, String source) {
        if (source.startsWith("scaler@") && v.state() == ReplicaState.READY && v.reason().startsWith(VmLifecycle.MOVED)) {
            migrations.incrementAndGet();
        }
        if (source.startsWith("scaler@") || v.state() == ReplicaState.FAILED) {
            step("%s %s%s%s (%s)", v.domain(), v.state(), v.endpoint() == null ? "" : " at " + v.endpoint(),
                    extraHosts > 0 ? " on " + v.host() : "", v.reason());
        }
    }

    private void pause(Duration duration) throws InterruptedException {
        narrator.pause(duration);
    }

    private boolean waitFor(String what, Duration max, BooleanSupplier condition) throws InterruptedException {
        return narrator.waitFor(what, max, condition);
    }
}
