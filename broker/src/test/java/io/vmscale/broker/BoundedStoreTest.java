package io.vmscale.broker;

import io.vmscale.broker.event.Topic;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.Envelope;
import io.vmscale.broker.event.HostStatus;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.VmLifecycle;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.jms.Connection;
import javax.jms.Session;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.junit.jupiter.api.Test;

/** What the broker keeps on disk, and that a subscriber that stops reading never blocks a publisher. */
class BoundedStoreTest extends OnBroker {
    @Test
    void onlyFactsSurviveARestartFiguresAndHeartbeatsDoNot() throws Exception {
        BlockingQueue<Envelope<?>> received = new LinkedBlockingQueue<>();
        try (BrokerConnection scaler = tcp("monitor", "monitor-secret", "scaler@test")) {
            scaler.subscribeDurable("kept-samples", CpuSample.class, received::add).close();
            scaler.subscribeDurable("kept-lifecycle", VmLifecycle.class, received::add).close();
            scaler.subscribeDurable("kept-hosts", HostStatus.class, received::add).close();
        }
        try (BrokerConnection monitor = tcp("monitor", "monitor-secret", "monitor@test")) {
            monitor.publish(new CpuSample("h", "vmscale-0000", "RUNNING", 1, 1, 50, 1000));
            monitor.publish(new HostStatus("h", true, "connected", 2, 10.0, 1, 4096, 1024));
            monitor.publish(new VmLifecycle("vmscale-0000", "h", null, ReplicaState.FAILED, "crashed"));
            await().atMost(Duration.ofSeconds(10)).until(() -> monitor.sent() == 3);
        }
        broker.close();
        broker = EmbeddedBroker.start(config);
        try (BrokerConnection scaler = tcp("monitor", "monitor-secret", "scaler@test")) {
            scaler.subscribeDurable("kept-samples", CpuSample.class, received::add);
            scaler.subscribeDurable("kept-hosts", HostStatus.class, received::add);
            scaler.subscribeDurable("kept-lifecycle", VmLifecycle.class, received::add);
            Envelope<?> first = received.poll(10, TimeUnit.SECONDS);
            assertThat(first.body()).isInstanceOf(VmLifecycle.class);
            // the figure and the heartbeat were routed before the lifecycle event: had they survived,
            // they would be here by now
            assertThat(received).isEmpty();
        }
    }

    @Test
    void aSubscriberThatStopsReadingCostsDroppedFiguresNeverABlockedPublisher() throws Exception {
        String longName = "vmscale-" + "0".repeat(4000); // about 4 KiB a sample: 8 MiB in about 2,000
        BlockingQueue<Envelope<VmLifecycle>> lifecycle = new LinkedBlockingQueue<>();
        try (Connection stalled = new ActiveMQConnectionFactory(broker.tcpUrl(), "monitor", "monitor-secret")
                .createConnection();
             BrokerConnection monitor = tcp("monitor", "monitor-secret", "monitor@test");
             BrokerConnection balancer = tcp("monitor", "monitor-secret", "balancer@test")) {
            Session session = stalled.createSession(false, Session.AUTO_ACKNOWLEDGE);
            session.createConsumer(session.createTopic(Topic.CPU.address())); // never started: never reads
            balancer.subscribe(VmLifecycle.class, lifecycle::add);
            long slowest = 0;
            for (int i = 0; i < 4000; i++) {
                long t0 = System.nanoTime();
                monitor.publish(new CpuSample("h", longName, "RUNNING", 1, i, 50, 1000));
                slowest = Math.max(slowest, System.nanoTime() - t0);
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> monitor.pending() == 0);
            assertThat(Duration.ofNanos(slowest)).isLessThan(TestBrokers.NEVER_WAITS);
            assertThat(monitor.periodicDropped()).as("figures refused by the full address, counted").isPositive();
            assertThat(monitor.sent()).as("taken until the address held 8 MiB").isGreaterThan(500).isLessThan(4000);
            // the facts' topic is another address: unaffected
            monitor.publish(new VmLifecycle("vmscale-0000", "h", null, ReplicaState.READY, "probe"));
            assertThat(lifecycle.poll(10, TimeUnit.SECONDS)).isNotNull();
        }
    }

    @Test
    void theBrokerAnswersStatusWithTheSizeOfItsStore() throws Exception {
        BlockingQueue<AdminResult> replies = new LinkedBlockingQueue<>();
        await().atMost(Duration.ofSeconds(10)).until(broker::answersStatus);
        try (BrokerConnection operator = tcp("alice", "alice-secret", "ops@test")) {
            operator.subscribe(Topic.REPLY_PREFIX + "s1", AdminResult.class, e -> replies.add(e.body()));
            operator.publish(new AdminCommand("s1", Topic.REPLY_PREFIX + "s1", "all", "status", List.of()));
            AdminResult result = replies.poll(10, TimeUnit.SECONDS);
            assertThat(result.responder()).startsWith("broker@");
            Map<?, ?> figures = (Map<?, ?>) result.data().get("broker");
            long journal = ((Number) figures.get("journalBytes")).longValue();
            assertThat(journal).isEqualTo(broker.storeSize().journalBytes()).isGreaterThan(0);
            assertThat(figures.get("maxDiskUsage")).isEqualTo(90);
            assertThat(result.message()).startsWith("journal ");
        }
    }
}
