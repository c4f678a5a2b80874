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
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code ./vmscale balancer} and {@code monitor} in their own processes stop on SIGTERM, broker or not. */
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
    @CsvSource({"balancer, true", "balancer, false", "monitor, true", "monitor, false"})
    void stopsOnSigterm(String role, boolean brokerGone) throws Exception {
        BrokerConfig brokerConfig = TestBrokers.config(dir.resolve("data"),
                List.of(new UserConfig("component", "component-secret", "component")));
        broker = EmbeddedBroker.start(brokerConfig);
        Path config = Files.writeString(dir.resolve("c.json"), """
                {"broker": {"port": %d, "dataDir": "%s", "users": [
                  {"name": "component", "password": "component-secret", "role": "component"}]},
                 "libvirt": {"uris": ["test:///default"]}}
                """.formatted(brokerConfig.port(), dir.resolve("data")));
        Path log = dir.resolve(role + ".log");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), role, "--config", config.toString()));
        component = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        String ready = role.equals("balancer") ? "balancer: on" : "monitor: domains";
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(log).contains(ready));
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
}
