package io.vmscale.balancer;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures every replica that joins, one at a time, on the balancer's own traffic, and keeps the
 * blended estimate ({@link CapacityEstimate}). While a replica is measured it is kept saturated: the
 * membership gives it every request it has room for (so it serves as much of the real traffic as it
 * can, from the first turn), and only the room the real requests leave is topped up with requests of
 * the calibration's own. After {@link #RAMP} (its queue fills) its answers are counted for
 * {@link #TIME}: the answers per second of a replica at saturation are its capacity. A replica is
 * measured once its slow start is over (a cold JVM would measure low), except the first, since no
 * load is offered before there is an estimate: it is measured at once, and kept saturated until its
 * slow start is over (at least {@link #FIRST_RAMP}) before its answers count, so that it is warm too.
 * No measurement starts while another VM boots or migrates on the hosts (its CPU would be measured
 * too: 69.6 requests/s was read during a warm-pool boot where 723 had been), and one under way when a
 * VM starts booting is abandoned and made again later. The start and the end of each measurement
 * are announced at once ({@code lb.stats} marks the replica calibrating), so that the scaler does not
 * take the CPU it costs for the clients' load. Touched by the balancer's thread only; the results are
 * readable from any thread.
 */
final class Calibrator {
    private static final Logger log = LoggerFactory.getLogger(Calibrator.class);
    /** Answers before this are not counted: the replica's queue fills. */
    static final Duration RAMP = Duration.ofMillis(700);
    /**
     * The first replica is measured at once, often just booted: it is kept saturated this long before its answers
     * count, and at least until its slow start is over: a cold guest under software emulation measured 195-468
     * requests/s where a warm one serves about 700. The scaler knows (the replica is marked calibrating), so this
     * CPU is not taken for load however long it lasts.
     */
    static final Duration FIRST_RAMP = Duration.ofMillis(1500);
    /** How long answers are counted at saturation, after the ramp. */
    static final Duration TIME = Duration.ofMillis(2500);

    /** Sends one calibration request to the replica; false when it has no room for one. */
    interface Filler {
        boolean fill(Replica replica, long now);
    }

    private final long work;
    private final int window;
    private final Membership membership;
    private final Consumer<Double> capacityChanged;
    private final Runnable announce;
    private final BooleanSupplier quiet;
    private final CapacityEstimate estimate = new CapacityEstimate();
    private final ArrayDeque<Replica> waiting = new ArrayDeque<>();
    private Replica measuring;
    private boolean counting;
    private long countFrom;
    private long countUntil;
    private long realAtStart;
    private long fillerAtStart;
    private volatile Calibration last;
    private volatile double capacity;
    private volatile int calibrations;

    /**
     * @param window          requests in flight a measured replica is kept at (the membership's limit per replica)
     * @param capacityChanged called on the balancer's thread with each new estimate
     * @param announce        called on the balancer's thread when a measurement starts or ends: stats go out soon
     * @param quiet           no VM boots or migrates now (its CPU would disturb a measurement)
     */
    Calibrator(long work, int window, Membership membership, Consumer<Double> capacityChanged, Runnable announce,
               BooleanSupplier quiet) {
        this.work = work;
        this.window = window;
        this.membership = membership;
        this.capacityChanged = capacityChanged;
        this.announce = announce;
        this.quiet = quiet;
    }

    /** A replica joined: it will be measured after those before it. */
    void add(Replica replica) {
        waiting.add(replica);
    }

    Calibration last() {
        return last;
    }

    /** The estimate: the median of the last calibrations, 0 before the first. */
    double capacity() {
        return capacity;
    }

    /** Nothing being measured, nobody waiting to be. */
    boolean idle() {
        return measuring == null && waiting.isEmpty();
    }

    int calibrations() {
        return calibrations;
    }

    /** Once per turn, after the real requests went out: starts, tops up, counts and ends a measurement. */
    void turn(long now, Filler filler) {
        if (measuring == null && !start(now)) {
            return;
        }
        if (measuring.removed) {
            log.info("balancer: {} left during its calibration: not measured", measuring.endpoint);
            stop();
            return;
        }
        if (!quiet.getAsBoolean()) {
            log.info("balancer: a VM boots or migrates during the calibration of {}: measured again later",
                    measuring.endpoint);
            waiting.addFirst(measuring);
            stop();
            return;
        }
        if (!counting && now - countFrom >= 0) {
            counting = true;
            countFrom = now;
            countUntil = now + TIME.toNanos();
            realAtStart = measuring.answered;
            fillerAtStart = measuring.filled;
        }
        if (counting && now - countUntil >= 0) {
            finish(now);
            return;
        }
        while (filler.fill(measuring, now)) {
            // the room the real requests left
        }
    }

    private boolean start(long now) {
        Replica next = waiting.peek();
        while (next != null && next.removed) {
            waiting.poll();
            next = waiting.peek();
        }
        if (next == null || (capacity > 0 && !membership.rampedUp(next, now)) || !quiet.getAsBoolean()) {
            return false;
        }
        waiting.poll();
        measuring = next;
        counting = false;
        countFrom = capacity > 0 ? now + RAMP.toNanos()
                : Math.max(now + FIRST_RAMP.toNanos(), membership.rampedUpAt(next));
        membership.prefer(next);
        announce.run();
        return true;
    }

    private void stop() {
        measuring = null;
        membership.prefer(null);
        announce.run();
    }

    private void finish(long now) {
        Replica measured = measuring;
        stop();
        double seconds = (now - countFrom) / 1e9;
        double real = (measured.answered - realAtStart) / seconds;
        double filler = (measured.filled - fillerAtStart) / seconds;
        if (real + filler <= 0) {
            log.warn("balancer: {} gave no answer in its calibration{}", measured.endpoint,
                    estimate.measurements() == 0 ? ": measured again, no load is offered before an estimate" : "");
            if (estimate.measurements() == 0) {
                waiting.addLast(measured);
            }
            return;
        }
        Calibration result = new Calibration(measured.endpoint, work, real + filler, real, filler, window, seconds);
        last = result;
        capacity = estimate.add(result.capacityPerSecond());
        calibrations = estimate.measurements();
        log.info("balancer: calibrated on {}: {} requests/s of n={} at saturation ({} real, {} its own); "
                        + "one replica's capacity now {} requests/s ({} calibration(s))", measured.endpoint,
                fixed(result.capacityPerSecond()), work, fixed(real), fixed(filler), fixed(capacity), calibrations);
        capacityChanged.accept(capacity);
    }

    private static String fixed(double value) {
        return String.format(Locale.ROOT, "%.1f", value);
    }
}
