package io.vmscale.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.Envelope;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.VmLifecycle;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class OutboxTest {
    private long seq;

    private Outbox.Entry entry(Event event) {
        return new Outbox.Entry("a", Envelope.of(event, Instant.EPOCH, "t@h", ++seq), Delivery.of(event.type()));
    }

    private static Event sample() {
        return new CpuSample("h", "d", "RUNNING", 1, 1, 1, 1000);
    }

    private static Event lifecycle() {
        return new VmLifecycle("d", "h", null, ReplicaState.READY, "r");
    }

    private static List<Long> drain(Outbox outbox) throws InterruptedException {
        List<Long> seqs = new ArrayList<>();
        Outbox.Entry e;
        while ((e = outbox.take(0, TimeUnit.MILLISECONDS)) != null) {
            seqs.add(e.envelope().seq());
            outbox.done();
        }
        return seqs;
    }

    @Test
    void keepsOrderAndDropsPeriodicEventsWhileTheBrokerIsAway() throws Exception {
        Outbox outbox = new Outbox(10);
        assertThat(outbox.offer(entry(sample()))).isTrue();       // 1
        assertThat(outbox.offer(entry(lifecycle()))).isTrue();    // 2
        outbox.away(true);                                         // drops 1
        assertThat(outbox.offer(entry(sample()))).isFalse();      // 3 refused
        assertThat(outbox.offer(entry(lifecycle()))).isTrue();    // 4
        outbox.away(false);
        assertThat(outbox.offer(entry(sample()))).isTrue();       // 5
        assertThat(drain(outbox)).containsExactly(2L, 4L, 5L);
        assertThat(outbox.periodicDropped()).isEqualTo(2);
        assertThat(outbox.keptDropped()).isZero();
        assertThat(outbox.awaitEmpty(0, TimeUnit.MILLISECONDS)).isTrue();
    }

    @Test
    void whenFullDropsANewPeriodicEventThenTheOldestPeriodicThenTheOldestKept() throws Exception {
        Outbox outbox = new Outbox(3);
        outbox.offer(entry(lifecycle())); // 1
        outbox.offer(entry(sample()));    // 2
        outbox.offer(entry(lifecycle())); // 3
        assertThat(outbox.offer(entry(sample()))).isFalse(); // 4: full, a periodic one goes
        outbox.offer(entry(lifecycle())); // 5: makes room by dropping 2
        outbox.offer(entry(lifecycle())); // 6: no periodic left, drops 1
        assertThat(drain(outbox)).containsExactly(3L, 5L, 6L);
        assertThat(outbox.periodicDropped()).isEqualTo(2);
        assertThat(outbox.keptDropped()).isEqualTo(1);
    }
}
