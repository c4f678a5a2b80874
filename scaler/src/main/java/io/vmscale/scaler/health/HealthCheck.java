package io.vmscale.scaler.health;

import io.vmscale.broker.event.Endpoint;
import java.time.Duration;
import java.time.Instant;

/** One check of a replica's application: asks once, answers whether it passed and what was seen. Thread-safe. */
public interface HealthCheck {

    /**
     * What one check saw.
     *
     * @param passed whether it counts as healthy
     * @param detail what was seen, in words: {@code HTTP 200}, {@code connection refused}, {@code no answer in 2000 ms}
     * @param millis how long it took
     * @param at     when it ended
     */
    record Result(boolean passed, String detail, long millis, Instant at) {
        @Override
        public String toString() {
            return (passed ? "passed: " : "failed: ") + detail + " (" + millis + " ms)";
        }
    }

    /** Checks once; never throws: what went wrong is a failed result. */
    Result check(Endpoint target, Duration timeout);

    /**
     * The same, asking again every {@code resend} within the timeout where the protocol loses questions (UDP): any
     * right answer passes. Other checks ask once.
     */
    default Result check(Endpoint target, Duration timeout, Duration resend) {
        return check(target, timeout);
    }

    /** The check the configuration describes. */
    static HealthCheck of(HealthCheckConfig config) {
        return switch (config.type()) {
            case "tcp" -> new TcpCheck();
            case "http" -> new HttpCheck(config.path(), config.statusMin(), config.statusMax());
            default -> new UdpWireCheck();
        };
    }

    /** Milliseconds since {@code t0} (a {@link System#nanoTime()}). */
    static long since(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }
}
