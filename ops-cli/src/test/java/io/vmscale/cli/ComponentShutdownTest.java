package io.vmscale.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.BrokerConfig;
import io.vmscale.broker.EmbeddedBroker;
import io.vmscale.broker.TestBrokers;
import io.vmscale.broker.UserConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code ./vmscale balancer}, {@code monitor} and {@code scaler} in their own processes stop on SIGTERM, broker or
 * not; the scaler alone answers an operator.
 */
class ComponentShutdownTest {
    /** What "within a few seconds" means here. */
    private static final Duration STOPS_WITHIN = Duration.ofSeconds(4);

    @TempDir
    Path dir;
    private EmbeddedBroker broker;
    private Process component;

    @AfterEach
    void stop() {
        if (component != null) {
            component.destroyForcibly();
        }
        if (broker != null) {
            broker.close();
        }
    }

    @ParameterizedTest(name = "{0}, broker gone: {1}")
    @CsvSource({"balancer, true", "balancer, false", "monitor, true", "monitor, false", "scaler, true",
            "scaler, false"})
    void stopsOnSigterm(String role, boolean brokerGone) throws Exception {
        Path config = config();
        int metricsPort = io.vmscale.cli.common.Local.freeTcpPort();
        Path log = start(role, config, "--metrics-port", Integer.toString(metricsPort));
        // its own /metrics: the build (with its role) and the JVM's and process's metrics
        String metrics = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).contains("vmscale_build_info{component=\"" + role + "\",version=\"")
                .contains("jvm_memory_used_bytes{area=\"heap\"}").contains("process_cpu_seconds_total");
        if (brokerGone) {
            broker.close();
            broker = null;
            await().atMost(Duration.ofSeconds(15)).until(() -> Files.readString(log).contains("is away"));
        }
        long t0 = System.nanoTime();
        component.destroy(); // SIGTERM
        boolean exited = component.waitFor(STOPS_WITHIN.toMillis(), TimeUnit.MILLISECONDS);
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        System.out.printf("%s stopped on SIGTERM in %d ms (broker %s)%n", role, took.toMillis(),
                brokerGone ? "gone" : "here");
        assertThat(exited).as(role + " stopped within " + STOPS_WITHIN + "; its log:\n" + Files.readString(log)).isTrue();
    }

    @Test
    void theScalerAloneAnswersAnOperatorAndDecides() throws Exception {
        Path config = config();
        Path log = start("scaler", config);
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        int code = Main.commandLine().setOut(new java.io.PrintWriter(out, true)).setErr(new java.io.PrintWriter(err, true))
                .execute("ops", "pause", "--config", config.toString(), "--json");
        assertThat(code).as(err + "\n" + Files.readString(log)).isZero();
        assertThat(out.toString()).contains("\"responder\":\"scaler@").contains("\"message\":\"paused: ");
        // it decides on its own: below the minimum (nothing acted on while paused)
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            out.getBuffer().setLength(0);
            int status = Main.commandLine().setOut(new java.io.PrintWriter(out, true))
                    .setErr(new java.io.PrintWriter(err, true))
                    .execute("ops", "status", "--config", config.toString(), "--json", "--timeout", "2");
            return status == 3 // the balancer does not run: named as missing; the scaler answered
                    && out.toString().contains("BelowMinReplicas");
        });
    }

    @Test
    void aStandbyScalerActsOnlyOnceTheActiveOneIsKilled() throws Exception {
        Path config = config();
        Path log = start("scaler", config);
        Process active = component;
        Path standbyLog = dir.resolve("standby.log");
        Process standby = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "scaler", "--config", config.toString())).redirectErrorStream(true)
                .redirectOutput(standbyLog.toFile()).start();
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(standbyLog).contains("standing by"));
            // one scaler answers the operator: the one holding the lease
            java.io.StringWriter out = new java.io.StringWriter();
            int code = Main.commandLine().setOut(new java.io.PrintWriter(out, true))
                    .setErr(new java.io.PrintWriter(new java.io.StringWriter(), true))
                    .execute("ops", "pause", "--config", config.toString(), "--json", "--timeout", "2");
            assertThat(code).as(out.toString()).isZero();
            assertThat(out.toString().split("\"responder\":", -1)).as("answers: " + out).hasSize(2);
            assertThat(Files.readString(standbyLog)).doesNotContain("holding the lease");

            long t0 = System.nanoTime();
            active.destroyForcibly(); // kill -9: its socket closes, the broker hands the lease on
            await().atMost(Duration.ofSeconds(15)).until(() -> Files.readString(standbyLog).contains("holding the lease"));
            System.out.printf("the standby scaler took over %d ms after the active one was killed%n",
                    (System.nanoTime() - t0) / 1_000_000);
            out.getBuffer().setLength(0);
            assertThat(Main.commandLine().setOut(new java.io.PrintWriter(out, true))
                    .setErr(new java.io.PrintWriter(new java.io.StringWriter(), true))
                    .execute("ops", "resume", "--config", config.toString(), "--json", "--timeout", "2")).isZero();
            assertThat(out.toString().split("\"responder\":", -1)).as("answers: " + out).hasSize(2);
        } finally {
            standby.destroyForcibly();
            standby.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /**
     * Run by systemd as a unit of {@code Type=notify}: each role says {@code READY=1} on the notify socket once it
     * serves (the broker takes connections, the others' metrics answer), and {@code STOPPING=1} on SIGTERM.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"broker", "monitor", "scaler", "balancer"})
    void tellsSystemdWhenItIsReadyAndWhenItStops(String role) throws Exception {
        Path config = config();
        int brokerPort = io.vmscale.cli.common.Local.freeTcpPort();
        if (role.equals("broker")) { // a broker of its own, in the process under test
            broker.close();
            broker = null;
            Files.writeString(config, Files.readString(config).replaceFirst("\"port\": \\d+", "\"port\": " + brokerPort));
        }
        int metricsPort = io.vmscale.cli.common.Local.freeTcpPort();
        try (NotifySocket notify = new NotifySocket(dir.resolve("notify.sock"))) {
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                    Main.class.getName(), role, "--config", config.toString(), "--metrics-port", Integer.toString(metricsPort)));
            Path log = dir.resolve(role + ".log");
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
            builder.environment().put("NOTIFY_SOCKET", notify.path.toString());
            component = builder.start();
            String ready = notify.receive(Duration.ofSeconds(60)).orElseThrow(() -> new AssertionError(
                    "no READY=1 within 60 s; its log:\n" + readQuietly(log)));
            assertThat(ready).contains("READY=1");
            // serving at that moment, not later
            if (role.equals("broker")) {
                try (java.net.Socket s = new java.net.Socket("127.0.0.1", brokerPort)) {
                    assertThat(s.isConnected()).isTrue();
                }
            }
            int status = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).build(),
                    java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
            assertThat(status).isEqualTo(200);
            component.destroy(); // SIGTERM
            String said;
            do { // a scaler may still say its STATUS first
                said = notify.receive(Duration.ofSeconds(10)).orElseThrow(() -> new AssertionError(
                        "no STOPPING=1 within 10 s of SIGTERM; its log:\n" + readQuietly(log)));
            } while (!said.contains("STOPPING=1") && said.startsWith("STATUS="));
            assertThat(said).isEqualTo("STOPPING=1");
            assertThat(component.waitFor(STOPS_WITHIN.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        }
    }

    private static String readQuietly(Path log) {
        try {
            return Files.readString(log);
        } catch (java.io.IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    /** A broker with a component and an operator, and a configuration for it on libvirt's test driver. */
    private Path config() throws Exception {
        BrokerConfig brokerConfig = TestBrokers.config(dir.resolve("data"),
                List.of(new UserConfig("component", "component-secret", "component"),
                        new UserConfig("operator", "operator-secret", "operator")));
        broker = EmbeddedBroker.start(brokerConfig);
        return Files.writeString(dir.resolve("c.json"), """
                {"broker": {"port": %d, "dataDir": "%s", "users": [
                  {"name": "component", "password": "component-secret", "role": "component"},
                  {"name": "operator", "password": "operator-secret", "role": "operator"}]},
                 "libvirt": {"uris": ["test:///default"]},
                 "provisioning": {"mode": "pool"}}
                """.formatted(brokerConfig.port(), dir.resolve("data")));
    }

    /** The component in a process of its own, once it says it runs; its output in {@code ROLE.log}. */
    private Path start(String role, Path config, String... more) throws Exception {
        Path log = dir.resolve(role + ".log");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), role, "--config", config.toString()));
        command.addAll(List.of(more));
        component = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        String ready = more.length > 0 ? "Prometheus metrics on" : switch (role) {
            case "balancer" -> "balancer: on";
            case "monitor" -> "monitor: domains";
            default -> "scaler: threshold-window";
        };
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(log).contains(ready));
        return log;
    }
}
