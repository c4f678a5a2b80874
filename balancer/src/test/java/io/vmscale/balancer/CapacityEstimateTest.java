package io.vmscale.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class CapacityEstimateTest {
    @Test
    void theMedianOfTheLastFiveSoOneOutlierDoesNotMoveIt() {
        CapacityEstimate estimate = new CapacityEstimate();
        assertThat(estimate.estimate()).isZero();
        assertThat(estimate.add(800)).isEqualTo(800);
        assertThat(estimate.add(900)).isEqualTo(850);
        assertThat(estimate.add(5000)).as("one disturbed measurement").isEqualTo(900);
        assertThat(estimate.add(820)).isEqualTo(860);
        assertThat(estimate.add(810)).isEqualTo(820);
        assertThat(estimate.add(700)).as("800 has gone out of the five").isEqualTo(820);
        assertThat(estimate.measurements()).isEqualTo(6);
    }

    @Test
    void refusesWhatIsNotACapacity() {
        CapacityEstimate estimate = new CapacityEstimate();
        for (double bad : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
            assertThatThrownBy(() -> estimate.add(bad)).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
