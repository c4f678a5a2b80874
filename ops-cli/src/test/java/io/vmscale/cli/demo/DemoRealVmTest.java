package io.vmscale.cli.demo;

import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.Envelope;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.broker.log.EventLog;
import io.vmscale.cli.Main;
import io.vmscale.cli.config.ConfigLoader;
import io.vmscale.cli.log.EventLogFlowTest;
import io.vmscale.scaler.Policies;
import io.vmscale.scaler.ScalerConfig;
import io.vmscale.scaler.Simulation;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code ./vmscale demo} as a user runs it, on real VMs (qemu:///system, the shipped configuration):
 * a scale-up and a scale-down with no wrong and no lost answer, a chart and an event log. The log
 * tells the true story: the only UP before the load is high is the one to reach the minimum, exactly
 * one UP while the load is high, exactly one DOWN while it is low after that, no sample above 100 %;
 * and the same policy simulated over that log takes the decisions the live scaler took.
 */
class DemoRealVmTest {
    private static final Pattern SUMMARY = Pattern.compile(
            "summary: scale-ups=(\\d+) scale-downs=(\\d+) answers=(\\d+) wrong=(\\d+) lost=(\\d+) chart=(\\S+) events=(\\S+)");

    @Test
    void theDemoScalesUpAndDownWithoutLosingAnAnswer(@TempDir Path dir) throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                .execute("demo", "--out", dir.toString(), "--hold", "3");
        String[] lines = out.toString().strip().split("\n");
        String last = lines[lines.length - 1];
        assertThat(code).as(out + "\n" + err).isZero();
        Matcher summary = SUMMARY.matcher(last);
        assertThat(summary.matches()).as(last).isTrue();
        assertThat(Integer.parseInt(summary.group(1))).isGreaterThanOrEqualTo(1);
        assertThat(Integer.parseInt(summary.group(2))).isGreaterThanOrEqualTo(1);
        assertThat(Long.parseLong(summary.group(3))).isPositive();
        assertThat(summary.group(4)).isEqualTo("0");
        assertThat(summary.group(5)).isEqualTo("0");
        BufferedImage chart = ImageIO.read(Path.of(summary.group(6)).toFile());
        assertThat(chart.getWidth()).isEqualTo(1400);
        Path log = Path.of(summary.group(7));
        assertThat(log).exists();

        EventLog.Contents events = EventLog.read(log);
        assertThat(events.badLines()).isZero();
        List<String> story = story(events.events());
        assertThat(story).as("decisions with the load mode the balancer last reported before each")
                .containsExactly("UP BelowMinReplicas off", "UP AboveHighThreshold high", "DOWN BelowLowThreshold low");
        assertThat(events.events()).extracting(Envelope::body).filteredOn(b -> b instanceof CpuSample)
                .extracting(b -> ((CpuSample) b).cpuPercent()).isNotEmpty().allMatch(cpu -> cpu <= 100.0);
        // the scale-up took the warm pool's paused replica: READY within a tick, answering through the balancer next
        Envelope<? extends Event> up = events.events().stream().filter(e -> e.body() instanceof ScaleDecision d
                && d.reasonCode().equals("AboveHighThreshold")).findFirst().orElseThrow();
        assertThat(((ScaleDecision) up.body()).reason()).contains(VmLifecycle.FROM_WARM_POOL);
        VmLifecycle ready = events.events().stream().filter(e -> !e.ts().isBefore(up.ts())
                        && e.body() instanceof VmLifecycle v && v.state() == ReplicaState.READY)
                .map(e -> (VmLifecycle) e.body()).findFirst().orElseThrow();
        assertThat(ready.reason()).startsWith(VmLifecycle.FROM_WARM_POOL + " (paused)");
        assertThat(ready.warmStart()).as("its READY says it comes back warm").isTrue();
        Instant readyAt = events.events().stream().filter(e -> e.body() == ready).findFirst().orElseThrow().ts();
        assertThat(Duration.between(up.ts(), readyAt)).as("decision to READY").isLessThan(Duration.ofSeconds(1));
        Instant firstAnswers = events.events().stream().filter(e -> e.ts().isAfter(readyAt)
                        && e.body() instanceof LbStats l && l.servers().containsKey(ready.endpoint().toString())
                        && l.servers().get(ready.endpoint().toString()).answered() > 0)
                .map(Envelope::ts).findFirst().orElseThrow();
        assertThat(Duration.between(up.ts(), firstAnswers)).as("decision to answers in lb.stats (every second)")
                .isLessThan(Duration.ofMillis(2500));

        ScalerConfig scaler = FullDemo.demoConfig(ConfigLoader.defaults(), dir).scaler();
        Simulation.Report report = Simulation.run(events.events(), Policies.of(scaler), scaler,
                scaler.thresholdWindow().high());
        assertThat(actions(report.simulated())).as("simulated over %s (boot %s)%n%s", log, report.bootTime(),
                        EventLogFlowTest.timeline(events.events())).isEqualTo(actions(report.recorded()))
                .contains("UP AboveHighThreshold", "DOWN BelowLowThreshold");
        Files.copy(Path.of(summary.group(6)), Path.of("target", "demo-chart.png"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /** Every UP, DOWN and REPLACE with the load mode of the last lb.stats before it ("off" before any). */
    static List<String> story(List<Envelope<? extends Event>> events) {
        String mode = "off";
        List<String> story = new java.util.ArrayList<>();
        for (Envelope<? extends Event> e : events) {
            if (e.body() instanceof LbStats stats) {
                mode = stats.mode();
            } else if (e.body() instanceof ScaleDecision d && d.action() != ScaleAction.HOLD) {
                story.add(d.action() + " " + d.reasonCode() + " " + mode);
            }
        }
        return story;
    }

    private static List<String> actions(Simulation.Outcome outcome) {
        return outcome.decisions().stream().filter(s -> s.decision().action() != ScaleAction.REPLACE)
                .map(s -> s.decision().action() + " " + s.decision().reasonCode()).toList();
    }
}
