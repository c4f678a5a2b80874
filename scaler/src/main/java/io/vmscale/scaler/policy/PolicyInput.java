package io.vmscale.scaler.policy;

import java.time.Instant;
import java.util.List;

/**
 * Everything a policy decides from; no clock, no I/O.
 *
 * @param samples         recent CPU samples of the replicas (any order)
 * @param replicas        the replicas and their states
 * @param now             the time of the decision
 * @param lastAction      when the last UP or DOWN was taken, or null for never
 * @param recommendations earlier target-tracking recommendations (time and replica count), newest last
 */
public record PolicyInput(List<Sample> samples, List<ReplicaView> replicas, Instant now, Instant lastAction,
                          List<Recommendation> recommendations) {
    public PolicyInput {
        samples = List.copyOf(samples);
        replicas = List.copyOf(replicas);
        recommendations = recommendations == null ? List.of() : List.copyOf(recommendations);
        if (now == null) {
            throw new IllegalArgumentException("now is required");
        }
    }

    /** A replica count a policy recommended at a time. */
    public record Recommendation(Instant at, int replicas) {
    }
}
