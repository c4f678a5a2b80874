package io.vmscale.scaler.provision;

import io.vmscale.broker.event.Endpoint;
import io.vmscale.scaler.health.HealthCheck;
import io.vmscale.scaler.health.HealthCheckConfig;
import io.vmscale.scaler.health.HealthState;
import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;

/**
 * Checks a new replica until its application's health check has passed {@code healthyThreshold} times in a row:
 * readiness is the application answering, not a fixed wait. Bounded: one check every {@code retry} at most, until
 * the deadline.
 */
public final class ReadinessProbe {
    private ReadinessProbe() {
    }

    /** True when the built-in service answered correctly before the deadline (one question every {@code retry}). */
    public static boolean answers(Endpoint endpoint, Duration deadline, Duration retry) {
        return answers(endpoint, deadline, retry, () -> true);
    }

    /** The same; gives up early once {@code keepTrying} says no. */
    public static boolean answers(Endpoint endpoint, Duration deadline, Duration retry, BooleanSupplier keepTrying) {
        return until(HealthCheck.of(HealthCheckConfig.UDP_WIRE), HealthCheckConfig.UDP_WIRE, endpoint, deadline, retry,
                keepTrying).healthy();
    }

    /**
     * Checks until the replica is healthy, the deadline passes or {@code keepTrying} says no; returns the state
     * (healthy or not, the last result). Each check waits its configured timeout; a udp-wire check asks again every
     * {@code retry} within it (a question sent before the guest listened is lost).
     */
    public static HealthState until(HealthCheck check, HealthCheckConfig config, Endpoint endpoint, Duration deadline,
                                    Duration retry, BooleanSupplier keepTrying) {
        HealthState state = new HealthState(config, Instant.now(), false);
        long end = System.nanoTime() + deadline.toNanos();
        Duration timeout = config.timeout();
        while (System.nanoTime() < end && keepTrying.getAsBoolean()) {
            long t0 = System.nanoTime();
            Duration left = Duration.ofNanos(Math.max(1_000_000, end - t0));
            if (state.record(check.check(endpoint, min(timeout, left), retry)) == HealthState.Transition.HEALTHY) {
                return state;
            }
            long pause = retry.toNanos() - (System.nanoTime() - t0);
            if (pause > 0) {
                java.util.concurrent.locks.LockSupport.parkNanos(Math.min(pause, Math.max(0, end - System.nanoTime())));
            }
        }
        return state;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
