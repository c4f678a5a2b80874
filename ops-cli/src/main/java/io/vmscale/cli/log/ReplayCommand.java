package io.vmscale.cli.log;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Role;
import io.vmscale.broker.event.Envelope;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.EventType;
import io.vmscale.broker.event.Topic;
import io.vmscale.broker.log.EventLog;
import io.vmscale.cli.common.OpsLogin;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code vmscale ops replay FILE}: publishes a recorded log again, each event unchanged (type,
 * timestamp, source, sequence number, body), at the recorded pace divided by {@code --speed}.
 * Under {@code vmscale.replay.*} unless {@code --live}: live components never see a replay unless asked.
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = "Publish a recorded event log again under vmscale.replay.* (where 'ops chart --replay' shows "
                + "it), at the recorded pace divided by --speed. Live components never see it unless --live is given "
                + "(which needs a component account and can drive real VMs).")
public final class ReplayCommand implements Callable<Integer> {
    @ParentCommand
    OpsLogin ops;
    @Parameters(paramLabel = "FILE", description = "the event log")
    Path file;
    @Option(names = "--speed", paramLabel = "X", defaultValue = "1",
            description = "X times the recorded pace; 0 for as fast as possible (default: ${DEFAULT-VALUE})")
    double speed;
    @Option(names = "--live", description = "publish on the live topics: the balancer and the scaler act on the events")
    boolean live;
    @Option(names = "--with-commands", description = "with --live: send the recorded admin commands again too "
            + "(they are executed); without it they are skipped")
    boolean withCommands;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (!(speed >= 0 && speed <= 10_000)) {
            throw new IllegalArgumentException("--speed must be from 0 (as fast as possible) to 10000, got " + speed);
        }
        if (withCommands && !live) {
            throw new IllegalArgumentException("--with-commands goes with --live (a replay off the live topics "
                    + "always carries its commands, where nothing executes them)");
        }
        EventLog.Contents contents = EventLog.read(file);
        PrintWriter out = spec.commandLine().getOut();
        contents.problems().forEach(p -> out.println("replay: skipped " + p));
        try (BrokerConnection connection = ops.connect(live ? Role.COMPONENT : Role.OPERATOR)) {
            Replayed replayed = replay(contents.events(), connection, speed, live, withCommands);
            out.printf("replay: %d events from %s to %s (%d bad lines skipped)%n", replayed.sent(), file,
                    live ? "the LIVE topics" : Topic.REPLAY_PREFIX + "*", contents.badLines());
            if (replayed.commandsSkipped() > 0) {
                out.printf("replay: %d recorded admin command(s) not sent to the live components "
                        + "(--with-commands sends them)%n", replayed.commandsSkipped());
            }
        }
        out.flush();
        return 0;
    }

    /** What a replay sent, and the recorded commands it kept from the live components. */
    record Replayed(long sent, long commandsSkipped) {
    }

    /**
     * Publishes the events in order, keeping their recorded spacing divided by the speed (0: no
     * waiting). On the live topics, recorded admin commands are skipped unless {@code withCommands}:
     * replaying a log must not execute what an operator once typed.
     */
    static Replayed replay(List<Envelope<? extends Event>> events, BrokerConnection connection, double speed,
                           boolean live, boolean withCommands) throws InterruptedException {
        long started = System.nanoTime();
        long sent = 0;
        long skipped = 0;
        Envelope<? extends Event> first = events.isEmpty() ? null : events.get(0);
        for (Envelope<? extends Event> envelope : events) {
            Topic topic = envelope.type().topic().orElse(null);
            if (topic == null) {
                continue; // admin results go to reply addresses, never recorded
            }
            if (live && !withCommands && envelope.type() == EventType.ADMIN_COMMAND) {
                skipped++;
                continue;
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
        return new Replayed(sent, skipped);
    }
}
