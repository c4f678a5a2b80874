package io.vmscale.cli.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.balancer.Balancer;
import io.vmscale.broker.BrokerConfig;
import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.EmbeddedBroker;
import io.vmscale.broker.Role;
import io.vmscale.broker.Subscription;
import io.vmscale.broker.TestBrokers;
import io.vmscale.broker.UserConfig;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.cli.Main;
import io.vmscale.cli.TestStack;
import io.vmscale.scaler.Scaler;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every ops command against a running broker, balancer and scaler. The scaler works a pool of
 * domains on libvirt's test driver whose metadata points at real guest servers on loopback, so
 * scale-ups are probed with real requests and scale-downs drain through real balancer stats.
 */
class OpsCommandTest {
    private static final String PREFIX = "opstest";

    @TempDir
    static Path dir;
    static TestStack stack;
    static Path config;
    static Scaler scaler;
    static Balancer balancer;

    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();

    @BeforeAll
    static void start() throws Exception {
        stack = new TestStack(dir, PREFIX, 3, """
                {"minReplicas": 1, "maxReplicas": 3, "tickMs": 200, "cooldownSeconds": 0,
                 "probeTimeoutSeconds": 10, "drainTimeoutSeconds": 5}""").startScaler();
        config = stack.config;
        scaler = stack.scaler;
        balancer = stack.balancer;
        stack.awaitReady(1);
    }

    static long ready() {
        return stack.ready();
    }

    @AfterAll
    static void stop() {
        stack.close();
    }

    int ops(String... args) {
        List<String> all = new ArrayList<>(List.of("ops", "--config", config.toString()));
        all.addAll(List.of(args));
        return Main.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                .execute(all.toArray(String[]::new));
    }

    @Test
    void scaleGoesUpAndDownThroughRealProbesAndDrains() {
        assertThat(ops("scale", "3")).as(err.toString()).isZero();
        assertThat(out.toString()).contains("scaler@").contains("scaling to 3");
        await().atMost(Duration.ofSeconds(20)).until(() -> ready() == 3);
        // the balancer hears of the third READY through the broker, a moment after the scaler counted it
        await().atMost(Duration.ofSeconds(5)).until(() -> balancer.members().size() == 3);
        assertThat(ops("scale", "1")).isZero();
        await().atMost(Duration.ofSeconds(20)).until(() -> scaler.replicas().size() == 1 && ready() == 1);
        await().atMost(Duration.ofSeconds(5)).until(() -> balancer.members().size() == 1);
    }

    @Test
    void aFailedScaleUpIsReportedAndRetriedWithBackOffNeverCountedTwice() throws Exception {
        List<ScaleDecision> failed = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (BrokerConnection viewer = stack.broker.connect(Role.VIEWER, "viewer@test");
             Subscription ignored = viewer.subscribe(ScaleDecision.class, e -> {
                 if (e.body().reasonCode().equals("ActionFailed")) {
                     failed.add(e.body());
                 }
             })) {
            assertThat(ops("max", "4")).isZero();
            assertThat(ops("scale", "4")).isZero(); // the pool has three domains
            await().atMost(Duration.ofSeconds(20)).until(() -> failed.size() >= 2);
            assertThat(failed.get(0).reason()).contains("pool exhausted").contains("trying again in 1 s");
            assertThat(failed.get(1).reason()).contains("trying again in 2 s").contains("failure 2 in a row");
            assertThat(scaler.replicas()).hasSize(3);
            assertThat(ops("scale", "1")).isZero();
            assertThat(ops("max", "3")).isZero();
            await().atMost(Duration.ofSeconds(30)).until(() -> scaler.replicas().size() == 1 && ready() == 1);
        }
    }

    @Test
    void scalerCommandsAreAnsweredAndBadOnesSayWhatIsWrong() {
        assertThat(ops("scale", "9")).isEqualTo(1);
        assertThat(err.toString()).contains("error: scale 9 is outside min..max 1..3");
        assertThat(out.toString()).as("refusals go to stderr").isEmpty();
        assertThat(ops("scale", "many")).isEqualTo(1);
        assertThat(err.toString()).contains("takes a replica count, not 'many'");
        assertThat(ops("policy", "magic")).isEqualTo(1);
        assertThat(err.toString()).contains("unknown policy 'magic'");
        assertThat(ops("dry-run", "maybe")).isEqualTo(1);
        assertThat(err.toString()).contains("dry-run takes on or off");
        assertThat(ops("min", "5")).isEqualTo(1);
        assertThat(err.toString()).contains("need 0 <= min <= max");
        assertThat(ops("scale", "9", "--json")).isEqualTo(1);
        assertThat(out.toString()).startsWith("{\"command\":\"scale\",\"ok\":false,\"answers\":[{\"responder\":\"scaler@")
                .contains("\"ok\":false,\"message\":\"scale 9 is outside min..max 1..3").contains("\"missing\":[]}");
        out.getBuffer().setLength(0);

        assertThat(ops("policy", "target-tracking")).isZero();
        assertThat(ops("max", "4")).isZero();
        assertThat(ops("pause")).isZero();
        assertThat(ops("dry-run", "on")).isZero();
        out.getBuffer().setLength(0);
        assertThat(ops("status", "--json")).as(err.toString()).isZero();
        assertThat(out.toString()).contains("\"policy\":\"target-tracking\"", "\"maxReplicas\":4", "\"paused\":true",
                "\"dryRun\":true", "\"replicas\":[{\"domain\":\"" + PREFIX + "-0000\"", "\"balancer\":{\"mode\":",
                "\"broker\":{\"journalBytes\":");
        assertThat(ops("dry-run", "off")).isZero();
        assertThat(ops("resume")).isZero();
        assertThat(ops("policy", "threshold-window")).isZero();
        assertThat(ops("max", "3")).isZero();
        out.getBuffer().setLength(0);
        assertThat(ops("status")).isZero();
        assertThat(out.toString()).contains("REPLICA", PREFIX + "-0000", "READY", "scaler: threshold-window, replicas 1..3",
                "last decisions:", "balancer: load off", "broker: journal ", "(disk guard at 90 %)");
    }

