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

    /** Beyond the longest policy window, samples are kept this much longer (a monitor sampling every minute). */
    static final Duration SAMPLE_MARGIN = Duration.ofSeconds(60);

    private final Duration history;
    /** How long samples are kept: what the policies look at, not the whole history (1,000 replicas, 600,000). */
    private Duration keepSamples;
    private final Deque<Sample> samples = new ArrayDeque<>();
    private final List<PolicyInput.Recommendation> recommendations = new ArrayList<>();

    SampleWindow(Duration history) {
        this.history = history;
        this.keepSamples = history;
    }

    /** Samples are kept for the longest of the policies' windows, plus {@link #SAMPLE_MARGIN}, within the history. */
    void policyWindows(Duration longest) {
        Duration keep = longest.plus(SAMPLE_MARGIN);
        keepSamples = keep.compareTo(history) < 0 ? keep : history;
    }

    /** A sample that is load (in time order). */
    void add(Sample sample) {
        samples.add(sample);
    }

    /** Drops what is older than the history at {@code now}. */
    void trim(Instant now) {
        Instant oldestSample = now.minus(keepSamples);
        while (!samples.isEmpty() && samples.peekFirst().at().isBefore(oldestSample)) {
            samples.pollFirst();
        }
        Instant oldest = now.minus(history);
        recommendations.removeIf(r -> r.at().isBefore(oldest));
    }

    /** The samples kept now. */
    int size() {
        return samples.size();
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
