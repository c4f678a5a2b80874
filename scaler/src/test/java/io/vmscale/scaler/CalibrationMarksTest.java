package io.vmscale.scaler;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmscale.broker.event.LbStats;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CalibrationMarksTest {
    private static final Instant T0 = Instant.parse("2026-11-24T10:00:00Z");
    private static final Map<String, String> DOMAINS = Map.of("127.0.0.1:21001", "vmscale-0000",
            "127.0.0.1:21002", "vmscale-0001");

    private static LbStats stats(boolean first, boolean second) {
        return new LbStats(0, 0, 0, 0, 0, 0, 0, 0, Map.of(
                "127.0.0.1:21001", new LbStats.ServerStats(1, 1, 0, 0, 16, false, false, first),
                "127.0.0.1:21002", new LbStats.ServerStats(1, 1, 0, 0, 1, false, false, second)), "high", 1000);
    }

    private static Instant at(long millis) {
        return T0.plusMillis(millis);
    }

    @Test
    void aSampleThatCoversAnyOfTheMeasurementIsNotLoad() {
        CalibrationMarks marks = new CalibrationMarks();
        marks.stats(at(0), stats(false, false), DOMAINS::get);
        assertThat(marks.isLoad("vmscale-0000", at(900), 1000)).isTrue();
        marks.stats(at(1_000), stats(true, false), DOMAINS::get); // the measurement starts
        assertThat(marks.calibrating("vmscale-0000")).isTrue();
        assertThat(marks.isLoad("vmscale-0000", at(1_800), 1000)).as("during it").isFalse();
        assertThat(marks.isLoad("vmscale-0001", at(1_800), 1000)).as("the other replica").isTrue();
        marks.stats(at(4_200), stats(false, false), DOMAINS::get); // it ends
        assertThat(marks.calibrating("vmscale-0000")).isFalse();
        assertThat(marks.isLoad("vmscale-0000", at(4_900), 1000)).as("its interval began before the end").isFalse();
        assertThat(marks.isLoad("vmscale-0000", at(5_200), 1000)).as("began as it ended").isTrue();
        assertThat(marks.isLoad("vmscale-0000", at(6_000), 1000)).isTrue();
    }

    @Test
    void aReplicaThatLeavesTheStatsWhileMeasuredIsNoLongerMeasured() {
        CalibrationMarks marks = new CalibrationMarks();
        marks.stats(at(0), stats(false, true), DOMAINS::get);
        assertThat(marks.isLoad("vmscale-0001", at(500), 1000)).isFalse();
        marks.stats(at(2_000), new LbStats(0, 0, 0, 0, 0, 0, 0, 0, Map.of(
                "127.0.0.1:21001", new LbStats.ServerStats(1, 1, 0, 0, 1, false, false, false)), "high", 1000),
                DOMAINS::get);
        assertThat(marks.calibrating("vmscale-0001")).isFalse();
        assertThat(marks.isLoad("vmscale-0001", at(3_100), 1000)).isTrue();
    }

    @Test
    void anEndpointNoDomainServesAndARemovedReplicaAreIgnored() {
        CalibrationMarks marks = new CalibrationMarks();
        marks.stats(at(0), new LbStats(0, 0, 0, 0, 0, 0, 0, 0, Map.of(
                "127.0.0.1:29999", new LbStats.ServerStats(1, 1, 0, 0, 1, false, false, true),
                "127.0.0.1:21001", new LbStats.ServerStats(1, 1, 0, 0, 1, false, true, true)), "high", 1000),
                DOMAINS::get);
        assertThat(marks.calibrating("vmscale-0000")).isFalse();
        assertThat(marks.isLoad("vmscale-0000", at(500), 1000)).isTrue();
    }
}
