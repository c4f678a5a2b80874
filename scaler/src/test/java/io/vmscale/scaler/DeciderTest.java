package io.vmscale.scaler;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.scaler.policy.Limits;
import io.vmscale.scaler.policy.ReplicaView;
import io.vmscale.scaler.policy.Sample;
import io.vmscale.scaler.policy.ThresholdWindow;
import io.vmscale.scaler.provision.Hypervisor;
import io.vmscale.scaler.provision.Provisioner;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The shared decision step: warm-up and the room guard around a threshold-window policy (HIGH 75, LOW 40, 5 s). */
class DeciderTest {
    private static final Instant T0 = Instant.parse("2026-11-24T10:00:00Z");
    private static final Decider DECIDER = new Decider(new ThresholdWindow(75, 40, Duration.ofSeconds(5),
            new Limits(1, 4, Duration.ofSeconds(5))), Duration.ofSeconds(5));

    /** A replica READY at {@code readySecond}, sampled every second from then on at the given CPU figures. */
    private record Replica(String domain, int readySecond, double... cpu) {
        ReplicaView view() {
            return new ReplicaView(domain, ReplicaState.READY, T0.plusSeconds(readySecond).plus(DECIDER.warmup()));
        }

        List<Sample> samples() {
            List<Sample> samples = new ArrayList<>();
            for (int i = 0; i < cpu.length; i++) {
                samples.add(new Sample(domain, T0.plusSeconds(readySecond + i), cpu[i]));
            }
            return samples;
        }
    }

    private static double[] constant(int seconds, double cpu) {
        double[] values = new double[seconds];
        java.util.Arrays.fill(values, cpu);
        return values;
    }

    private static double[] then(double[] a, double[] b) {
        double[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    static Stream<Arguments> cases() {
        Hypervisor.Host roomy = new Hypervisor.Host(8, 1);
        return Stream.of(
                Arguments.of("boot CPU during the warm-up, low after: no UP", List.of(
                        new Replica("r0", 0, then(constant(5, 100), constant(7, 20)))), 11, roomy,
                        ScaleAction.HOLD, "AtMinReplicas"),
                Arguments.of("boot CPU alone, still warming up: no decision on it", List.of(
                        new Replica("r0", 0, constant(4, 100))), 3, roomy, ScaleAction.HOLD, "WarmingUp"),
                Arguments.of("high on the warm replica, the new one warming: scale-out on the warm one", List.of(
                        new Replica("r0", -30, constant(42, 95)), new Replica("r1", 8, constant(4, 100))), 11, roomy,
                        ScaleAction.UP, "AboveHighThreshold"),
                Arguments.of("low on the warm replica, the new one warming: scale-in waits", List.of(
                        new Replica("r0", -30, constant(42, 10)), new Replica("r1", 8, constant(4, 10))), 11, roomy,
                        ScaleAction.HOLD, "WarmingUp"),
                Arguments.of("low on both once warm: DOWN", List.of(
                        new Replica("r0", -30, constant(52, 10)), new Replica("r1", 0, constant(22, 10))), 21, roomy,
                        ScaleAction.DOWN, "BelowLowThreshold"),
                Arguments.of("high, but one more replica would overload the host", List.of(
                        new Replica("r0", -30, constant(42, 95)), new Replica("r1", -30, constant(42, 95))), 11,
                        new Hypervisor.Host(2, 2), ScaleAction.HOLD, "NoCapacity"),
                Arguments.of("high, and the host has room", List.of(
                        new Replica("r0", -30, constant(42, 95)), new Replica("r1", -30, constant(42, 95))), 11,
                        new Hypervisor.Host(4, 2), ScaleAction.UP, "AboveHighThreshold"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void decides(String name, List<Replica> replicas, int nowSecond, Hypervisor.Host host, ScaleAction action,
                 String code) {
        List<Sample> samples = new ArrayList<>();
        replicas.forEach(r -> samples.addAll(r.samples()));
        ScaleDecision decision = DECIDER.decide(replicas.stream().map(Replica::view).toList(), samples,
                T0.plusSeconds(nowSecond), null, List.of(), Placement.place(new Provisioner.Observation(
                        replicas.stream().map(r -> new Provisioner.Observed(r.domain(), "qemu:///system",
                                Hypervisor.Power.RUNNING, 1, 0, null, null)).toList(), List.of(),
                        List.of(new Provisioner.HostSeen("qemu:///system", "127.0.0.1", -1, host, null))), 1.0));
        assertThat(decision.action() + " " + decision.reasonCode()).as(decision.reason()).isEqualTo(action + " " + code);
    }
}
