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

class TargetTrackingTest {
    /** Target 50 %, tolerance 10 %, mean over 5 s, 30 s of down stabilisation, +2/-1 per decision, 1..6 replicas. */
    private static final TargetTracking POLICY = new TargetTracking(50, 0.1, Duration.ofSeconds(5),
            Duration.ofSeconds(30), 2, 1, new Limits(1, 6, Duration.ZERO));
    private static final Instant NOW = T0.plusSeconds(9);

    private static List<Sample> each(int replicas, double cpu) {
        List<Sample> all = new ArrayList<>();
        for (int i = 0; i < replicas; i++) {
            all.addAll(series("r" + i, constant(10, cpu)));
        }
        return all;
    }

    private static List<ReplicaView> readyReplicas(int count) {
        List<ReplicaView> replicas = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            replicas.add(ready("r" + i));
        }
        return replicas;
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("at the target: hold", each(2, 50), readyReplicas(2), List.of(), ScaleAction.HOLD, 2,
                        "WithinTolerance"),
                Arguments.of("inside the tolerance band: hold", each(2, 54), readyReplicas(2), List.of(),
                        ScaleAction.HOLD, 2, "WithinTolerance"),
                Arguments.of("twice the target on 2: 4 wanted, 2 at a time", each(2, 100), readyReplicas(2), List.of(),
                        ScaleAction.UP, 4, "AboveTarget"),
                Arguments.of("far above: limited to +2", each(1, 100 * 2.9), readyReplicas(1), List.of(),
                        ScaleAction.UP, 3, "ScaleUpLimit"),
                Arguments.of("quarter load on 4: 2 are enough, 1 at a time", each(4, 25), readyReplicas(4), List.of(),
                        ScaleAction.DOWN, 3, "ScaleDownLimit"),
                Arguments.of("low, but 4 were recommended 10 s ago: stabilised", each(4, 25), readyReplicas(4),
                        List.of(new PolicyInput.Recommendation(NOW.minusSeconds(10), 4)), ScaleAction.HOLD, 4,
                        "ScaleDownStabilised"),
                Arguments.of("a recommendation older than the window does not hold it", each(2, 10), readyReplicas(2),
                        List.of(new PolicyInput.Recommendation(NOW.minusSeconds(60), 6)), ScaleAction.DOWN, 1,
                        "BelowTarget"),
                Arguments.of("capped at the maximum", each(6, 95), readyReplicas(6), List.of(), ScaleAction.HOLD, 6,
                        "WithinTolerance"),
                Arguments.of("a booting replica: wait", each(1, 95), List.of(ready("r0"), state("r1", ReplicaState.STARTING)),
                        List.of(), ScaleAction.HOLD, 2, "WaitingForReplicas"),
                Arguments.of("a ready replica without samples: wait", each(1, 95), readyReplicas(2), List.of(),
                        ScaleAction.HOLD, 2, "MissingSamples"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void decides(String name, List<Sample> samples, List<ReplicaView> replicas,
                 List<PolicyInput.Recommendation> history, ScaleAction action, int to, String code) {
        ScaleDecision decision = POLICY.decide(new PolicyInput(samples, replicas, NOW, null, history));
        assertThat(decision.action()).as(decision.reason()).isEqualTo(action);
        assertThat(decision.toReplicas()).isEqualTo(to);
        assertThat(decision.reasonCode()).isEqualTo(code);
        assertThat(decision.inputs()).containsKeys("target", "meanCpu");
    }

    @Test
    void loadOscillatingAroundTheTargetNeverAlternatesUpAndDown() {
        TargetTracking policy = new TargetTracking(50, 0.1, Duration.ofSeconds(5), Duration.ofSeconds(30), 2, 1,
                new Limits(1, 6, Duration.ofSeconds(5)));
        List<Sample> samples = new ArrayList<>();
        List<PolicyInput.Recommendation> history = new ArrayList<>();
        List<ScaleAction> actions = new ArrayList<>();
        Instant last = null;
        for (int second = 0; second < 120; second++) {
            Instant now = T0.plusSeconds(second);
            double cpu = second % 2 == 0 ? 47 : 53; // noise around the target
            samples.add(new Sample("r0", now, cpu));
            samples.add(new Sample("r1", now, cpu));
            ScaleDecision decision = policy.decide(new PolicyInput(samples, List.of(ready("r0"), ready("r1")), now,
                    last, history));
            history.add(new PolicyInput.Recommendation(now, TargetTracking.recommendation(decision)));
            actions.add(decision.action());
            if (decision.action() != ScaleAction.HOLD) {
                last = now;
            }
        }
        assertThat(actions).containsOnly(ScaleAction.HOLD);
    }
}
