package io.vmscale.cli.log;

import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.log.EventLog;
import io.vmscale.cli.common.OpsLogin;
import io.vmscale.cli.config.VmscaleConfig;
import io.vmscale.scaler.Policies;
import io.vmscale.scaler.ScalerConfig;
import io.vmscale.scaler.Simulation;
import io.vmscale.scaler.policy.ScalingPolicy;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code vmscale ops simulate FILE --policy NAME}: a policy over recorded samples, offline. */
@Command(name = "simulate", mixinStandardHelpOptions = true,
        description = "Run a scaling policy over the samples of a recorded event log, offline (no broker, no VMs), "
                + "and print the decisions it would have taken, the overload seconds and the replica-seconds, next to "
                + "what the live scaler did. The load is the log's (sum of the READY replicas' CPU), spread evenly over "
                + "the simulated replicas; a scale-up serves after the boot time the log shows.")
public final class SimulateCommand implements Callable<Integer> {
    @ParentCommand
    OpsLogin ops;
    @Parameters(paramLabel = "FILE", description = "the event log")
    Path file;
    @Option(names = "--policy", paramLabel = "NAME",
            description = "threshold-window or target-tracking (default: scaler.policy of the configuration)")
    String policyName;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        VmscaleConfig c = ops.config();
        ScalerConfig scaler = c.scaler();
        ScalingPolicy policy = Policies.named(policyName != null ? policyName : scaler.policy(), scaler);
        EventLog.Contents contents = EventLog.read(file);
        double high = scaler.thresholdWindow().high();
        Simulation.Report report = Simulation.run(contents.events(), policy, scaler, high);
        PrintWriter out = spec.commandLine().getOut();
        contents.problems().forEach(p -> out.println("simulate: skipped " + p));
        out.printf(Locale.ROOT, "simulate: %s: %d events over %.0f s (%d bad lines skipped); boot time %.1f s (%s)%n",
                file, report.events(), Duration.between(report.start(), report.end()).toMillis() / 1000.0,
                contents.badLines(), report.bootTime().toMillis() / 1000.0,
                report.bootsMeasured() == 0 ? "no start in the log: assumed"
                        : "median of " + report.bootsMeasured() + " start(s) in the log");
        out.printf(Locale.ROOT, "policy %s, replicas %d..%d, cooldown %d s, tick %d ms; overload = mean CPU above %.0f %%%n",
                policy.name(), scaler.minReplicas(), scaler.maxReplicas(), scaler.cooldownSeconds(), scaler.tickMs(), high);
        out.println("decisions it would have taken:");
        for (Simulation.Step step : report.simulated().decisions()) {
            out.printf(Locale.ROOT, "  +%7.1f s  %-5s %d->%d  %s: %s%n",
                    Duration.between(report.start(), step.at()).toMillis() / 1000.0, step.decision().action(),
                    step.decision().fromReplicas(), step.decision().toReplicas(), step.decision().reasonCode(),
                    step.decision().reason());
        }
        if (report.simulated().decisions().isEmpty()) {
            out.println("  (none)");
        }
        out.printf(Locale.ROOT, "%-18s %5s %5s %7s %11s %11s%n", "", "ups", "downs", "replace", "overload s", "replica-s");
        row(out, "recorded (live)", report.recorded());
        row(out, "simulated", report.simulated());
        out.flush();
        return 0;
    }

    private static void row(PrintWriter out, String name, Simulation.Outcome o) {
        out.printf(Locale.ROOT, "%-18s %5d %5d %7d %11.1f %11.1f%n", name, o.count(ScaleAction.UP),
                o.count(ScaleAction.DOWN), o.count(ScaleAction.REPLACE), o.overloadSeconds(), o.replicaSeconds());
    }
}
