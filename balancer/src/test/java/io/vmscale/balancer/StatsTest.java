package io.vmscale.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmscale.broker.event.LbStats;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The latency histogram the balancer publishes: cumulative over intervals, one count per bound, seconds. */
class StatsTest {
    private static final long MS = 1_000_000;

    @Test
    void answersAreCountedIntoTheBoundsTheyFitAndAddUpOverIntervals() {
        Stats stats = new Stats(Duration.ofSeconds(1), 0);
        stats.answered(MS / 4);  // 0.25 ms
        stats.answered(2 * MS);  // 2 ms
        stats.answered(30 * MS); // 30 ms
        LbStats first = stats.interval(1_000 * MS, Map.of(), "low", 0);
        int i05ms = LbStats.LATENCY_BOUNDS_SECONDS.indexOf(0.0005);
        int i2_5ms = LbStats.LATENCY_BOUNDS_SECONDS.indexOf(0.0025);
        int i50ms = LbStats.LATENCY_BOUNDS_SECONDS.indexOf(0.05);
        assertThat(first.latencyBuckets()).hasSize(LbStats.LATENCY_BOUNDS_SECONDS.size());
        assertThat(first.latencyBuckets().get(i05ms)).isEqualTo(1);
        assertThat(first.latencyBuckets().get(i2_5ms)).isEqualTo(2);
        assertThat(first.latencyBuckets().get(i50ms)).isEqualTo(3);
        assertThat(first.latencyBuckets().get(first.latencyBuckets().size() - 1)).isEqualTo(3);
        assertThat(first.latencySumSeconds()).isCloseTo(0.03225, org.assertj.core.data.Offset.offset(0.0001));

        LbStats idle = stats.interval(2_000 * MS, Map.of(), "low", 0); // nothing answered: nothing lost either
        assertThat(idle.latencyBuckets()).isEqualTo(first.latencyBuckets());

        stats.answered(20_000 * MS); // 20 s: past the last finite bound
        LbStats third = stats.interval(3_000 * MS, Map.of(), "low", 0);
        assertThat(third.latencyBuckets().get(i50ms)).isEqualTo(3);
        assertThat(third.latencyBuckets().get(LbStats.LATENCY_BOUNDS_SECONDS.indexOf(10.0))).isEqualTo(3);
        assertThat(third.latencyBuckets().get(third.latencyBuckets().size() - 1)).isEqualTo(4);
        assertThat(third.latencySumSeconds()).isCloseTo(20.032, org.assertj.core.data.Offset.offset(0.01));
    }
}
