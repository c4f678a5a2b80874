package io.vmscale.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A lease on a real broker: one holder at a time, the next one as soon as the holder's connection is gone; a kept
 * state: the last value, for whoever reads next, across a broker restart, components only.
 */
class LeaseTest {
    @TempDir
    Path dir;

    @Test
    void oneHoldsItAndTheNextGetsItWhenTheHolderIsGone() throws Exception {
        try (EmbeddedBroker broker = EmbeddedBroker.start(TestBrokers.config(dir))) {
            AtomicInteger a = new AtomicInteger();
            AtomicInteger b = new AtomicInteger();
            AtomicInteger c = new AtomicInteger();
            BrokerConnection first = broker.connect(Role.COMPONENT, BrokerConnection.source("scaler-a"));
            BrokerConnection second = broker.connect(Role.COMPONENT, BrokerConnection.source("scaler-b"));
            try (BrokerConnection third = broker.connect(Role.COMPONENT, BrokerConnection.source("scaler-c"))) {
                first.lease("scaler.web", a::incrementAndGet);
                await().atMost(Duration.ofSeconds(5)).until(() -> a.get() > 0);
                second.lease("scaler.web", b::incrementAndGet);
                third.lease("scaler.other", c::incrementAndGet); // another lease: its own holder
                await().atMost(Duration.ofSeconds(5)).until(() -> c.get() > 0);
                assertThat(b.get()).as("the second while the first holds it").isZero();

                long t0 = System.nanoTime();
                first.close();
                await().atMost(Duration.ofSeconds(10)).until(() -> b.get() > 0);
                System.out.printf("lease handed over %d ms after the holder's connection closed%n",
                        (System.nanoTime() - t0) / 1_000_000);
                assertThat(a.get()).isEqualTo(1);
            } finally {
                second.close();
            }
        }
    }

    @Test
    void aKeptStateIsTheLastOneKeptForWhoeverReadsNextEvenAfterABrokerRestart() throws Exception {
        try (EmbeddedBroker broker = EmbeddedBroker.start(TestBrokers.config(dir))) {
            try (BrokerConnection holder = broker.connect(Role.COMPONENT, BrokerConnection.source("scaler-a"))) {
                assertThat(holder.kept("scaler.web")).isEmpty();
                holder.keep("scaler.web", "{\"min\": 2}");
                holder.keep("scaler.web", "{\"min\": 3}");
                holder.keep("scaler.other", "{\"min\": 9}");
                assertThat(holder.kept("scaler.web")).contains("{\"min\": 3}");
            }
            try (BrokerConnection operator = broker.connect(Role.OPERATOR, BrokerConnection.source("ops"))) {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> operator.keep("scaler.web", "{}"))
                        .isInstanceOf(BrokerException.class).hasMessageContaining("may not keep the state");
            }
        }
        try (EmbeddedBroker again = EmbeddedBroker.start(TestBrokers.config(dir));
             BrokerConnection next = again.connect(Role.COMPONENT, BrokerConnection.source("scaler-b"))) {
            assertThat(next.kept("scaler.web")).contains("{\"min\": 3}");
            assertThat(next.kept("scaler.other")).contains("{\"min\": 9}");
        }
    }
}
