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
        assertThat(estimate.add(1000)).isEqualTo(900);
        assertThat(estimate.add(820)).isEqualTo(860);
        assertThat(estimate.add(810)).isEqualTo(820);
        assertThat(estimate.add(700)).as("800 has gone out of the five").isEqualTo(820);
        assertThat(estimate.measurements()).isEqualTo(6);
    }

    /** Seen in the demo: replicas measured while others carried the load on the same two cores read 214 and 71. */
    @Test
    void aMeasurementFarBelowTheBestIsTakenAsDisturbedAndLeftOut() {
        CapacityEstimate estimate = new CapacityEstimate();
        estimate.add(700);
        estimate.add(568);
        assertThat(estimate.estimate()).isEqualTo(634);
        assertThat(estimate.disturbed(214)).isTrue();
        assertThat(estimate.add(214)).as("214 < 0.6 x 700").isEqualTo(634);
        assertThat(estimate.add(71)).isEqualTo(634);
        assertThat(estimate.disturbed(430)).isFalse();
        assertThat(estimate.add(430)).as("430 >= 0.6 x 700: blended").isEqualTo(568);
    }

    @Test
    void aReplicaThatReallyBecameSlowerIsBelievedOnceTheBestHasGoneOutOfTheFive() {
        CapacityEstimate estimate = new CapacityEstimate();
        estimate.add(1000);
        for (int i = 0; i < CapacityEstimate.KEPT - 1; i++) {
            assertThat(estimate.add(300)).isEqualTo(1000);
        }
        assertThat(estimate.add(300)).isEqualTo(300);
    }

    /** Seen in the demo: a measurement during a warm-pool boot read 69.6 after a first figure of 723. */
    @Test
    void aFigureTakenColdOrDuringABootIsLeftOutWhicheverCameFirst() {
        CapacityEstimate cold = new CapacityEstimate();
        assertThat(cold.add(345)).as("the only figure there is").isEqualTo(345);
        assertThat(cold.add(700)).isEqualTo(700);
        CapacityEstimate disturbed = new CapacityEstimate();
        disturbed.add(723.2);
        assertThat(disturbed.add(69.6)).isEqualTo(723.2);
        assertThat(disturbed.measurements()).isEqualTo(2);
    }

    @Test
    void refusesWhatIsNotACapacity() {
        CapacityEstimate estimate = new CapacityEstimate();
        for (double bad : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
            assertThatThrownBy(() -> estimate.add(bad)).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
