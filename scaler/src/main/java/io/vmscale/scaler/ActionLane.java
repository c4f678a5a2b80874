package io.vmscale.scaler;

import io.vmscale.broker.event.ScaleAction;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A thread that runs the scaler's actions one at a time, with its own back-off: after failures in a row it starts
 * nothing new for 1, 2, 4 ... 60 s, and a HOLD with its failure code says why. An optional action (a live migration)
 * counts its failures in a back-off of its own, so that a move that keeps failing never holds scaling back. Its fields
 * belong to the loop thread.
 */
final class ActionLane {
    /** Failures in a row of one kind of action, and until when that kind waits. The loop thread's. */
    static final class BackOff {
        private final String failureCode;
        private int failures;
        private Instant until;

        /** @param failureCode the HOLD's reason code when such an action fails */
        BackOff(String failureCode) {
            this.failureCode = failureCode;
        }

        boolean active(Instant now) {
            return until != null && now.isBefore(until);
        }
    }

    private static final Logger log = LoggerFactory.getLogger(ActionLane.class);

    private final Loop loop;
    private final DecisionLog decisions;
    private final ExecutorService executor;
    /** The lane's own: its actions that are not optional. */
    private final BackOff lane;
    /** What it is doing, or null. */
    private String doing;

    ActionLane(Loop loop, DecisionLog decisions, String thread, String failureCode) {
        this.loop = loop;
        this.decisions = decisions;
        this.executor = Executors.newSingleThreadExecutor(r -> Loop.daemon(r, thread));
        this.lane = new BackOff(failureCode);
    }

    /** An operator's action starts only on a settled fleet with nothing under way here; else it is refused, saying why. */
    void requireIdle() {
        if (busy() || !loop.fleet.settled()) {
            throw new IllegalArgumentException("busy: " + (busy() ? doing() : "a replica is on its way in or out")
                    + "; ask again once it is done");
        }
    }

    boolean busy() {
        return doing != null;
    }

    /** What it is doing, in words, or null. */
    String doing() {
        return doing;
    }

    boolean backingOff(Instant now) {
        return lane.active(now);
    }

    void run(String what, Runnable action) {
        run(what, action, lane);
    }

    /** @param backOff where its failures count: the lane's, or an optional kind's own */
    void run(String what, Runnable action, BackOff backOff) {
        if (executor.isShutdown()) {
            return; // the scaler is closing
        }
        doing = what;
        executor.execute(() -> {
            try {
                action.run();
                loop.submit(() -> backOff.failures = 0);
            } catch (RuntimeException e) {
                if (loop.closed()) {
                    log.debug("scaler: {} cut short: the scaler is closed", what);
                    return;
                }
                log.error("scaler: {} failed: {}", what, e.getMessage());
                loop.submit(() -> {
                    backOff.failures++;
                    Duration wait = backOff(backOff.failures);
                    backOff.until = loop.now().plus(wait);
                    decisions.say(ScaleAction.HOLD, backOff.failureCode, what + ": " + e.getMessage()
                            + "; trying again in " + wait.toSeconds() + " s (failure " + backOff.failures
                            + " in a row)", null);
                });
            } finally {
                loop.submit(() -> doing = null);
            }
        });
    }

    /** 1 s, 2 s, 4 s, ... at most 60 s after consecutive failed actions. */
    static Duration backOff(int failures) {
        return Duration.ofSeconds(Math.min(60, 1L << Math.min(6, Math.max(0, failures - 1))));
    }

    void close() {
        executor.shutdownNow();
    }
}
