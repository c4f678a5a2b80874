package io.vmscale.balancer;

import java.time.Duration;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * Outlier ejection, as Envoy does it: a replica whose requests time out K times in a row is ejected
 * for a period; when the period is over it gets one probe request at a time; an answer brings it
 * back, a probe that fails ejects it again for twice as long (up to a maximum). At most a fraction
 * of the replicas is ejected at once (never fewer than one), so that a bad signal, such as the
 * balancer's own network failing, cannot empty the pool.
 *
 * <p>A pure state machine: every method takes the caller's {@code now} in nanoseconds and nothing
 * here reads a clock. Touched by the balancer's thread only.
 */
final class OutlierDetector {
    /** Where a replica stands. */
    enum State {
        /** Takes requests up to its limit. */
        HEALTHY,
        /** Takes nothing until its period is over. */
        EJECTED,
        /** Its period is over: one request at a time until one is answered. */
        PROBING
    }

    /** What a timeout did. */
    enum Outcome {
        /** Counted; fewer than K in a row. */
        COUNTED,
        /** K in a row: ejected. */
        EJECTED,
        /** Its probe failed: ejected again, for longer. */
        PROBE_FAILED,
        /** K in a row, but as many replicas as allowed are ejected already: it stays in. */
        HELD_BY_MAX_EJECTED,
        /** A request sent before it was ejected timed out while it is ejected: nothing changes. */
        ALREADY_EJECTED
    }

    /** One replica's health; created by {@link #join()}. */
    static final class Health {
        private int timeoutsInARow;
        private int ejections;
        /** Ejected or probing. */
        private boolean out;
        /** When the current ejection ends (it is probing after that), while {@code out}. */
        private long ejectedUntil;
        private long lastPeriod;

        int timeoutsInARow() {
            return timeoutsInARow;
        }

        int ejections() {
            return ejections;
        }

        /** The length of the last ejection, nanoseconds. */
        long lastPeriod() {
            return lastPeriod;
        }
    }

    private final int ejectAfter;
    private final long baseNanos;
    private final long maxNanos;
    private final double maxEjectedFraction;
    private final Set<Health> members = Collections.newSetFromMap(new IdentityHashMap<>());

    /**
     * @param ejectAfter         timeouts in a row that eject (K)
     * @param base               the first ejection period; doubled for each probe that fails
     * @param max                the longest ejection period
     * @param maxEjectedFraction at most this fraction of the members ejected (or probing) at once, but
     *                           always at least one
     */
    OutlierDetector(int ejectAfter, Duration base, Duration max, double maxEjectedFraction) {
        if (ejectAfter < 1) {
            throw new IllegalArgumentException("ejectAfter must be >= 1, got " + ejectAfter);
        }
        if (base.isNegative() || base.isZero() || max.compareTo(base) < 0) {
            throw new IllegalArgumentException("ejection periods must be 0 < base <= max, got " + base + ", " + max);
        }
        if (!(maxEjectedFraction >= 0 && maxEjectedFraction <= 1)) {
            throw new IllegalArgumentException("maxEjectedFraction must be 0..1, got " + maxEjectedFraction);
        }
        this.ejectAfter = ejectAfter;
        this.baseNanos = base.toNanos();
        this.maxNanos = max.toNanos();
        this.maxEjectedFraction = maxEjectedFraction;
    }

    /** A replica joins, healthy. */
    Health join() {
        Health health = new Health();
        members.add(health);
        return health;
    }

    /** A replica leaves: it no longer counts towards the ejected fraction. */
    void leave(Health health) {
        members.remove(health);
    }

    State state(Health health, long now) {
        if (!health.out) {
            return State.HEALTHY;
        }
        return now - health.ejectedUntil < 0 ? State.EJECTED : State.PROBING;
    }

    /** Can it take one more request, with {@code inFlight} outstanding and room for {@code limit}? */
    boolean mayTake(Health health, long now, int inFlight, int limit) {
        return switch (state(health, now)) {
            case HEALTHY -> inFlight < limit;
            case EJECTED -> false;
            case PROBING -> inFlight == 0;
        };
    }

    /** How many members are ejected or probing now. */
    int ejectedCount() {
        int count = 0;
        for (Health h : members) {
            if (h.out) {
                count++;
            }
        }
        return count;
    }

    /** How many members may be ejected at once: the fraction of them, but at least one. */
    int maxEjected() {
        return Math.max(1, (int) Math.floor(maxEjectedFraction * members.size()));
    }

    /** One of its requests got no answer. */
    Outcome onTimeout(Health health, long now) {
        switch (state(health, now)) {
            case EJECTED -> {
                return Outcome.ALREADY_EJECTED;
            }
            case PROBING -> {
                eject(health, now);
                return Outcome.PROBE_FAILED;
            }
            default -> {
                health.timeoutsInARow++;
                if (health.timeoutsInARow < ejectAfter) {
                    return Outcome.COUNTED;
                }
                if (members.contains(health) && ejectedCount() >= maxEjected()) {
                    return Outcome.HELD_BY_MAX_EJECTED;
                }
                eject(health, now);
                return Outcome.EJECTED;
            }
        }
    }

    /** It answered: healthy again, its back-off forgotten. Says whether it was ejected or probing. */
    boolean onAnswer(Health health) {
        health.timeoutsInARow = 0;
        if (!health.out) {
            return false;
        }
        health.out = false;
        health.ejections = 0;
        return true;
    }

    private void eject(Health health, long now) {
        long period = Math.min(maxNanos, baseNanos << Math.min(health.ejections, 20));
        if (period <= 0) {
            period = maxNanos;
        }
        health.ejections++;
        health.lastPeriod = period;
        health.out = true;
        health.ejectedUntil = now + period;
        health.timeoutsInARow = 0;
    }
}
