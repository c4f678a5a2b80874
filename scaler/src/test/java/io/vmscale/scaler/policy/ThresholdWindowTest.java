package io.vmscale.scaler.policy;

import static io.vmscale.scaler.policy.PolicyFixtures.T0;
import static io.vmscale.scaler.policy.PolicyFixtures.constant;
import static io.vmscale.scaler.policy.PolicyFixtures.ready;
import static io.vmscale.scaler.policy.PolicyFixtures.series;
import static io.vmscale.scaler.policy.PolicyFixtures.state;
import static org.assertj.core.api.Assertions.assertThat;

import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class ThresholdWindowTest {
    /** HIGH 80, LOW 20, a 10 s window, 1 to 4 replicas, 15 s of cooldown. */
    private static final ThresholdWindow POLICY = new ThresholdWindow(80, 20, Duration.ofSeconds(10),
            new Limits(1, 4, Duration.ofSeconds(15)));

    private static List<Sample> both(List<Sample> a, List<Sample> b) {
        List<Sample> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    static Stream<Arguments> cases() {
        Instant now = T0.plusSeconds(19);
        return Stream.of(
                Arguments.of("every sample above HIGH: one more", series("r0", constant(20, 95)), List.of(ready("r0")),
                        now, null, ScaleAction.UP, 2, "AboveHighThreshold"),
                Arguments.of("one dip below HIGH in the window: hold", series("r0", 95, 95, 95, 95, 95, 95, 95, 95, 95,
                        95, 95, 95, 95, 95, 79, 95, 95, 95, 95, 95), List.of(ready("r0")), now, null, ScaleAction.HOLD, 1,
                        "WithinThresholds"),
                Arguments.of("every sample below LOW on two replicas: one fewer",
                        both(series("r0", constant(20, 5)), series("r1", constant(20, 10))),
                        List.of(ready("r0"), ready("r1")), now, null, ScaleAction.DOWN, 1, "BelowLowThreshold"),
                Arguments.of("low, but at the minimum", series("r0", constant(20, 5)), List.of(ready("r0")), now, null,
                        ScaleAction.HOLD, 1, "AtMinReplicas"),
                Arguments.of("high, but at the maximum",
                        Stream.of("r0", "r1", "r2", "r3").flatMap(d -> series(d, constant(20, 99)).stream()).toList(),
                        List.of(ready("r0"), ready("r1"), ready("r2"), ready("r3")), now, null, ScaleAction.HOLD, 4,
                        "AtMaxReplicas"),
                Arguments.of("one replica hot and one cool: hold",
                        both(series("r0", constant(20, 95)), series("r1", constant(20, 50))),
                        List.of(ready("r0"), ready("r1")), now, null, ScaleAction.HOLD, 2, "WithinThresholds"),
                Arguments.of("a booting replica: its CPU is not load, wait for it",
                        both(series("r0", constant(20, 95)), series("r1", constant(20, 100))),
                        List.of(ready("r0"), state("r1", ReplicaState.STARTING)), now, null, ScaleAction.HOLD, 2,
                        "WaitingForReplicas"),
                Arguments.of("a ready replica without samples: a missing sample is not a zero",
                        series("r0", constant(20, 5)), List.of(ready("r0"), ready("r1")), now, null, ScaleAction.HOLD,
                        2, "MissingSamples"),
                Arguments.of("less than a window of samples since start", series("r0", constant(5, 95)),
                        List.of(ready("r0")), T0.plusSeconds(4), null, ScaleAction.HOLD, 1, "WindowNotFull"),
                Arguments.of("in the cooldown", series("r0", constant(20, 95)), List.of(ready("r0")), now,
                        now.minusSeconds(10), ScaleAction.HOLD, 1, "CoolingDown"),
                Arguments.of("after the cooldown, a full window since the action: up again",
                        series("r0", constant(20, 95)), List.of(ready("r0")), now, now.minusSeconds(16),
                        ScaleAction.UP, 2, "AboveHighThreshold"),
                Arguments.of("below the minimum: up whatever the load", List.of(), List.of(), now, null,
                        ScaleAction.UP, 1, "BelowMinReplicas"),
                Arguments.of("a failed replica is not capacity", both(series("r0", constant(20, 50)), List.of()),
                        List.of(ready("r0"), state("r1", ReplicaState.FAILED)), now, null, ScaleAction.HOLD, 1,
                        "WithinThresholds"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void decides(String name, List<Sample> samples, List<ReplicaView> replicas, Instant now, Instant lastAction,
                 ScaleAction action, int to, String code) {
        ScaleDecision decision = POLICY.decide(new PolicyInput(samples, replicas, now, lastAction, List.of()));
        assertThat(decision.action()).as(decision.reason()).isEqualTo(action);
        assertThat(decision.toReplicas()).isEqualTo(to);
        assertThat(decision.reasonCode()).isEqualTo(code);
        assertThat(decision.policy()).isEqualTo("threshold-window");
        assertThat(decision.reason()).isNotBlank();
    }

    @Test
    void aWindowAfterAnActionNeedsAFullWindowOfNewSamples() {
        Limits noCooldown = new Limits(1, 4, Duration.ZERO);
        ThresholdWindow policy = new ThresholdWindow(80, 20, Duration.ofSeconds(10), noCooldown);
        List<Sample> samples = series("r0", constant(30, 95));
        Instant action = T0.plusSeconds(20);
        assertThat(policy.decide(new PolicyInput(samples, List.of(ready("r0")), T0.plusSeconds(25), action, List.of()))
                .reasonCode()).isEqualTo("WindowNotFull");
        assertThat(policy.decide(new PolicyInput(samples, List.of(ready("r0")), T0.plusSeconds(29), action, List.of()))
                .reasonCode()).isEqualTo("WindowNotFull");
        assertThat(policy.decide(new PolicyInput(samples, List.of(ready("r0")), T0.plusSeconds(30), action, List.of()))
                .action()).isEqualTo(ScaleAction.UP);
    }

    @Test
    void loadOscillatingAroundAThresholdNeverAlternatesUpAndDown() {
        Limits limits = new Limits(1, 4, Duration.ofSeconds(5));
        ThresholdWindow policy = new ThresholdWindow(80, 20, Duration.ofSeconds(10), limits);
        List<ScaleAction> actions = simulate(policy, second -> second % 2 == 0 ? 78.0 : 82.0);
        assertThat(actions).doesNotContain(ScaleAction.UP, ScaleAction.DOWN);
        List<ScaleAction> low = simulate(policy, second -> second % 2 == 0 ? 18.0 : 22.0);
        assertThat(low).doesNotContain(ScaleAction.UP, ScaleAction.DOWN);
    }

    /** Two minutes of once-a-second decisions over two ready replicas with the given CPU. */
    static List<ScaleAction> simulate(ScalingPolicy policy, java.util.function.IntToDoubleFunction cpu) {
        List<Sample> samples = new ArrayList<>();
        List<ScaleAction> actions = new ArrayList<>();
        Instant last = null;
        for (int second = 0; second < 120; second++) {
            Instant now = T0.plusSeconds(second);
            samples.add(new Sample("r0", now, cpu.applyAsDouble(second)));
            samples.add(new Sample("r1", now, cpu.applyAsDouble(second)));
            ScaleDecision decision = policy.decide(new PolicyInput(samples, List.of(ready("r0"), ready("r1")), now, last,
                    List.of()));
            actions.add(decision.action());
            if (decision.action() != ScaleAction.HOLD) {
                last = now;
            }
        }
        return actions;
    }
}
