package io.vmscale.balancer;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;

/**
 * One replica's capacity as the balancer believes it, from the last {@link #KEPT} calibrations (each
 * new replica is measured). A measurement at saturation can only read low, never high: a neighbour
 * that takes the CPU, or a JIT not warm yet, lowers it, while nothing makes a replica answer faster
 * than it can. So a measurement below {@link #DISTURBED} of the best one kept is taken as disturbed
 * and left out, and the estimate is the median of the others (one measurement that reads a little
 * high or low does not move it). The best one leaves after {@link #KEPT} newer ones, so a replica
 * that really became slower is believed in the end.
 * Pure; the balancer's thread only.
 */
final class CapacityEstimate {
    static final int KEPT = 5;
    /** Below this fraction of the best measurement kept, a measurement is taken as disturbed. */
    static final double DISTURBED = 0.6;
    private final Deque<Double> recent = new ArrayDeque<>();
    private int measurements;

    /** Adds a measurement; returns the estimate with it. */
    double add(double capacityPerSecond) {
        check(capacityPerSecond);
        recent.addLast(capacityPerSecond);
        measurements++;
        if (recent.size() > KEPT) {
            recent.removeFirst();
        }
        return estimate();
    }

    /** The median of the measurements kept and not disturbed; 0 before the first. */
    double estimate() {
        if (recent.isEmpty()) {
            return 0;
        }
        double best = Collections.max(recent);
        List<Double> sorted = new ArrayList<>();
        for (double measured : recent) {
            if (!disturbed(measured, best)) {
                sorted.add(measured);
            }
        }
        Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /** The measurement would be left out of the estimate as it stands now. */
    boolean disturbed(double capacityPerSecond) {
        return !recent.isEmpty() && disturbed(capacityPerSecond, Math.max(capacityPerSecond, Collections.max(recent)));
    }

    private static boolean disturbed(double measured, double best) {
        return measured < DISTURBED * best;
    }

    /** Measurements added since start (the estimate uses the last {@link #KEPT}). */
    int measurements() {
        return measurements;
    }

    private static void check(double capacityPerSecond) {
        if (!(capacityPerSecond > 0) || Double.isInfinite(capacityPerSecond)) {
            throw new IllegalArgumentException("a capacity must be a positive number, got " + capacityPerSecond);
        }
    }
}
