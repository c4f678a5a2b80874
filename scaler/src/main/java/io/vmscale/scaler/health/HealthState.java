package io.vmscale.scaler.health;

import java.time.Instant;

/**
 * One replica's health as a target group keeps it: a new replica is healthy after {@code healthyThreshold} passed
 * checks in a row; a healthy one is unhealthy after {@code unhealthyThreshold} failed checks in a row, except within
 * the grace period after its start (a run of failures begun in it counts at the first failure after it). A pass
 * ends a run of failures, a failure a run of passes. Pure: the caller gives the time; not thread-safe.
 */
public final class HealthState {
    /** What one result changed. */
    public enum Transition {
        NONE,
        /** It has passed enough checks in a row: it may serve. */
        HEALTHY,
        /** It has failed enough checks in a row (out of its grace period): it must not serve. */
        UNHEALTHY
    }

    private final HealthCheckConfig config;
    private final Instant started;
    private boolean healthy;
    private int passes;
    private int failures;
    private HealthCheck.Result last;

    /**
     * @param started when the replica started: the grace period runs from here
     * @param healthy whether it counts as healthy already (taken over from a readiness check)
     */
    public HealthState(HealthCheckConfig config, Instant started, boolean healthy) {
        this.config = config;
        this.started = started;
        this.healthy = healthy;
    }

    /** Folds in one result; says what it changed. */
    public Transition record(HealthCheck.Result result) {
        last = result;
        if (result.passed()) {
            passes++;
            failures = 0;
            if (!healthy && passes >= config.healthyThreshold()) {
                healthy = true;
                return Transition.HEALTHY;
            }
            return Transition.NONE;
        }
        failures++;
        passes = 0;
        if (healthy && failures >= config.unhealthyThreshold() && !inGrace(result.at())) {
            healthy = false;
            return Transition.UNHEALTHY;
        }
        return Transition.NONE;
    }

    /** Within the grace period after the start. */
    public boolean inGrace(Instant now) {
        return now.isBefore(started.plus(config.grace()));
    }

    public boolean healthy() {
        return healthy;
    }

    /** Failed checks in a row now. */
    public int failures() {
        return failures;
    }

    /** Passed checks in a row now. */
    public int passes() {
        return passes;
    }

    /** The last result, or null before the first. */
    public HealthCheck.Result last() {
        return last;
    }

    /** Why it became unhealthy, in words: the run of failures and the last one's detail. */
    public String reason() {
        return "health check failed " + failures + " time(s) in a row (" + config.type() + "): "
                + (last == null ? "no check yet" : last.detail());
    }

    /** The last check in words, for the status: {@code passed: HTTP 200 (3 ms)}, {@code failing 2 of 3: ...}. */
    public String describe() {
        if (last == null) {
            return "not checked yet";
        }
        if (last.passed()) {
            return last.toString();
        }
        return "failing " + failures + " of " + config.unhealthyThreshold() + ": " + last.detail() + " (" + last.millis()
                + " ms)";
    }
}
