package io.vmscale.cli.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;


import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;

import io.vmscale.broker.event.VmLifecycle;

import io.vmscale.cli.bench.HttpLoad;
import io.vmscale.cli.chart.ChartCommand;
import io.vmscale.cli.chart.ChartModel;
import io.vmscale.cli.common.Home;
import io.vmscale.cli.config.ConfigLoader;
import io.vmscale.cli.config.VmscaleConfig;

import io.vmscale.cli.stack.AppImage;
import io.vmscale.cli.stack.HaproxyProcess;
import io.vmscale.cli.stack.Stack;
import io.vmscale.libvirt.HostConnection;
import io.vmscale.scaler.ScalerConfig;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The same story with your own application ({@code ./vmscale demo --app http}): the HTTP image of {@code apps/http}
 * (Debian with cloud-init, the service installed by user-data) configured by {@code apps/http/vmscale.json},
 * HAProxy in front driven through its Runtime API, HTTP load from {@link HttpLoad}: one replica at low load, high
 * load until the scaler adds one (booted, READY once {@code /healthz} answers, in HAProxy), low load until it
 * drains one in HAProxy and shuts it down by ACPI. Ends with {@code summary: scale-ups=U scale-downs=D requests=N
 * answered=A non-2xx=X failed=F not-sent=S p50=..ms p99=..ms chart=PNG events=LOG}; exit 0 only when it scaled
 * both ways and no request failed.
 */
final class HttpDemo {
    /** The work of a request: about 75 ms of one vCPU under software emulation here (one replica: ~13/s). */
    static final int WORK = 20_000;
    /** Requests per second: about a tenth of one replica's capacity, and one and a quarter replicas' worth. */
    static final double LOW = 1.2;
    static final double HIGH = 16;

    private final PrintWriter out;
    private final Narrator narrator;
    private final Path outDir;
    private final Duration hold;
    private final VmscaleConfig loaded;
    private final AtomicInteger ups = new AtomicInteger();
    private final AtomicInteger downs = new AtomicInteger();
    private final AtomicInteger stopped = new AtomicInteger();

    HttpDemo(VmscaleConfig loaded, PrintWriter out, Path outDir, Duration hold) {
        this.loaded = loaded;
        this.out = out;
        this.narrator = new Narrator(out);
        this.outDir = outDir;
        this.hold = hold;
    }

