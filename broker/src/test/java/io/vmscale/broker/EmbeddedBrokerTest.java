package io.vmscale.broker;

import io.vmscale.broker.event.Topic;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.Envelope;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.VmLifecycle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.jms.Connection;
import javax.jms.Session;
import javax.jms.TextMessage;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedBrokerTest extends OnBroker {
    private static CpuSample sample(double cpu) {
        return new CpuSample("qemu:///system", "vmscale-0000", "RUNNING", 1, 1_000_000, cpu, 1000);
    }

    private static AdminCommand command() {
        return new AdminCommand("r1", Topic.REPLY_PREFIX + "r1", "balancer", "load", List.of("high"));
    }

    @Test
    void listensOnLoopbackOnly() {
        assertThat(broker.tcpUrl()).startsWith("tcp://127.0.0.1:");
    }

    @Test
    void deliversAnEventFromOneTcpConnectionToASubscriberOnAnother() throws Exception {
        BlockingQueue<Envelope<CpuSample>> received = new LinkedBlockingQueue<>();
        try (BrokerConnection subscriber = tcp("bob", "bob-secret-1");
             BrokerConnection publisher = tcp("monitor", "monitor-secret")) {
            subscriber.subscribe(CpuSample.class, received::add);
            Envelope<CpuSample> sent = publisher.publish(sample(42.5));
            Envelope<CpuSample> got = received.poll(10, TimeUnit.SECONDS);
            assertThat(got).isEqualTo(sent);
            assertThat(got.source()).isEqualTo("monitor@test");
            assertThat(got.seq()).isEqualTo(1);
            assertThat(publisher.publish(sample(43)).seq()).isEqualTo(2);
            assertThat(received.poll(10, TimeUnit.SECONDS).body().cpuPercent()).isEqualTo(43.0);
        }
    }

    @Test
    void deliversOnlyTheSubscribedType() throws Exception {
        BlockingQueue<Envelope<VmLifecycle>> lifecycle = new LinkedBlockingQueue<>();
        try (BrokerConnection connection = broker.connect(Role.COMPONENT, "scaler@test")) {
            connection.subscribe(VmLifecycle.class, lifecycle::add);
            connection.publish(Topic.VM.address(), sample(1)); // a stray type on the lifecycle topic
            VmLifecycle event = new VmLifecycle("d", "h", null, ReplicaState.STARTING, "scale up");
            connection.publish(event);
            assertThat(lifecycle.poll(10, TimeUnit.SECONDS).body()).isEqualTo(event);
            assertThat(lifecycle).isEmpty();
        }
    }

    @Test
    void refusesAWrongPassword() {
        assertThatThrownBy(() -> tcp("monitor", "not-the-password"))
                .isInstanceOf(BrokerException.class)
                .hasMessageContaining("refused the login of user 'monitor'");
    }

    @Test
    void refusesAnUnknownUser() {
        assertThatThrownBy(() -> tcp("mallory", "monitor-secret"))
                .isInstanceOf(BrokerException.class)
                .hasMessageContaining("refused the login of user 'mallory'");
    }

    @Test
    void refusesAViewerThatSendsACommandButLetsItWatch() throws Exception {
        BlockingQueue<Envelope<CpuSample>> received = new LinkedBlockingQueue<>();
        try (BrokerConnection viewer = tcp("bob", "bob-secret-1");
             BrokerConnection component = tcp("monitor", "monitor-secret")) {
            assertThatThrownBy(() -> viewer.publish(command()))
                    .isInstanceOf(BrokerException.class)
                    .hasMessageContaining("user 'bob' may not publish admin.command to vmscale.admin");
            viewer.subscribe(CpuSample.class, received::add);
            viewer.publish(sample(66)); // through the outbox: the refusal is counted, not thrown
            await().atMost(Duration.ofSeconds(10)).until(() -> viewer.refused() == 2);
            component.publish(sample(5));
            assertThat(received.poll(10, TimeUnit.SECONDS).body().cpuPercent()).isEqualTo(5.0);
        }
    }

    @Test
    void letsAnOperatorSendCommandsButNotForgeSamples() throws Exception {
        BlockingQueue<Envelope<AdminCommand>> commands = new LinkedBlockingQueue<>();
        try (BrokerConnection operator = tcp("alice", "alice-secret");
             BrokerConnection balancer = tcp("monitor", "monitor-secret")) {
            balancer.subscribe(AdminCommand.class, commands::add);
            operator.publish(command());
            assertThat(commands.poll(10, TimeUnit.SECONDS).body()).isEqualTo(command());
            operator.publish(sample(99));
            await().atMost(Duration.ofSeconds(10)).until(() -> operator.refused() == 1);
        }
    }

    @Test
    void refusesAddressesOutsideItsOwn() {
        try (BrokerConnection component = tcp("monitor", "monitor-secret")) {
            assertThatThrownBy(() -> component.publish("other.topic", command()))
                    .isInstanceOf(BrokerException.class).hasMessageContaining("may not publish");
            component.publish("other.topic", sample(1));
            await().atMost(Duration.ofSeconds(10)).until(() -> component.refused() == 2);
        }
    }

    @Test
    void keepsEventsForADurableSubscriberAcrossItsAbsenceAndABrokerRestart() throws Exception {
        BlockingQueue<Envelope<VmLifecycle>> received = new LinkedBlockingQueue<>();
        VmLifecycle whileAway = new VmLifecycle("vmscale-0003", "qemu:///system", null, ReplicaState.FAILED, "crashed");
        try (BrokerConnection balancer = tcp("monitor", "monitor-secret")) {
            balancer.subscribeDurable("balancer-membership", VmLifecycle.class, received::add).close();
        }
        try (BrokerConnection monitor = tcp("monitor", "monitor-secret")) {
            monitor.publish(whileAway);
        }
        BrokerConfig config = TestBrokers.config(dataDir, TestBrokers.USERS);
        broker.close();
        broker = EmbeddedBroker.start(config);
        try (BrokerConnection balancer = tcp("monitor", "monitor-secret")) {
            balancer.subscribeDurable("balancer-membership", VmLifecycle.class, received::add);
            assertThat(received.poll(10, TimeUnit.SECONDS).body()).isEqualTo(whileAway);
        }
    }

    @Test
    void dropsAndCountsAMalformedMessageAndKeepsDelivering() throws Exception {
        BlockingQueue<Envelope<CpuSample>> received = new LinkedBlockingQueue<>();
        try (BrokerConnection connection = tcp("monitor", "monitor-secret")) {
            connection.subscribe(CpuSample.class, envelope -> {
                if (envelope.body().cpuPercent() == 13) {
                    throw new IllegalStateException("a handler bug");
                }
                received.add(envelope);
            });
            // garbage straight through JMS, labelled as a sample so the selector lets it in
            try (Connection raw = new ActiveMQConnectionFactory(broker.tcpUrl(), "monitor", "monitor-secret")
                    .createConnection()) {
                Session session = raw.createSession(false, Session.AUTO_ACKNOWLEDGE);
                TextMessage garbage = session.createTextMessage("{\"type\":\"cpu.sample\",\"v\":1}");
                garbage.setStringProperty(BrokerConnection.TYPE_PROPERTY, "cpu.sample");
                session.createProducer(session.createTopic(Topic.CPU.address())).send(garbage);
            }
            connection.publish(sample(13));
            connection.publish(sample(14));
            assertThat(received.poll(10, TimeUnit.SECONDS).body().cpuPercent()).isEqualTo(14.0);
            assertThat(connection.malformedDropped()).isEqualTo(1);
            assertThat(connection.handlerFailures()).isEqualTo(1);
        }
    }

    @Test
    void generatesOnePrivatePasswordFilePerRoleAtFirstStartAndKeepsThem(@TempDir Path otherDir) throws Exception {
        BrokerConfig config = TestBrokers.config(otherDir);
        Credentials first;
        try (EmbeddedBroker generated = EmbeddedBroker.start(config)) {
            first = generated.credentials();
            assertThat(first.accounts()).extracting(Account::role).containsExactly(Role.values());
            for (Account account : first.accounts()) {
                Path file = Credentials.file(otherDir, account.role());
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
                assertThat(Files.readString(file)).contains(account.password())
                        .doesNotContain(first.accounts().stream().filter(a -> a != account).map(Account::password)
                                .toArray(String[]::new));
                assertThat(Credentials.read(otherDir, account.role())).isEqualTo(account);
            }
            Account viewer = first.forRole(Role.VIEWER).orElseThrow();
            assertThat(viewer.password()).hasSizeGreaterThanOrEqualTo(20);
            try (BrokerConnection c = BrokerConnection.open(generated.clientUrl(), viewer.user(), viewer.password(), "v")) {
                assertThat(c.source()).isEqualTo("v");
            }
        }
        try (EmbeddedBroker again = EmbeddedBroker.start(config)) {
            assertThat(again.credentials().accounts()).isEqualTo(first.accounts());
        }
    }

    @Test
    void splitsTheOneFileOfEarlierReleasesKeepingItsPasswords(@TempDir Path otherDir) throws Exception {
        Files.writeString(otherDir.resolve(Credentials.LEGACY_FILE_NAME), """
                component.user=vmscale
                component.password=old-component-secret
                operator.user=operator
                operator.password=old-operator-secret
                viewer.user=viewer
                viewer.password=old-viewer-secret
                """);
        try (EmbeddedBroker migrated = EmbeddedBroker.start(TestBrokers.config(otherDir))) {
            assertThat(Credentials.read(otherDir, Role.OPERATOR).password()).isEqualTo("old-operator-secret");
            assertThat(otherDir.resolve(Credentials.LEGACY_FILE_NAME)).doesNotExist();
            BrokerConnection.open(migrated.clientUrl(), "viewer", "old-viewer-secret", "v").close();
        }
    }

    @Test
    void saysWhenThePortIsTaken() {
        BrokerConfig samePort = new BrokerConfig("127.0.0.1", Integer.parseInt(
                broker.tcpUrl().substring(broker.tcpUrl().lastIndexOf(':') + 1)), dataDir.resolve("second").toString(),
                TestBrokers.USERS);
        assertThatThrownBy(() -> EmbeddedBroker.start(samePort).close())
                .isInstanceOf(BrokerException.class)
                .hasMessageContaining(broker.tcpUrl());
    }
}
