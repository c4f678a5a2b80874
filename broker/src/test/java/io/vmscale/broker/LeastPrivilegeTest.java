package io.vmscale.broker;

import io.vmscale.broker.event.Topic;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.Envelope;
import io.vmscale.broker.event.VmLifecycle;
import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.jms.Connection;
import javax.jms.JMSException;
import javax.jms.JMSSecurityException;
import javax.jms.Session;
import javax.jms.TextMessage;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.junit.jupiter.api.Test;

/** What each role may not do, refused by the broker itself. */
class LeastPrivilegeTest extends OnBroker {
    private static AdminCommand command(List<String> args) {
        return new AdminCommand("r1", Topic.REPLY_PREFIX + "r1", "balancer", "load", args);
    }

    @Test
    void anOperatorCreatesNoDurableQueueThroughOurApiOrRawJms() throws Exception {
        try (BrokerConnection operator = tcp("alice", "alice-secret")) {
            assertThatThrownBy(() -> operator.subscribeDurable("forgotten", VmLifecycle.class, e -> { }))
                    .isInstanceOf(BrokerException.class)
                    .hasMessageContaining("user 'alice' may not subscribe to vmscale.vm");
        }
        try (Connection raw = new ActiveMQConnectionFactory(broker.tcpUrl(), "alice", "alice-secret").createConnection()) {
            raw.setClientID("alice-raw");
            Session session = raw.createSession(false, Session.AUTO_ACKNOWLEDGE);
            assertThatThrownBy(() -> session.createDurableConsumer(session.createTopic(Topic.DECISION.address()), "grow"))
                    .isInstanceOf(JMSSecurityException.class);
        }
        try (BrokerConnection component = tcp("monitor", "monitor-secret")) {
            component.subscribeDurable("kept", VmLifecycle.class, e -> { }).close(); // components may
        }
    }

    @Test
    void anOperatorCreatesNoAddressButSubscribesAndSendsWhereItMay() throws Exception {
        BlockingQueue<Envelope<AdminCommand>> commands = new LinkedBlockingQueue<>();
        BlockingQueue<Envelope<CpuSample>> replayed = new LinkedBlockingQueue<>();
        try (BrokerConnection operator = tcp("alice", "alice-secret");
             BrokerConnection component = tcp("monitor", "monitor-secret")) {
            assertThatThrownBy(() -> operator.subscribe("vmscale.other", CpuSample.class, e -> { }))
                    .isInstanceOf(BrokerException.class).hasMessageContaining("may not subscribe to vmscale.other");
            assertThatThrownBy(() -> operator.publish("vmscale.other", command(List.of("low"))))
                    .isInstanceOf(BrokerException.class).hasMessageContaining("may not publish");
            // what it may: read, send a command, replay, and receive answers on an address of its own
            component.subscribe(AdminCommand.class, commands::add);
            operator.subscribe(Topic.CPU.replayAddress(), CpuSample.class, replayed::add);
            operator.subscribe(Topic.REPLY_PREFIX + "alice-1", VmLifecycle.class, e -> { });
            operator.publish(command(List.of("low")));
            assertThat(commands.poll(10, TimeUnit.SECONDS)).isNotNull();
            Envelope<CpuSample> sample = Envelope.of(new CpuSample("h", "d", "RUNNING", 1, 1, 5, 1000),
                    Instant.parse("2026-01-01T00:00:00Z"), "monitor@elsewhere", 7);
            operator.republish(Topic.CPU.replayAddress(), sample);
            assertThat(replayed.poll(10, TimeUnit.SECONDS)).isEqualTo(sample);
            assertThatThrownBy(() -> operator.republish(Topic.CPU.address(), sample))
                    .isInstanceOf(BrokerException.class).hasMessageContaining("may not publish cpu.sample");
        }
    }

    @Test
    void aViewerSendsNothingAnywhere() {
        try (BrokerConnection viewer = tcp("bob", "bob-secret-1")) {
            assertThatThrownBy(() -> viewer.publish(command(List.of("low"))))
                    .isInstanceOf(BrokerException.class).hasMessageContaining("user 'bob' may not publish admin.command");
            Envelope<CpuSample> sample = Envelope.of(new CpuSample("h", "d", "RUNNING", 1, 1, 5, 1000),
                    Instant.now(), "bob@test", 1);
            assertThatThrownBy(() -> viewer.republish(Topic.CPU.replayAddress(), sample))
                    .isInstanceOf(BrokerException.class).hasMessageContaining("may not publish");
            assertThatThrownBy(() -> viewer.subscribeDurable("mine", VmLifecycle.class, e -> { }))
                    .isInstanceOf(BrokerException.class);
        }
    }

    @Test
    void anOversizedAdminMessageIsRefusedByTheConnectionAndByTheBroker() throws Exception {
        List<String> tenThousandWords = Collections.nCopies(10_000, "load");
        try (BrokerConnection operator = tcp("alice", "alice-secret")) {
            assertThatThrownBy(() -> operator.publish(command(tenThousandWords)))
                    .isInstanceOf(BrokerException.class)
                    .hasMessageContaining("not sent: the limit on vmscale.admin is 8192 bytes");
        }
        // a client that does not check: the broker refuses it, counts it, and goes on
        try (Connection raw = new ActiveMQConnectionFactory(broker.tcpUrl(), "alice", "alice-secret").createConnection()) {
            Session session = raw.createSession(false, Session.AUTO_ACKNOWLEDGE);
            TextMessage big = session.createTextMessage("x".repeat(20_000));
            assertThatThrownBy(() -> session.createProducer(session.createTopic(Topic.ADMIN.address())).send(big))
                    .isInstanceOf(JMSException.class).hasMessageContaining("limit on vmscale.admin is 8192 bytes");
        }
        assertThat(broker.oversizedRefused()).isEqualTo(1);
        try (BrokerConnection operator = tcp("alice", "alice-secret")) {
            operator.publish(command(List.of("low"))); // the broker still takes commands
        }
    }
}
