package io.vmscale.scaler.policy;

import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A scaling policy: a pure function from {@link PolicyInput} to a decision with a reason code and a
 * sentence. Every decision, HOLD included, is meant to be published.
 */
public interface ScalingPolicy {
    String name();

    ScaleDecision decide(PolicyInput input);

    /** Replicas that count as capacity now. */
    static int current(PolicyInput input) {
        return (int) input.replicas().stream().filter(ReplicaView::counted).count();
    }

    /** The checks every policy makes first: bounds, a replica still booting, the cooldown. Null when none applies. */
    static ScaleDecision guard(String policy, PolicyInput input, Limits limits, Map<String, Double> inputs) {
        int current = current(input);
        if (current < limits.minReplicas()) {
            return decision(ScaleAction.UP, current, current + 1, policy, "BelowMinReplicas",
                    current + " replica(s), fewer than the minimum " + limits.minReplicas(), inputs);
        }
        if (current > limits.maxReplicas()) {
            return decision(ScaleAction.DOWN, current, current - 1, policy, "AboveMaxReplicas",
                    current + " replica(s), more than the maximum " + limits.maxReplicas(), inputs);
        }
        long booting = input.replicas().stream().filter(r -> r.counted() && r.state() != ReplicaState.READY).count();
        if (booting > 0) {
            return decision(ScaleAction.HOLD, current, current, policy, "WaitingForReplicas",
                    booting + " replica(s) not ready yet: their CPU is not load, and they are capacity on its way",
                    inputs);
        }
        if (input.lastAction() != null) {
            Duration since = Duration.between(input.lastAction(), input.now());
            if (since.compareTo(limits.cooldown()) < 0) {
                return decision(ScaleAction.HOLD, current, current, policy, "CoolingDown",
                        "last action " + since.toSeconds() + " s ago, cooldown " + limits.cooldown().toSeconds() + " s",
                        inputs);
            }
        }
        return null;
    }

    static ScaleDecision decision(ScaleAction action, int from, int to, String policy, String code, String reason,
                                  Map<String, Double> inputs) {
        return new ScaleDecision(action, from, to, policy, code, reason, new LinkedHashMap<>(inputs), null);
    }
}
