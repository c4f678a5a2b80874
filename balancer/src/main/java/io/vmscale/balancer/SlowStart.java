package io.vmscale.balancer;

import java.time.Duration;

/**
 * A replica that just joined gets its share of requests ramped up over a window, as Envoy's
 * {@code slow_start_config} and HAProxy's {@code slowstart}: its weight grows linearly from
 * {@link #MIN_WEIGHT} to 1 over the window, so that a cold JVM in a new VM is not hit with a full
 * share at once. Pure: the caller gives {@code now}.
 */
final class SlowStart {
    /** The weight at the start of the window (Envoy's default {@code min_weight_percent}, 10 %). */
    static final double MIN_WEIGHT = 0.1;

    private final long windowNanos;

    /** @param window the ramp; zero for none */
    SlowStart(Duration window) {
        if (window.isNegative()) {
            throw new IllegalArgumentException("the slow start window must not be negative, got " + window);
        }
        this.windowNanos = window.toNanos();
    }

    long windowNanos() {
        return windowNanos;
    }

    /** The replica's weight, {@link #MIN_WEIGHT}..1, {@code now - joinedAt} after it joined. */
    double weight(long joinedAt, long now) {
        long elapsed = now - joinedAt;
        if (windowNanos == 0 || elapsed >= windowNanos) {
            return 1;
        }
        return Math.max(MIN_WEIGHT, (double) Math.max(0, elapsed) / windowNanos);
    }
}
