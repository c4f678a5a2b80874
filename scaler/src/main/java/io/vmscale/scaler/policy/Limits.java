package io.vmscale.scaler.policy;

import java.time.Duration;

/**
 * What every policy respects.
 *
 * @param minReplicas fewest replicas
 * @param maxReplicas most replicas
 * @param cooldown    no UP or DOWN this soon after the last one
 */
public record Limits(int minReplicas, int maxReplicas, Duration cooldown) {
    public Limits {
        if (minReplicas < 0 || maxReplicas < Math.max(1, minReplicas)) {
            throw new IllegalArgumentException("need 0 <= minReplicas <= maxReplicas and maxReplicas >= 1, got "
                    + minReplicas + ".." + maxReplicas);
        }
    }
}
