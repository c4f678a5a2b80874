package io.vmscale.scaler;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.Envelope;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.config.ScalerConfig;
import io.vmscale.scaler.policy.Policies;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SimulationTest {
    private static final Instant T0 = Instant.parse("2026-11-24T10:00:00Z");
    private static final ScalerConfig CONFIG = new ScalerConfig("threshold-window", 1, 3, 10, 1000, 60, 10, -1, 0,
            new ScalerConfig.ThresholdWindowConfig(75, 30, 5), new ScalerConfig.TargetTrackingConfig(50, 0.1, 10, 30, 2, 1),
            ScalerConfig.WarmPoolConfig.NONE);

    /** One replica, running before the log began, at the given CPU for each second. */
    private static List<Envelope<? extends Event>> samples(double... cpu) {
        List<Envelope<? extends Event>> log = new ArrayList<>();
        for (int s = 0; s < cpu.length; s++) {
            log.add(Envelope.of(new CpuSample("qemu:///system", "vmscale-0000", "RUNNING", 1, 0, cpu[s], 1000),
                    T0.plusSeconds(s), "monitor@test", s + 1));
        }
        return log;
    }

    private static double[] constant(int seconds, double cpu) {
        double[] values = new double[seconds];
        java.util.Arrays.fill(values, cpu);
        return values;
    }

    @Test
    void aReplicaRunningBeforeTheLogIsPartOfTheFleetAndItsLoadIsSpreadOverTheSimulatedOnes() {
        Simulation.Report report = Simulation.run(samples(constant(40, 90)), Policies.of(CONFIG), CONFIG, 75);
        // 90 % on one: UP after the 5 s window; 45 % each on two (after the 5 s default boot): holds
        assertThat(report.simulated().decisions()).extracting(s -> s.decision().action() + " " + s.decision().reasonCode())
                .containsExactly("UP AboveHighThreshold");
        assertThat(report.bootsMeasured()).isZero();
        assertThat(report.recorded().decisions()).isEmpty();
        // recorded: one replica overloaded all along; simulated: until the second one serves
        assertThat(report.recorded().overloadSeconds()).isGreaterThan(35);
        assertThat(report.simulated().overloadSeconds()).isBetween(5.0, 15.0);
        assertThat(report.simulated().replicaSeconds()).isGreaterThan(report.recorded().replicaSeconds());
    }

    @Test
    void aMissingSampleIsNotAZeroAndAnEmptyLogDecidesNothing() {
        assertThat(Simulation.run(List.of(), Policies.of(CONFIG), CONFIG, 75).simulated().decisions()).isEmpty();
        // 20 s at 10 % then silence: DOWN is not possible below the minimum of 1, and silence is not load
        Simulation.Report report = Simulation.run(samples(constant(20, 10)), Policies.of(CONFIG), CONFIG, 75);
        assertThat(report.simulated().count(ScaleAction.DOWN)).isZero();
        assertThat(report.simulated().count(ScaleAction.UP)).isZero();
    }
}
