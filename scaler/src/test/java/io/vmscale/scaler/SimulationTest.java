package io.vmscale.scaler;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmscale.broker.event.CpuSample;
import java.time.Duration;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.Envelope;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.ScaleAction;
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

    /** 20 %, and 100 % from 10 s to 20 s (longer than the 5 s window): a calibration when the balancer marks it. */
    private static List<Envelope<? extends Event>> measuredAt100(boolean marked) {
        List<Envelope<? extends Event>> log = new ArrayList<>();
        Endpoint endpoint = new Endpoint("127.0.0.1", 21001);
        log.add(Envelope.of(new VmLifecycle("vmscale-0000", "qemu:///system", endpoint, ReplicaState.READY, "found"),
                T0, "scaler@test", 1));
        double[] cpu = constant(40, 20);
        java.util.Arrays.fill(cpu, 10, 20, 100);
        log.addAll(samples(cpu));
        if (marked) {
            for (int ms = 9_500; ms < 21_000; ms += 500) {
                boolean calibrating = ms < 19_500;
                log.add(Envelope.of(new io.vmscale.broker.event.LbStats(0, 0, 0, 0, 0, 0, 0, 0, java.util.Map.of(
                        endpoint.toString(), new io.vmscale.broker.event.LbStats.ServerStats(1, 1, 0, 0, 16, false, false,
                                calibrating)), "low", 500), T0.plusMillis(ms), "balancer@test", 1000 + ms));
            }
        }
        return log;
    }

    @Test
    void aReplicaTheBalancerMarksCalibratingIsNotLoadInTheSimulationEither() {
        assertThat(Simulation.run(measuredAt100(false), Policies.of(CONFIG), CONFIG, 75).simulated().decisions())
                .extracting(s -> s.decision().action()).startsWith(ScaleAction.UP); // then DOWN at 20 % on two
        Simulation.Report report = Simulation.run(measuredAt100(true), Policies.of(CONFIG), CONFIG, 75);
        assertThat(report.simulated().decisions()).isEmpty();
        assertThat(report.simulated().overloadSeconds()).isZero();
    }

    @Test
    void aReplicaThatCameFromTheWarmPoolHasNoWarmUpInTheSimulationEither() {
        ScalerConfig config = new ScalerConfig("threshold-window", 1, 3, 0, 1000, 60, 10, 5, 0,
                new ScalerConfig.ThresholdWindowConfig(75, 30, 5), new ScalerConfig.TargetTrackingConfig(50, 0.1, 10, 30, 2, 1),
                ScalerConfig.WarmPoolConfig.NONE);
        Instant fromPool = downAt(config, VmLifecycle.FROM_WARM_POOL + " (paused)", true);
        Instant coldBoot = downAt(config, "scale up", false);
        assertThat(downAt(config, VmLifecycle.FROM_WARM_POOL + " (paused)", false))
                .as("the lifecycle event's warmStart says it, not its words").isEqualTo(coldBoot);
        // from the pool its samples count at READY (6.1 s): DOWN one window after the load fell (8 s);
        // from a cold boot they count 5 s later (11.1 s), and the window starts again then
        assertThat(Duration.between(T0, fromPool).toSeconds()).isBetween(12L, 14L);
        assertThat(Duration.between(T0, coldBoot).toSeconds()).isBetween(16L, 18L);
    }

    /** One replica at 90 %, an UP at 6 s whose replica is READY 0.1 s later, then 20 % from 8 s: the simulated DOWN. */
    private static Instant downAt(ScalerConfig config, String startingReason, boolean warmStart) {
        List<Envelope<? extends Event>> log = new ArrayList<>(samples(constant(8, 90)));
        for (int s = 8; s < 30; s++) {
            log.add(Envelope.of(new CpuSample("qemu:///system", "vmscale-0000", "RUNNING", 1, 0, 20, 1000),
                    T0.plusSeconds(s), "monitor@test", s + 1));
            if (s >= 7) {
                log.add(Envelope.of(new CpuSample("qemu:///system", "vmscale-0001", "RUNNING", 1, 0, 20, 1000),
                        T0.plusSeconds(s).plusMillis(5), "monitor@test", 100 + s));
            }
        }
        Endpoint at = new Endpoint("127.0.0.1", 21101);
        log.add(Envelope.of(new ScaleDecision(ScaleAction.UP, 1, 2, "threshold-window", "AboveHighThreshold", "high",
                java.util.Map.of(), null), T0.plusSeconds(6), "scaler@test", 200));
        log.add(Envelope.of(new VmLifecycle("vmscale-0001", "qemu:///system", at, ReplicaState.STARTING, startingReason,
                warmStart),
                T0.plusSeconds(6).plusMillis(20), "scaler@test", 201));
        log.add(Envelope.of(new VmLifecycle("vmscale-0001", "qemu:///system", at, ReplicaState.READY, startingReason,
                warmStart),
                T0.plusSeconds(6).plusMillis(100), "scaler@test", 202));
        Simulation.Report report = Simulation.run(log, Policies.of(config), config, 75);
        assertThat(report.simulated().decisions()).extracting(st -> st.decision().action())
                .containsExactly(ScaleAction.UP, ScaleAction.DOWN);
        return report.simulated().decisions().get(1).at();
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
