package io.vmscale.balancer;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calibrates every replica that joins, one at a time, each on a thread of its own (a measurement
 * takes a few seconds), and keeps the blended estimate ({@link CapacityEstimate}). Its queue is
 * touched by the balancer's thread only; the results are readable from any thread.
 */
final class Calibrator {
    private static final Logger log = LoggerFactory.getLogger(Calibrator.class);
    /** How long a calibration counts answers at saturation (after its ramp). */
    static final Duration TIME = Duration.ofMillis(2500);

    /** The balancer's thread: run an action on it later, or run one there and wait for its result. */
    interface Loop extends Executor {
        <T> T call(Supplier<T> action);
    }

    private final long work;
    private final Duration timeout;
    private final Loop loop;
    private final Consumer<Double> capacityChanged;
    private final CapacityEstimate estimate = new CapacityEstimate();
    private final ArrayDeque<Replica> waiting = new ArrayDeque<>();
    private boolean measuring;
    private volatile Calibration.Result last;
    private volatile double capacity;
    private volatile int calibrations;

    /**
     * @param timeout         a replica that does not answer for this long fails its calibration
     * @param capacityChanged called on the balancer's thread with each new estimate
     */
    Calibrator(long work, Duration timeout, Loop loop, Consumer<Double> capacityChanged) {
        this.work = work;
        this.timeout = timeout;
        this.loop = loop;
        this.capacityChanged = capacityChanged;
    }

    /** A replica joined: it will be measured after those before it. */
    void add(Replica replica) {
        waiting.add(replica);
        next();
    }

    Calibration.Result last() {
        return last;
    }

    /** The estimate: the median of the last calibrations, 0 before the first. */
    double capacity() {
        return capacity;
    }

    int calibrations() {
        return calibrations;
    }

    private void next() {
        if (measuring) {
            return;
        }
        Replica replica = waiting.poll();
        while (replica != null && replica.removed) {
            replica = waiting.poll();
        }
        if (replica == null) {
            return;
        }
        measuring = true;
        Replica measured = replica;
        Thread worker = new Thread(() -> {
            try {
                Calibration.Result result = Calibration.measure(measured.endpoint, work, TIME, Calibration.WINDOW,
                        timeout, () -> loop.call(() -> measured.answered));
                loop.execute(() -> done(measured, result));
            } catch (IOException | RuntimeException e) {
                log.warn("balancer: calibration on {} failed ({}); going on with the next replica",
                        measured.endpoint, e.getMessage());
                loop.execute(() -> done(measured, null));
            }
        }, "balancer-calibration");
        worker.setDaemon(true);
        worker.start();
    }

    private void done(Replica measured, Calibration.Result result) {
        measuring = false;
        if (result != null) {
            last = result;
            capacity = estimate.add(result.capacityPerSecond());
            calibrations = estimate.measurements();
            log.info("balancer: calibrated on {}: {} requests/s of n={} at saturation ({} its own, {} the balancer's); "
                            + "one replica's capacity now {} requests/s ({} calibration(s))", measured.endpoint,
                    fixed(result.capacityPerSecond()), work, fixed(result.ownPerSecond()),
                    fixed(result.othersPerSecond()), fixed(capacity), calibrations);
            capacityChanged.accept(capacity);
        }
        next();
    }

    private static String fixed(double value) {
        return String.format(Locale.ROOT, "%.1f", value);
    }
}
