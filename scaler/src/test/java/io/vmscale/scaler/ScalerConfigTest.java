package io.vmscale.scaler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vmscale.config.InvalidValueException;
import org.junit.jupiter.api.Test;

/** The copies of a scaler configuration: each changes what it names, keeps the rest, and is checked again. */
class ScalerConfigTest {
    private static final ScalerConfig CONFIG = new ScalerConfig("threshold-window", 1, 3, 10, 1000, 60, 10, -1, 0,
            new ScalerConfig.ThresholdWindowConfig(75, 30, 5), new ScalerConfig.TargetTrackingConfig(50, 0.1, 10, 30, 2, 1),
            ScalerConfig.WarmPoolConfig.NONE, 20, 30, 0);

    @Test
    void aBuilderUnchangedBuildsTheSame() {
        assertThat(CONFIG.toBuilder().build()).isEqualTo(CONFIG);
    }

    @Test
    void eachCopyChangesWhatItNamesAndKeepsTheRest() {
        assertThat(CONFIG.withLimits(2, 5)).isEqualTo(new ScalerConfig("threshold-window", 2, 5, 10, 1000, 60, 10, -1, 0,
                CONFIG.thresholdWindow(), CONFIG.targetTracking(), CONFIG.warmPool(), 20, 30, 0));
        assertThat(CONFIG.withHosts(5, -1)).isEqualTo(new ScalerConfig("threshold-window", 1, 3, 10, 1000, 60, 10, -1, 0,
                CONFIG.thresholdWindow(), CONFIG.targetTracking(), CONFIG.warmPool(), 5, -1, 0));
        assertThat(CONFIG.withRebalanceAbove(60)).isEqualTo(new ScalerConfig("threshold-window", 1, 3, 10, 1000, 60, 10,
                -1, 0, CONFIG.thresholdWindow(), CONFIG.targetTracking(), CONFIG.warmPool(), 20, 30, 60));
        assertThat(CONFIG.withPolicy("target-tracking")).isEqualTo(new ScalerConfig("target-tracking", 1, 3, 10, 1000,
                60, 10, -1, 0, CONFIG.thresholdWindow(), CONFIG.targetTracking(), CONFIG.warmPool(), 20, 30, 0));
        ScalerConfig.WarmPoolConfig pool = new ScalerConfig.WarmPoolConfig(1, "saved", -1, 100);
        assertThat(CONFIG.withWarmPool(pool)).isEqualTo(new ScalerConfig("threshold-window", 1, 3, 10, 1000, 60, 10, -1,
                0, CONFIG.thresholdWindow(), CONFIG.targetTracking(), pool, 20, 30, 0));
    }

    @Test
    void aCopyIsCheckedAsAtLoad() {
        assertThatThrownBy(() -> CONFIG.toBuilder().minReplicas(4).build())
                .isInstanceOf(InvalidValueException.class)
                .hasMessage("key 'maxReplicas': expected an integer from 4 to 1000, got 3");
    }
}
