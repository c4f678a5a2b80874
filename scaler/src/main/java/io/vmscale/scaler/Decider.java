package io.vmscale.scaler;

import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.scaler.policy.PolicyInput;
import io.vmscale.scaler.policy.ReplicaView;
import io.vmscale.scaler.policy.Sample;
import io.vmscale.scaler.policy.ScalingPolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one decision step, shared by the live scaler and {@link Simulation} so that they cannot drift:
 * the policy sees only warm replicas' samples (a replica's samples count from {@code warmup} after it
 * became READY: boot and JIT CPU is not load), scale-in waits while a replica warms up, and a
 * scale-out no host has room for is held ({@code NoCapacity}, see {@link Placement}).
 * Pure: no clock, no I/O.
 */
record Decider(ScalingPolicy policy, Duration warmup) {

    Decider withPolicy(ScalingPolicy next) {
        return new Decider(next, warmup);
    }

    /**
     * @param replicas the replicas with {@code warmSince} already set (see {@link Fleet#views})
     * @param samples  every recent sample of the replicas, warm or not
     * @param room     where one more replica would go, or null when not known (a simulation)
     */
    ScaleDecision decide(List<ReplicaView> replicas, List<Sample> samples, Instant now, Instant lastAction,
                         List<PolicyInput.Recommendation> recommendations, Placement.Verdict room) {
        Map<String, Instant> warmSince = new LinkedHashMap<>();
        replicas.stream().filter(r -> r.warm(now)).forEach(r -> warmSince.put(r.domain(), r.warmSince()));
        List<Sample> counted = samples.stream()
                .filter(s -> warmSince.containsKey(s.domain()) && !s.at().isBefore(warmSince.get(s.domain())))
                .toList();
        PolicyInput input = new PolicyInput(counted, replicas, now, lastAction, recommendations);
        ScaleDecision decision = ScalingPolicy.blockScaleInWhileWarming(policy.decide(input), input);
        return noCapacity(decision, room);
    }

    private static ScaleDecision noCapacity(ScaleDecision decision, Placement.Verdict room) {
        // a minimum no host has room for too: an UP the reconciler could only answer with a HOLD would make the two
        // alternate every tick, and a HOLD like the last one is said once
        if (decision.action() != ScaleAction.UP || room == null || !room.full()) {
            return decision;
        }
        return new ScaleDecision(ScaleAction.HOLD, decision.fromReplicas(), decision.fromReplicas(), decision.policy(),
                "NoCapacity", decision.reason() + ", but no host has room for one more replica: " + room.figures(),
                decision.inputs(), null);
    }
}
