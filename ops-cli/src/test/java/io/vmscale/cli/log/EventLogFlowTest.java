package io.vmscale.cli.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Role;
import io.vmscale.broker.Subscription;
import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.Envelope;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.broker.event.Topic;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.broker.log.EventLog;
import io.vmscale.cli.Main;
import io.vmscale.cli.TestStack;
import io.vmscale.cli.chart.ChartCommand;
import io.vmscale.cli.chart.ChartModel;
import io.vmscale.scaler.Policies;
import io.vmscale.scaler.Simulation;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Record a scale-up and a scale-down of the live scaler, then: replay the log (same events, same
 * order, on the replay topics only), simulate the same policy over it (same decisions), chart it.
 * The samples are published by the test as a monitor would, from a total load split evenly over
 * the READY replicas (the test driver's domains burn no CPU).
 */
public class EventLogFlowTest {
    @TempDir
    Path dir;

    @Test
    void recordReplaySimulateAndChartOneScaleUpAndDown() throws Exception {
        Path log = dir.resolve("events.jsonl");
        try (TestStack stack = new TestStack(dir, "flowtest", 2, """
                {"minReplicas": 1, "maxReplicas": 2, "tickMs": 250, "cooldownSeconds": 2, "probeTimeoutSeconds": 10,
                 "drainTimeoutSeconds": 5, "thresholdWindow": {"high": 70, "low": 20, "windowSeconds": 2}}""");
             BrokerConnection recorderConnection = stack.broker.connect(Role.VIEWER, "record@test");
             EventLog.Writer writer = new EventLog.Writer(log, 1 << 20, 2);
             BrokerConnection monitor = stack.broker.connect(Role.COMPONENT, BrokerConnection.source("monitor"))) {
            Subscription recording = RecordCommand.record(recorderConnection, false, writer);
            List<ScaleDecision> actions = new CopyOnWriteArrayList<>();
            monitor.subscribe(ScaleDecision.class, e -> {
                if (e.body().action() != ScaleAction.HOLD) {
                    actions.add(e.body());
                }
            });
            stack.startScaler(); // after the recording and the subscription: they see its first decision
            double[] totalLoad = {0};
            java.util.concurrent.atomic.AtomicInteger published = new java.util.concurrent.atomic.AtomicInteger();
            ScheduledExecutorService samples = Executors.newSingleThreadScheduledExecutor();
            try {
                samples.scheduleAtFixedRate(() -> {
                    List<String> ready = stack.readyDomains();
                    published.incrementAndGet();
                    for (String domain : ready) {
                        monitor.publish(new CpuSample(TestStack.URI, domain, "RUNNING", 1, 0,
                                Math.min(100, totalLoad[0] / ready.size()), 200));
                    }
                }, 0, 200, TimeUnit.MILLISECONDS);
                stack.awaitReady(1);
                totalLoad[0] = 90; // one replica at 90 %: above HIGH
                stack.awaitReady(2);
                int upAt = published.get();
                // high load goes on for a while after the scale-up (45 % each), as it would
                await().atMost(Duration.ofSeconds(10)).until(() -> published.get() >= upAt + 10);
                totalLoad[0] = 30; // two at 15 %: below LOW
                await().atMost(Duration.ofSeconds(20)).until(() -> actions.stream()
                        .anyMatch(d -> d.action() == ScaleAction.DOWN));
                stack.awaitReady(1);
                int after = published.get();
                // a log goes on after the last decision: three more seconds of samples
                await().atMost(Duration.ofSeconds(10)).until(() -> published.get() >= after + 15);
            } finally {
                samples.shutdownNow();
                samples.awaitTermination(5, TimeUnit.SECONDS);
            }
            recording.close();

            EventLog.Contents recorded = EventLog.read(log);
            assertThat(recorded.badLines()).isZero();
            assertThat(recorded.events()).hasSizeGreaterThan(20);
            assertThat(types(recorded.events())).contains("cpu.sample", "vm.lifecycle", "scale.decision", "lb.stats");

            // replay: the same events, in the same order, on vmscale.replay.* and nowhere else
            List<Envelope<? extends Event>> replayed = new CopyOnWriteArrayList<>();
            List<Envelope<? extends Event>> liveLifecycle = new CopyOnWriteArrayList<>();
            try (BrokerConnection viewer = stack.broker.connect(Role.VIEWER, "viewer@test");
                 Subscription replays = viewer.subscribeAll(Topic.REPLAY_PREFIX + "*", replayed::add);
                 Subscription live = viewer.subscribe(VmLifecycle.class, liveLifecycle::add)) {
                StringWriter out = new StringWriter();
                int code = Main.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(out, true))
                        .execute("ops", "--config", stack.config.toString(), "replay", log.toString(), "--speed", "0");
                assertThat(code).as(out.toString()).isZero();
                assertThat(out.toString()).contains("replay: " + recorded.events().size() + " events");
                await().atMost(Duration.ofSeconds(10)).until(() -> replayed.size() == recorded.events().size());
                assertThat(replayed).containsExactlyElementsOf(recorded.events());
                assertThat(liveLifecycle).isEmpty();
            }
            assertThat(stack.ready()).isEqualTo(1);

            // simulate: the same policy over the log takes the same decisions
            Simulation.Report report = Simulation.run(recorded.events(), Policies.of(stack.loaded.scaler()),
                    stack.loaded.scaler(), stack.loaded.scaler().thresholdWindow().high());
            List<String> live = actions.stream().map(d -> d.action() + " " + d.fromReplicas() + "->" + d.toReplicas()
                    + " " + d.reasonCode()).toList();
            List<String> simulated = report.simulated().decisions().stream().map(s -> s.decision().action() + " "
                    + s.decision().fromReplicas() + "->" + s.decision().toReplicas() + " " + s.decision().reasonCode()).toList();
            assertThat(live).containsExactly("UP 0->1 BelowMinReplicas", "UP 1->2 AboveHighThreshold",
                    "DOWN 2->1 BelowLowThreshold");
            assertThat(simulated).as("simulated (boot %s) vs live; the log without samples and stats:%n%s",
                    report.bootTime(), timeline(recorded.events())).isEqualTo(live);
            assertThat(report.recorded().count(ScaleAction.UP)).isEqualTo(2);
            assertThat(report.simulated().replicaSeconds()).isPositive();
            StringWriter out = new StringWriter();
            assertThat(Main.commandLine().setOut(new PrintWriter(out, true)).execute("ops", "--config",
                    stack.config.toString(), "simulate", log.toString(), "--policy", "target-tracking")).isZero();
            assertThat(out.toString()).contains("policy target-tracking", "recorded (live)", "simulated");

            // chart: the dataset has the series, and the PNG is drawn without a display
            ChartModel.Snapshot chart = ChartCommand.fromLog(log, 70, 20).snapshot();
            assertThat(chart.cpu()).containsOnlyKeys("flowtest-0000", "flowtest-0001");
            assertThat(chart.replicas()).extracting(ChartModel.Point::value).contains(1.0, 2.0).last().isEqualTo(1.0);
            assertThat(chart.markers()).extracting(ChartModel.Marker::label)
                    .anyMatch(l -> l.startsWith("UP 1\u21922 AboveHighThreshold"))
                    .anyMatch(l -> l.startsWith("DOWN 2\u21921 BelowLowThreshold"));
            assertThat(chart.throughput()).isNotEmpty();
            assertThat(chart.high()).isEqualTo(70);
            Path png = dir.resolve("chart.png");
            assertThat(Main.commandLine().setOut(new PrintWriter(out, true)).execute("ops", "--config",
                    stack.config.toString(), "chart", "--log", log.toString(), "--png", png.toString())).isZero();
            BufferedImage image = ImageIO.read(png.toFile());
            assertThat(image.getWidth()).isEqualTo(1400);
            assertThat(image.getHeight()).isEqualTo(900);
            Files.copy(png, Path.of("target", "event-log-flow-chart.png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Lifecycle events and decisions (a run of like HOLDs once), one a line, for a failure message. */
    public static String timeline(List<Envelope<? extends Event>> events) {
        StringBuilder out = new StringBuilder();
        String last = "";
        for (Envelope<? extends Event> e : events) {
            String line = e.body() instanceof VmLifecycle v ? v.domain() + " " + v.state() + " (" + v.reason() + ")"
                    : e.body() instanceof ScaleDecision d ? d.action() + " " + d.reasonCode() : null;
            if (line != null && !line.equals(last)) {
                out.append(e.ts()).append(' ').append(line).append('\n');
                last = line;
            }
        }
        return out.toString();
    }

    private static List<String> types(List<Envelope<? extends Event>> events) {
        return events.stream().map(e -> e.type().wireName()).distinct().toList();
    }
}
