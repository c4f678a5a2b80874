package io.vmscale.cli.log;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Subscription;
import io.vmscale.broker.event.Topic;
import io.vmscale.broker.log.EventLog;
import io.vmscale.cli.common.Local;
import io.vmscale.cli.common.OpsLogin;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code vmscale ops record FILE}: every event of every topic, as JSON lines, until stopped. */
@Command(name = "record", mixinStandardHelpOptions = true,
        description = "Write every event of every topic to FILE as JSON lines (append-only, flushed per event, "
                + "rotated by size) until stopped (Ctrl-C, SIGTERM). A viewer account is enough.")
public final class RecordCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(RecordCommand.class);

    @ParentCommand
    OpsLogin ops;
    @Parameters(paramLabel = "FILE", description = "the event log")
    Path file;
    @Option(names = "--max-mb", paramLabel = "MB", defaultValue = "64",
            description = "rotate when the file grows past this (default: ${DEFAULT-VALUE}); FILE.1, FILE.2, ... keep the older events")
    long maxMb;
    @Option(names = "--keep", paramLabel = "N", defaultValue = "5", description = "rotated files kept (default: ${DEFAULT-VALUE})")
    int keep;
    @Option(names = "--replay", description = "record the replay topics (vmscale.replay.*) instead of the live ones")
    boolean replay;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        BrokerConnection connection = ops.connect(io.vmscale.broker.Role.VIEWER);
        EventLog.Writer writer;
        try {
            writer = new EventLog.Writer(file, maxMb * 1024 * 1024, keep);
        } catch (IOException e) {
            connection.close();
            throw new IOException("cannot write the event log " + file + ": " + e.getMessage(), e);
        }
        Subscription subscription = record(connection, replay, writer);
        PrintWriter out = spec.commandLine().getOut();
        out.printf("record: %s events to %s (rotated at %d MB); stop with Ctrl-C%n",
                replay ? "replayed" : "live", writer.file(), maxMb);
        out.flush();
        Local.serveUntilStopped(() -> {
            subscription.close();
            connection.close();
            writer.close();
            out.printf("record: %d events written to %s%n", writer.written(), writer.file());
            out.flush();
        }, "record");
        return 0;
    }

    /** Appends every event of the live (or replay) topics to the writer, in the order the broker routed them. */
    public static Subscription record(BrokerConnection connection, boolean replay, EventLog.Writer writer) {
        AtomicLong failures = new AtomicLong();
        return connection.subscribeAll((replay ? Topic.REPLAY_PREFIX : Topic.PREFIX) + "*", envelope -> {
            try {
                writer.append(envelope);
            } catch (IOException e) {
                if (failures.getAndIncrement() % 1000 == 0) {
                    log.error("record: cannot write {}: {}", writer.file(), e.getMessage());
                }
            }
        });
    }
}