    @Test
    void balancerCommandsAreAnswered() {
        assertThat(ops("load", "custom", "0.01")).isZero();
        assertThat(out.toString()).contains("balancer@").contains("load custom 0.01");
        assertThat(ops("load", "off")).isZero();
        assertThat(ops("load", "extreme")).isEqualTo(1);
        assertThat(err.toString()).contains("error: unknown command 'extreme'");
        assertThat(ops("add", "127.0.0.1", "99999")).isEqualTo(1);
        assertThat(err.toString()).contains("error:").contains("99999");
        out.getBuffer().setLength(0);
        assertThat(ops("load", "off", "--json")).isZero();
        assertThat(out.toString()).startsWith("{\"command\":\"load\",\"ok\":true,\"answers\":[{\"responder\":\"balancer@");
        assertThat(ops("add", "127.0.0.1", "9")).isZero();
        assertThat(balancer.members()).contains(new Endpoint("127.0.0.1", 9));
        assertThat(ops("remove", "127.0.0.1", "9")).isZero();
        assertThat(balancer.members()).doesNotContain(new Endpoint("127.0.0.1", 9));
        assertThat(ops("clear")).isZero();
        assertThat(balancer.members()).isEmpty();
        assertThat(ops("refresh")).isZero();
        assertThat(out.toString()).contains("servers: 1 (1 added, 0 removed)");
        assertThat(balancer.members()).hasSize(1);
    }

    @Test
    void theShellTakesTheOriginalSyntaxAndSaysWhatIsWrong() {
        InputStream stdin = System.in;
        try {
            System.setIn(new ByteArrayInputStream(("+ 127.0.0.1 " + "9".repeat(200_000) + "\n" + """
                    + 127.0.0.1 9
                    - 127.0.0.1 9
                    custom 0.01
                    off
                    frobnicate
                    + 127.0.0.1
                    status
                    hosts
                    migrate
                    quit
                    """).getBytes(StandardCharsets.UTF_8)));
            assertThat(ops("shell")).isEqualTo(1);
        } finally {
            System.setIn(stdin);
        }
        assertThat(out.toString())
                .contains("line too long: 200012 characters; a command line is at most 1024")
                .contains("added 127.0.0.1:9")
                .contains("removed 127.0.0.1:9")
                .contains("load custom 0.01")
                .contains("unknown command 'frobnicate'")
                .contains("needs an IP address and a port")
                .contains("REPLICA")
                .contains("host(s)")
                .doesNotContain("unknown command 'hosts'")
                .doesNotContain("unknown command 'migrate'");
    }

    @Test
    void aViewerAndAWrongPasswordAreRefused() throws Exception {
        Path viewerPassword = Files.writeString(dir.resolve("view.password"), "view-secret\n");
        Path wrongPassword = Files.writeString(dir.resolve("wrong.password"), "wrong\n");
        assertThat(ops("--user", "view", "--password-file", viewerPassword.toString(), "pause")).isEqualTo(1);
        assertThat(err.toString()).contains("user 'view' may not publish admin.command");
        err.getBuffer().setLength(0);
        assertThat(ops("pause", "--user", "op", "--password-file", wrongPassword.toString())).isEqualTo(1);
        assertThat(err.toString()).contains("refused the login of user 'op'");
        err.getBuffer().setLength(0);
        assertThat(ops("pause", "--user", "op", "--password", "operator-secret")).isNotZero();
        assertThat(err.toString()).contains("--password is not taken: a password on the command line shows in ps");
        err.getBuffer().setLength(0);
        if (System.getenv("VMSCALE_PASSWORD") == null) {
            assertThat(ops("pause", "--user", "op")).isNotZero();
            assertThat(err.toString()).contains("--user op needs a password: --password-file FILE or $VMSCALE_PASSWORD");
        }
        assertThat(scaler.replicas()).isNotEmpty();
    }

    @Test
    void aComponentThatIsNotRunningIsNamed(@TempDir Path other) throws Exception {
        BrokerConfig lonely = TestBrokers.config(other, List.of(new UserConfig("op", "op-secret", "operator")));
        Path file = other.resolve("lonely.json");
        Files.writeString(file, """
                {"broker": {"port": %d, "dataDir": "%s", "users": [{"name": "op", "password": "op-secret", "role": "operator"}]}}
                """.formatted(lonely.port(), lonely.dataDir()));
        try (EmbeddedBroker ignored = EmbeddedBroker.start(lonely)) {
            // --config after the subcommand too
            int code = Main.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                    .execute("ops", "pause", "--config", file.toString(), "--timeout", "0.5");
            assertThat(code).isEqualTo(OpsCommand.NO_ANSWER);
            assertThat(err.toString()).contains("scaler: no answer within 0.5 s");
            assertThat(Main.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                    .execute("ops", "pause", "--config", file.toString(), "--timeout", "0.5", "--json"))
                    .isEqualTo(OpsCommand.NO_ANSWER);
            assertThat(out.toString()).contains("\"answers\":[],\"missing\":[{\"component\":\"scaler\",\"message\":\"scaler: "
                    + "no answer within 0.5 s");
        }
    }

}
