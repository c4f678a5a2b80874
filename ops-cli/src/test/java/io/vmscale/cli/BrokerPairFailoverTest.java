package io.vmscale.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.BrokerConfig;
import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.EmbeddedBroker;
import io.vmscale.broker.TestBrokers;
import io.vmscale.broker.UserConfig;
import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.Topic;
import io.vmscale.broker.event.VmLifecycle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replicated live/backup pair, each broker in its own process: the primary is killed -9 while
 * lifecycle events and commands flow; the clients fail over to the backup on the same connections,
 * and no lifecycle event or command answer is lost.
 */
class BrokerPairFailoverTest {
    private static final List<UserConfig> USERS = List.of(
            new UserConfig("component", "component-secret", "component"),
            new UserConfig("op", "operator-secret", "operator"));

    @TempDir
    Path dir;
    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stop() {
        processes.forEach(Process::destroyForcibly);
    }

    private Path config(String name, int port) throws Exception {
        Path file = dir.resolve(name + ".json");
        Files.writeString(file, """
                {"broker": {"bind": "127.0.0.1", "port": %d, "dataDir": "%s", "users": [
                  {"name": "component", "password": "component-secret", "role": "component"},
                  {"name": "op", "password": "operator-secret", "role": "operator"}]}}
                """.formatted(port, dir.resolve(name)));
        return file;
    }

    private Process broker(String name, Path config, String... args) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "broker", "--config", config.toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + ".log").toFile()).start();
        processes.add(process);
        return process;
    }

    private String log(String name) throws Exception {
        return Files.readString(dir.resolve(name + ".log"));
    }

    @Test
    void theBackupTakesOverAKilledPrimaryAndNothingIsLost() throws Exception {
        int primaryPort = TestBrokers.freePort();
        int backupPort = TestBrokers.freePort();
        Process primary = broker("primary", config("primary", primaryPort), "--primary-with", "127.0.0.1:" + backupPort);
        await().atMost(Duration.ofSeconds(30)).until(() -> log("primary").contains("broker: listening on"));
        broker("backup", config("backup", backupPort), "--backup-of", "127.0.0.1:" + primaryPort);
        await().atMost(Duration.ofSeconds(60)).until(() -> log("backup").contains("broker: backup in sync with"));

        String url = EmbeddedBroker.clientUrl(new BrokerConfig("127.0.0.1", primaryPort, dir.resolve("primary").toString(),
                USERS).withHa("primary", "127.0.0.1:" + backupPort));
        assertThat(url).startsWith("(tcp://127.0.0.1:" + primaryPort + ",tcp://127.0.0.1:" + backupPort + ")?ha=true");
        List<String> membership = new CopyOnWriteArrayList<>();
        Set<String> answered = ConcurrentHashMap.newKeySet();
        try (BrokerConnection scaler = BrokerConnection.open(url, "component", "component-secret", "scaler@test");
             BrokerConnection balancer = BrokerConnection.open(url, "component", "component-secret", "balancer@test");
             BrokerConnection operator = BrokerConnection.open(url, "op", "operator-secret", "ops@test")) {
            balancer.subscribeDurable("pair-membership", VmLifecycle.class, e -> membership.add(e.body().reason()));
            balancer.subscribeDurable("pair-commands", AdminCommand.class, e -> balancer.publish(e.body().replyTo(),
                    new AdminResult(e.body().requestId(), "balancer@test", true, "done", Map.of())));
            operator.subscribe(Topic.REPLY_PREFIX + "pair", AdminResult.class, e -> answered.add(e.body().requestId()));

            List<String> published = new ArrayList<>();
            List<String> commandsSent = new ArrayList<>();
            long next = System.nanoTime();
            for (int i = 0; i < 300; i++) {
                if (i == 100) {
                    primary.destroyForcibly(); // SIGKILL
                    primary.waitFor(10, TimeUnit.SECONDS);
                }
                String reason = "event " + i;
                scaler.publish(new VmLifecycle("vmscale-0001", "h", null, ReplicaState.READY, reason));
                published.add(reason);
                boolean allHere = !scaler.brokerAway() && !balancer.brokerAway() && !operator.brokerAway();
                if (i % 10 == 0 && allHere) {
                    String id = "command " + i;
                    try {
                        operator.publish(new AdminCommand(id, Topic.REPLY_PREFIX + "pair", "balancer", "status", List.of()));
                        commandsSent.add(id);
                    } catch (io.vmscale.broker.BrokerException e) {
                        // refused while the pair fails over: the operator sees it and may send again
                    }
                }
                next += TimeUnit.MILLISECONDS.toNanos(10);
                LockSupport.parkNanos(Math.max(0, next - System.nanoTime())); // pacing the load
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> log("backup").contains("this backup is live now"));
            for (BrokerConnection c : List.of(scaler, balancer, operator)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> !c.brokerAway());
            }
            for (int i = 0; i < 5; i++) { // commands after the failover, on the same connections
                String id = "command after " + i;
                operator.publish(new AdminCommand(id, Topic.REPLY_PREFIX + "pair", "balancer", "status", List.of()));
                commandsSent.add(id);
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> membership.stream().distinct().count() == 300);
            assertThat(membership.stream().distinct().toList()).as("every lifecycle event, in order").isEqualTo(published);
            await().atMost(Duration.ofSeconds(30)).until(() -> answered.containsAll(commandsSent));
            assertThat(commandsSent.size()).isGreaterThanOrEqualTo(15);
            // the backup, live now, answers status itself
            operator.publish(new AdminCommand("status after", Topic.REPLY_PREFIX + "pair", "broker", "status", List.of()));
            await().atMost(Duration.ofSeconds(10)).until(() -> answered.contains("status after"));
            assertThat(scaler.outages()).isEqualTo(1);
            assertThat(scaler.keptDropped()).isZero();
            System.out.printf("pair failover: %d lifecycle events (%d delivered twice), %d commands answered%n",
                    published.size(), membership.size() - published.size(), commandsSent.size());
        }
    }
}
