package io.vmscale.balancer;

import java.util.List;

/**
 * How many requests the generator owes: a rate (the load mode, in replicas' worth, times one
 * replica's capacity), accumulated as credit between turns, and a load profile played once from
 * start (an operator's command wins until the next step). Pure: every method takes the caller's
 * {@code now}. Touched by the balancer's thread only.
 */
final class Pacer {
    private final List<Balancer.Step> profile;
    private LoadMode mode;
    private double capacity;
    private double credit;
    private long lastTick;
    private int profileStep = -1;
    private long profileStepEnds;

    Pacer(LoadMode initial, double capacity, List<Balancer.Step> profile, long now) {
        this.mode = initial;
        this.capacity = capacity;
        this.profile = List.copyOf(profile);
        this.lastTick = now;
    }

    LoadMode mode() {
        return mode;
    }

    void setMode(LoadMode mode) {
        this.mode = mode;
    }

    /** One replica's capacity, requests per second (0 until calibrated). */
    double capacity() {
        return capacity;
    }

    void setCapacity(double capacity) {
        this.capacity = capacity;
    }

    /** A turn's wait while no load is offered. */
    static final long IDLE_WAIT_MILLIS = 50;

    /** Whether the profile has no step left to start. */
    boolean profileDone() {
        return profileStep + 1 >= profile.size();
    }

    /** Requests per second offered now. */
    double rate() {
        return mode.replicas() * capacity;
    }

    /** The profile's step that starts now, or null when the step goes on (or there is no profile). */
    Balancer.Step followProfile(long now) {
        if (profileStep + 1 >= profile.size() || (profileStep >= 0 && now - profileStepEnds < 0)) {
            return null;
        }
        profileStep++;
        Balancer.Step step = profile.get(profileStep);
        mode = step.mode();
        profileStepEnds = now + step.duration().toNanos();
        return step;
    }

    /** The whole requests owed since the last call; the fraction is kept for the next. */
    long due(long now) {
        credit += rate() * (now - lastTick) / 1e9;
        lastTick = now;
        long whole = (long) credit;
        credit -= whole;
        return whole;
    }

    /** How long the loop may wait before a request falls due, milliseconds (1..50). */
    long waitMillis() {
        double rate = rate();
        if (rate <= 0) {
            return IDLE_WAIT_MILLIS;
        }
        return Math.max(1, Math.min(IDLE_WAIT_MILLIS, (long) ((1 - credit) / rate * 1000)));
    }
}
