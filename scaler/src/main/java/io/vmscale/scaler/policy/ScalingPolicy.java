package io.vmscale.scaler.policy;

import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

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
                        "last action completed " + since.toSeconds() + " s ago, cooldown "
                                + limits.cooldown().toSeconds() + " s", inputs);
            }
        }
        if (warm(input).isEmpty() && warming(input) > 0) {
            return decision(ScaleAction.HOLD, current, current, policy, "WarmingUp", warming(input)
                    + " replica(s) warming up after a cold boot until " + warmUntil(input) + ": their CPU is not load "
                    + "yet, and no replica is warm", inputs);
        }
        return null;
    }

    /** The READY replicas whose samples count now. */
    static Set<String> warm(PolicyInput input) {
        return input.replicas().stream().filter(r -> r.warm(input.now())).map(ReplicaView::domain)
                .collect(Collectors.toSet());
    }

    /** READY replicas still warming up. */
    static long warming(PolicyInput input) {
        return input.replicas().stream().filter(r -> r.warming(input.now())).count();
    }

    /** When the last replica still warming up becomes warm. */
    static Instant warmUntil(PolicyInput input) {
        return input.replicas().stream().filter(r -> r.warming(input.now())).map(ReplicaView::warmSince)
                .max(Instant::compareTo).orElse(input.now());
    }

    /** When the newest warm replica became warm, or null when none is warm. */
    static Instant lastWarm(PolicyInput input) {
        return input.replicas().stream().filter(r -> r.warm(input.now())).map(ReplicaView::warmSince)
                .max(Instant::compareTo).orElse(null);
    }

    /**
     * Scale-in waits while a replica warms up (its figures are not known yet); scale-out is decided on the
     * warm replicas, as EC2 Auto Scaling does. A DOWN becomes a HOLD that says so.
     */
    static ScaleDecision blockScaleInWhileWarming(ScaleDecision decision, PolicyInput input) {
        long warming = warming(input);
        if (decision.action() != ScaleAction.DOWN || warming == 0 || "AboveMaxReplicas".equals(decision.reasonCode())) {
            return decision;
        }
        return new ScaleDecision(ScaleAction.HOLD, decision.fromReplicas(), decision.fromReplicas(), decision.policy(),
                "WarmingUp", decision.reason() + ", but scale-in waits: " + warming + " replica(s) warming up after a "
                + "cold boot until " + warmUntil(input), decision.inputs(), null);
    }

    static ScaleDecision decision(ScaleAction action, int from, int to, String policy, String code, String reason,
                                  Map<String, Double> inputs) {
        return new ScaleDecision(action, from, to, policy, code, reason, new LinkedHashMap<>(inputs), null);
    }
}
