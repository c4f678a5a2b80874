package io.vmscale.balancer;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;

/**
 * One replica's capacity as the balancer believes it: the median of the last {@link #KEPT}
 * calibrations (each new replica is measured), so that one odd measurement does not move the load
 * modes on its own. A measurement taken while the other replicas serve on the same host is kept
 * like any other: replicas that share a host's cores serve less each, and that is what the load
 * modes must scale; a passing disturbance (a VM booting or migrating) is kept out by the
 * {@link Calibrator} instead, which does not measure meanwhile. Pure; the balancer's thread only.
 */
final class CapacityEstimate {
    static final int KEPT = 5;
    private final Deque<Double> recent = new ArrayDeque<>();
    private int measurements;

    /** Adds a measurement; returns the estimate with it. */
    double add(double capacityPerSecond) {
        if (!(capacityPerSecond > 0) || Double.isInfinite(capacityPerSecond)) {
            throw new IllegalArgumentException("a capacity must be a positive number, got " + capacityPerSecond);
        }
        recent.addLast(capacityPerSecond);
        measurements++;
        if (recent.size() > KEPT) {
            recent.removeFirst();
        }
        return estimate();
    }

    /** The median of the measurements kept; 0 before the first. */
    double estimate() {
        if (recent.isEmpty()) {
            return 0;
        }
        List<Double> sorted = new ArrayList<>(recent);
        Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /** Measurements added since start (the estimate uses the last {@link #KEPT}). */
    int measurements() {
        return measurements;
    }
}
