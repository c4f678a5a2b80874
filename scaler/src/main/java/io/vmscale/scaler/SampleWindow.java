package io.vmscale.scaler;

import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.scaler.policy.PolicyInput;
import io.vmscale.scaler.policy.ReplicaView;
import io.vmscale.scaler.policy.Sample;
import io.vmscale.scaler.policy.TargetTracking;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The policy's memory, kept alike by the live scaler and {@link Simulation} so that they cannot drift: the
 * samples that are load and target tracking's past recommendations, each for {@link #HISTORY}, and the decision
 * step that reads and extends them.
 */
final class SampleWindow {
    /** How long samples and recommendations are kept: longer than any policy's window. */
    static final Duration HISTORY = Duration.ofMinutes(10);

    private final Duration history;
    private final Deque<Sample> samples = new ArrayDeque<>();
    private final List<PolicyInput.Recommendation> recommendations = new ArrayList<>();

    SampleWindow(Duration history) {
        this.history = history;
    }

    /** A sample that is load (in time order). */
    void add(Sample sample) {
        samples.add(sample);
    }

    /** Drops what is older than the history at {@code now}. */
    void trim(Instant now) {
        Instant oldest = now.minus(history);
        while (!samples.isEmpty() && samples.peekFirst().at().isBefore(oldest)) {
            samples.pollFirst();
        }
        recommendations.removeIf(r -> r.at().isBefore(oldest));
    }

    /** A replica gone from serving: its samples are no longer load. */
    void forget(String domain) {
        samples.removeIf(s -> s.domain().equals(domain));
    }

    /** Another policy: the last one's recommendations mean nothing to it. */
    void forgetRecommendations() {
        recommendations.clear();
    }

    /**
     * The decision of {@code decider} over the window (see {@link Decider#decide}); target tracking's
     * recommendation is remembered for its stabilisation.
     */
    ScaleDecision decide(Decider decider, List<ReplicaView> replicas, Instant now, Instant lastAction,
                         Placement.Verdict room) {
        ScaleDecision decision = decider.decide(replicas, new ArrayList<>(samples), now, lastAction, recommendations,
                room);
        if (decider.policy() instanceof TargetTracking) {
            recommendations.add(new PolicyInput.Recommendation(now, TargetTracking.recommendation(decision)));
        }
        return decision;
    }
}
