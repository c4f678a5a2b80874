package io.vmscale.cli;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Role;
import io.vmscale.broker.Topic;
import io.vmscale.broker.event.Envelope;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.log.EventLog;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code vmscale ops replay FILE}: publishes a recorded log again, each event unchanged (type,
 * timestamp, source, sequence number, body), at the recorded pace divided by {@code --speed}.
 * Under {@code vmscale.replay.*} unless {@code --live}: live components never see a replay unless asked.
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = "Publish a recorded event log again under vmscale.replay.* (where 'ops chart --replay' shows "
                + "it), at the recorded pace divided by --speed. Live components never see it unless --live is given "
                + "(which needs a component account and can drive real VMs).")
final class ReplayCommand implements Callable<Integer> {
    @ParentCommand
    OpsCommand ops;
    @Parameters(paramLabel = "FILE", description = "the event log")
    Path file;
    @Option(names = "--speed", paramLabel = "X", defaultValue = "1",
            description = "X times the recorded pace; 0 for as fast as possible (default: ${DEFAULT-VALUE})")
    double speed;
    @Option(names = "--live", description = "publish on the live topics: the balancer and the scaler act on the events")
    boolean live;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (!(speed >= 0 && speed <= 10_000)) {
            throw new IllegalArgumentException("--speed must be from 0 (as fast as possible) to 10000, got " + speed);
        }
        EventLog.Contents contents = EventLog.read(file);
        PrintWriter out = spec.commandLine().getOut();
        contents.problems().forEach(p -> out.println("replay: skipped " + p));
        try (BrokerConnection connection = ops.connect(live ? Role.COMPONENT : Role.OPERATOR)) {
            long sent = replay(contents.events(), connection, speed, live);
            out.printf("replay: %d events from %s to %s (%d bad lines skipped)%n", sent, file,
                    live ? "the LIVE topics" : Topic.REPLAY_PREFIX + "*", contents.badLines());
        }
        out.flush();
        return 0;
    }

    /** Publishes the events in order, keeping their recorded spacing divided by the speed (0: no waiting). */
    static long replay(List<Envelope<? extends Event>> events, BrokerConnection connection, double speed, boolean live)
            throws InterruptedException {
        long started = System.nanoTime();
        long sent = 0;
        Envelope<? extends Event> first = events.isEmpty() ? null : events.get(0);
        for (Envelope<? extends Event> envelope : events) {
            Topic topic = envelope.type().topic().orElse(null);
            if (topic == null) {
                continue; // admin results go to reply addresses, never recorded
            }
            if (speed > 0) {
                long due = (long) (Duration.between(first.ts(), envelope.ts()).toNanos() / speed);
                long wait = due - (System.nanoTime() - started);
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
            }
            connection.republish(live ? topic.address() : topic.replayAddress(), envelope);
            sent++;
        }
        return sent;
    }
}
