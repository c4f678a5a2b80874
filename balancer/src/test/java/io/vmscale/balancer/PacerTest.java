package io.vmscale.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pacer on a fake clock. */
class PacerTest {
    private static final long S = 1_000_000_000L;

    @Test
    void owesTheRateTimesTheTimeAndKeepsTheFraction() {
        Pacer pacer = new Pacer(LoadMode.custom(0.5), 1000, List.of(), 0); // 500 requests/s
        assertThat(pacer.due(S / 1000)).isEqualTo(0); // 0.5 owed, kept
        assertThat(pacer.due(2 * S / 1000)).isEqualTo(1);
        assertThat(pacer.due(S)).isEqualTo(499);
        assertThat(pacer.waitMillis()).isBetween(1L, 2L);
        pacer.setMode(LoadMode.OFF);
        assertThat(pacer.due(2 * S)).isZero();
        assertThat(pacer.waitMillis()).isEqualTo(50);
    }

    @Test
    void nothingIsOwedUntilTheCapacityIsKnown() {
        Pacer pacer = new Pacer(new LoadMode("low", 0.3), 0, List.of(), 0);
        assertThat(pacer.due(10 * S)).isZero();
        pacer.setCapacity(100);
        assertThat(pacer.due(11 * S)).isEqualTo(30);
    }

    @Test
    void playsTheProfileOnceAndStaysOnItsLastStep() {
        List<Balancer.Step> profile = List.of(new Balancer.Step(new LoadMode("low", 0.3), Duration.ofSeconds(2)),
                new Balancer.Step(new LoadMode("high", 0.85), Duration.ofSeconds(1)));
        Pacer pacer = new Pacer(LoadMode.OFF, 100, profile, 0);
        assertThat(pacer.followProfile(0).mode().name()).isEqualTo("low");
        assertThat(pacer.followProfile(2 * S - 1)).isNull();
        pacer.setMode(LoadMode.custom(2)); // an operator's command wins until the next step
        assertThat(pacer.mode().replicas()).isEqualTo(2);
        assertThat(pacer.followProfile(2 * S).mode().name()).isEqualTo("high");
        assertThat(pacer.followProfile(100 * S)).isNull();
        assertThat(pacer.mode().name()).isEqualTo("high");
    }
}