    /** {@code apps/http/vmscale.json} over the loaded configuration, made for a demo of a few minutes. */
    private VmscaleConfig config(HaproxyProcess haproxy, Path brokerDir) throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectNode app = (ObjectNode) json.readTree(Home.resolve("apps/http/vmscale.json").toFile());
        app.withObject("/libvirt").put("prefix", loaded.libvirt().prefix() + "httpdemo");
        app.withObject("/traffic").put("haproxySocket", haproxy.socket().toString());
        ObjectNode scaler = app.withObject("/scaler");
        scaler.put("minReplicas", 1).put("maxReplicas", 2).put("cooldownSeconds", 10);
        scaler.withObject("/thresholdWindow").put("windowSeconds", 10);
        scaler.withObject("/warmPool").put("size", 0);
        VmscaleConfig c = ConfigLoader.parse("apps/http/vmscale.json", json.writeValueAsString(app));
        VmscaleConfig demo = FullDemo.demoConfig(loaded, brokerDir);
        return new VmscaleConfig(demo.broker(), c.libvirt(), c.monitor(), c.provisioning(), c.scaler(), c.balancer(),
                c.guest(), c.application(), c.traffic());
    }

    int run() throws Exception {
        Files.createDirectories(outDir);
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Path log = outDir.resolve("http-events-" + stamp + ".jsonl").toAbsolutePath();
        Path png = outDir.resolve("http-chart-" + stamp + ".png").toAbsolutePath();
        try (HostConnection host = HostConnection.open(loaded.libvirt().uris().get(0))) {
            narrator.step("the HTTP application's image: Debian 12 with cloud-init, from Debian packages (cached)");
            AppImage image = AppImage.http(Home.dir(), host, line -> narrator.step("%s", line));
            narrator.step("image %s in the storage pool %s", image.disk(), AppImage.POOL);
        }
        try (HaproxyProcess haproxy = HaproxyProcess.start(Files.createTempDirectory("vmscale-http-demo-"), "web")) {
            VmscaleConfig config = config(haproxy, Files.createTempDirectory("vmscale-demo-broker-"));
            ScalerConfig s = config.scaler();
            narrator.step("HAProxy on http://127.0.0.1:%d (Runtime API %s); replicas %s-NNNN of %s, checked by %s; "
                    + "threshold-window: HIGH %.0f %% / LOW %.0f %% over %d s, cooldown %d s, %d..%d replicas",
                    haproxy.port(), haproxy.socket(), config.libvirt().prefix(), config.application().image(),
                    config.application().healthCheck().describe(), s.thresholdWindow().high(),
                    s.thresholdWindow().low(), s.thresholdWindow().windowSeconds(), s.cooldownSeconds(),
                    s.minReplicas(), s.maxReplicas());
            ChartModel chart = new ChartModel(null, s.thresholdWindow().high(), s.thresholdWindow().low());
            HttpLoad.Totals totals;
            boolean done;
            URI work = URI.create("http://127.0.0.1:" + haproxy.port() + "/work?n=" + WORK);
            try (Stack stack = Stack.start(config, out, "demo", broker -> FullDemo.watch(broker, log, chart,
                    this::decided, this::changed)); HttpLoad load = new HttpLoad(work, 16, Duration.ofMinutes(30))) {
                narrator.step("recording every event to %s", log);
                done = story(stack, config, load);
                load.rate(0);
                narrator.waitFor("the last answers", Duration.ofSeconds(40), () -> load.inFlight() == 0);
                totals = load.totals();
                stack.scaler().close(); // no replacement for what is stopped next
                for (var replica : stack.provisioner().observe().replicas()) {
                    stack.provisioner().stop(replica.domain());
                    narrator.step("stopped %s (its overlay and seed deleted)", replica.domain());
                }
            }
            ChartCommand.render(chart, "vmscale demo --app http " + stamp, png, new int[] {1400, 900});
            narrator.step("chart drawn: %s", png);
            out.printf(Locale.ROOT, "summary: scale-ups=%d scale-downs=%d requests=%d answered=%d non-2xx=%d failed=%d "
                            + "not-sent=%d p50=%.0fms p99=%.0fms chart=%s events=%s%n", ups.get(), downs.get(),
                    totals.sent(), totals.ok(), totals.non2xx(), totals.failed(), totals.unsent(), totals.p50Ms(),
                    totals.p99Ms(), png, log);
            if (totals.failed() > 0 || totals.non2xx() > 0) {
                out.printf("the last failure: %s%n", totals.lastFailure());
            }
            out.flush();
            return done && ups.get() >= 1 && downs.get() >= 1 && totals.failed() == 0 && totals.non2xx() == 0 ? 0 : 1;
        }
    }

    private boolean story(Stack stack, VmscaleConfig config, HttpLoad load) throws InterruptedException {
        Duration boot = Duration.ofSeconds(config.scaler().probeTimeoutSeconds() + 60);
        Duration react = Duration.ofSeconds(config.scaler().thresholdWindow().windowSeconds()
                + config.scaler().cooldownSeconds() + 90L);
        if (!narrator.waitFor("the first replica READY (booted, cloud-init ran the user-data, /healthz answers)", boot,
                () -> ready(stack) == 1)) {
            return false;
        }
        load(load, "low", LOW);
        narrator.pause(hold.plus(Duration.ofSeconds(config.scaler().thresholdWindow().windowSeconds())));
        load(load, "high", HIGH);
        if (!narrator.waitFor("a scale-up", react, () -> ups.get() >= 1)
                || !narrator.waitFor("the second replica READY and in HAProxy", boot, () -> ready(stack) == 2)) {
            return false;
        }
        narrator.pause(hold);
        load(load, "low", LOW);
        return narrator.waitFor("a scale-down", react, () -> downs.get() >= 1)
                && narrator.waitFor("the drained replica shut down", Duration.ofSeconds(
                        config.application().stopTimeoutSeconds() + 60L), () -> stopped.get() >= 1);
    }

    private void load(HttpLoad load, String name, double perSecond) {
        load.rate(perSecond);
        HttpLoad.Totals t = load.totals();
        narrator.step("load %s: %.1f requests/s of GET /work?n=%d (so far: %d answered, %d failed, p99 %.0f ms)", name,
                perSecond, WORK, t.ok(), t.failed(), t.p99Ms());
    }

    private static long ready(Stack stack) {
        return stack.scaler().replicas().values().stream().filter(s -> s == ReplicaState.READY).count();
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
        narrator.step("decision %s %d->%d (%s): %s", d.action(), d.fromReplicas(), d.toReplicas(), d.reasonCode(),
                d.reason());
    }

    private void changed(VmLifecycle v, String source) {
        if (source.startsWith("scaler@") && v.state() == ReplicaState.STOPPED && v.reason().startsWith("scale down")) {
            stopped.incrementAndGet();
        }
        if (source.startsWith("scaler@") || v.state() == ReplicaState.FAILED) {
            narrator.step("%s %s%s (%s)", v.domain(), v.state(), v.endpoint() == null ? "" : " at " + v.endpoint(),
                    v.reason());
        }
    }
}
