package io.vmscale.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.Envelope;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.VmLifecycle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The broker stops and starts again under connections that stay open. */
class BrokerRestartTest extends OnBroker {
    private static CpuSample sample(double cpu) {
        return new CpuSample("qemu:///system", "vmscale-0000", "RUNNING", 1, 1_000_000, cpu, 1000);
    }

    private static VmLifecycle lifecycle(String reason) {
        return new VmLifecycle("vmscale-0001", "qemu:///system", null, ReplicaState.READY, reason);
    }

    @Test
    void publishingNeverWaitsKeptEventsArriveInOrderAndSubscriptionsResumeOnTheSameConnections() throws Exception {
        List<String> kept = new CopyOnWriteArrayList<>();
        BlockingQueue<Envelope<CpuSample>> samples = new LinkedBlockingQueue<>();
        BlockingQueue<Envelope<VmLifecycle>> live = new LinkedBlockingQueue<>();
        try (BrokerConnection subscriber = tcp("monitor", "monitor-secret", "scaler@test");
             BrokerConnection viewer = tcp("bob", "bob-secret-1", "chart@test");
             BrokerConnection publisher = tcp("monitor", "monitor-secret", "monitor@test")) {
            subscriber.subscribeDurable("restart-test", VmLifecycle.class, e -> kept.add(e.body().reason()));
            java.util.concurrent.atomic.AtomicInteger resyncs = new java.util.concurrent.atomic.AtomicInteger();
            viewer.onReconnected(resyncs::incrementAndGet);
            viewer.subscribe(CpuSample.class, samples::add);
            viewer.subscribe(VmLifecycle.class, live::add);
            publisher.publish(sample(1));
            assertThat(samples.poll(10, TimeUnit.SECONDS)).isNotNull();

            broker.close();
            await().atMost(Duration.ofSeconds(10)).until(publisher::brokerAway);
            List<String> expected = new ArrayList<>();
            long slowest = 0;
            for (int i = 0; i < 200; i++) {
                long t0 = System.nanoTime();
                publisher.publish(sample(50));
                String reason = "while away " + i;
                publisher.publish(lifecycle(reason));
                expected.add(reason);
                slowest = Math.max(slowest, System.nanoTime() - t0);
            }
            assertThat(Duration.ofNanos(slowest)).as("the slowest publish while the broker is away")
                    .isLessThan(TestBrokers.NEVER_WAITS);
            assertThat(publisher.periodicDropped()).isGreaterThanOrEqualTo(200);

            broker = EmbeddedBroker.start(config);
            await().atMost(Duration.ofSeconds(20)).until(() -> kept.size() >= 200);
            assertThat(kept.stream().distinct().toList()).as("every kept event, in order").isEqualTo(expected);
            assertThat(publisher.keptDropped()).isZero();
            assertThat(publisher.outages()).isEqualTo(1);
            assertThat(samples).as("no sample published while away").isEmpty();

            // the viewer's non-durable subscriptions are back on the same connection
            await().atMost(Duration.ofSeconds(10)).until(() -> !viewer.brokerAway() && viewer.outages() == 1);
            await().atMost(Duration.ofSeconds(10)).until(() -> resyncs.get() == 1);
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                publisher.publish(sample(2));
                return samples.poll(200, TimeUnit.MILLISECONDS) != null;
            });
            publisher.publish(lifecycle("after"));
            await().atMost(Duration.ofSeconds(10)).until(() -> live.stream().anyMatch(e -> e.body().reason().equals("after")));
        }
    }

    @Test
    void closesWithinSecondsWhileTheBrokerIsAway() {
        BrokerConnection publisher = tcp("monitor", "monitor-secret", "monitor@test");
        BrokerConnection subscriber = tcp("monitor", "monitor-secret", "balancer@test");
        Subscription subscription = subscriber.subscribe(VmLifecycle.class, e -> { });
        broker.close();
        broker = null;
        await().atMost(Duration.ofSeconds(10)).until(publisher::brokerAway);
        publisher.publish(lifecycle("never sent"));
        long t0 = System.nanoTime();
        subscription.close();
        subscriber.close();
        publisher.close();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(4));
        assertThat(publisher.keptDropped()).isEqualTo(1);
    }
}
