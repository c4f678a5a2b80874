package io.vmscale.cli.demo;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** A demo's voice: one {@code demo: ...} line per step, waiting for what the story needs with a deadline. */
final class Narrator {
    private final PrintWriter out;

    Narrator(PrintWriter out) {
        this.out = out;
    }

    void step(String format, Object... args) {
        out.printf(Locale.ROOT, "demo: " + format + "%n", args);
        out.flush();
    }

    /** Holds for the story's pace (not a synchronisation: nothing waits on it). */
    void pause(Duration duration) throws InterruptedException {
        step("holding for %d s", duration.toSeconds());
        new CountDownLatch(1).await(duration.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Waits until the condition holds, at most {@code max}; says how long it took, or that it did not happen. */
    boolean waitFor(String what, Duration max, BooleanSupplier condition) throws InterruptedException {
        step("waiting for %s (at most %d s)", what, max.toSeconds());
        long started = System.nanoTime();
        long deadline = started + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                step("FAILED: no %s within %d s", what, max.toSeconds());
                return false;
            }
            new CountDownLatch(1).await(100, TimeUnit.MILLISECONDS);
        }
        step("%s after %.1f s", what, (System.nanoTime() - started) / 1e9);
        return true;
    }
}
