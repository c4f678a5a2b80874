package io.vmscale.cli.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.BrokerConfig;
import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.EmbeddedBroker;
import io.vmscale.broker.Role;
import io.vmscale.broker.TestBrokers;
import io.vmscale.broker.UserConfig;
import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.Envelope;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.EventType;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.Topic;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.broker.log.EventLog;
import io.vmscale.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ops replay --live} never executes recorded commands unless asked with {@code --with-commands}. */
class ReplayCommandTest {
    @TempDir
    Path dir;
    private EmbeddedBroker broker;
    private Path config;
    private Path log;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeEach
    void start() throws Exception {
        BrokerConfig brokerConfig = TestBrokers.config(dir.resolve("data"), List.of(
                new UserConfig("component", "component-secret", "component"),
                new UserConfig("op", "operator-secret", "operator")));
        broker = EmbeddedBroker.start(brokerConfig);
        config = dir.resolve("c.json");
        Files.writeString(config, """
                {"broker": {"port": %d, "dataDir": "%s", "users": [
                  {"name": "component", "password": "component-secret", "role": "component"},
                  {"name": "op", "password": "operator-secret", "role": "operator"}]}}
                """.formatted(brokerConfig.port(), dir.resolve("data")));
        log = dir.resolve("events.jsonl");
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        try (EventLog.Writer writer = new EventLog.Writer(log, 1 << 20, 1)) {
            writer.append(Envelope.of(new AdminCommand("r1", Topic.REPLY_PREFIX + "r1", "scaler", "scale", List.of("4")),
                    t, "ops@elsewhere", 1));
            writer.append(Envelope.of(new VmLifecycle("vmscale-0001", "h", null, ReplicaState.STOPPED, "recorded"),
                    t.plusMillis(1), "scaler@elsewhere", 2));
        }
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    private int ops(String... args) {
        CommandLine commandLine = Main.commandLine();
        commandLine.setOut(new PrintWriter(out));
        commandLine.setErr(new PrintWriter(err));
        String[] all = new String[args.length + 3];
        all[0] = "ops";
        all[1] = "--config";
        all[2] = config.toString();
        System.arraycopy(args, 0, all, 3, args.length);
        return commandLine.execute(all);
    }

    /** What the live topics carried, in routing order, until the recorded lifecycle event. */
    private List<EventType> replayLive(String... extra) throws Exception {
        List<Envelope<? extends Event>> seen = new CopyOnWriteArrayList<>();
        try (BrokerConnection live = broker.connect(Role.COMPONENT, "scaler@test")) {
            live.subscribeAll(Topic.PREFIX + "*", seen::add);
            String[] args = new String[3 + extra.length];
            args[0] = "replay";
            args[1] = log.toString();
            args[2] = "--live";
            System.arraycopy(extra, 0, args, 3, extra.length);
            assertThat(ops(args)).as(err.toString()).isZero();
            await().atMost(Duration.ofSeconds(10)).until(() -> seen.stream().anyMatch(e -> e.type() == EventType.VM_LIFECYCLE));
        }
        return seen.stream().map(Envelope::type).toList();
    }

    @Test
    void aLiveReplaySkipsTheRecordedCommandsAndSaysSo() throws Exception {
        assertThat(replayLive("--speed", "0")).containsExactly(EventType.VM_LIFECYCLE);
        assertThat(out.toString()).contains("replay: 1 events").contains(
                "1 recorded admin command(s) not sent to the live components (--with-commands sends them)");
    }

    @Test
    void withCommandsALiveReplaySendsThemToo() throws Exception {
        assertThat(replayLive("--speed", "0", "--with-commands"))
                .containsExactly(EventType.ADMIN_COMMAND, EventType.VM_LIFECYCLE);
        assertThat(out.toString()).contains("replay: 2 events");
    }

    @Test
    void withCommandsWithoutLiveIsAUsageError() {
        assertThat(ops("replay", log.toString(), "--with-commands")).isNotZero();
        assertThat(err.toString()).contains("--with-commands goes with --live");
    }
}
