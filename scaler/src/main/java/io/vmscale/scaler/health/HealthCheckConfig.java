package io.vmscale.scaler.health;

import io.vmscale.config.InvalidValueException;
import java.time.Duration;
import java.util.List;

/**
 * How a replica's application is checked, like a load balancer's target group: before it joins (READY) and all
 * the time after.
 *
 * @param type               {@code udp-wire}: the built-in service's question (n = 1022, the answer checked);
 *                           {@code tcp}: a connection is accepted; {@code http}: {@code GET path} answers a status in
 *                           {@code statusMin..statusMax}
 * @param path               http: the path asked, starting with {@code /}
 * @param statusMin          http: the lowest status that counts as healthy
 * @param statusMax          http: the highest status that counts as healthy
 * @param intervalMs         a READY replica is checked this often
 * @param timeoutMs          a check not answered within this long failed
 * @param healthyThreshold   checks passed in a row before a new replica is READY
 * @param unhealthyThreshold checks failed in a row before a READY replica is FAILED (and replaced)
 * @param graceSeconds       after a replica started, failed checks do not make it FAILED for this long (the
 *                           application may restart once while the guest settles)
 */
public record HealthCheckConfig(String type, String path, int statusMin, int statusMax, int intervalMs, int timeoutMs,
                                int healthyThreshold, int unhealthyThreshold, int graceSeconds) {
    public static final List<String> TYPES = List.of("udp-wire", "tcp", "http");
    /** The built-in service's check: its own question, every 5 s, 2 s to answer, FAILED after 3 misses. */
    public static final HealthCheckConfig UDP_WIRE = new HealthCheckConfig("udp-wire", "/healthz", 200, 399, 5000, 2000,
            1, 3, 0);

    public HealthCheckConfig {
        InvalidValueException.oneOf("type", type, TYPES);
        InvalidValueException.text("path", path);
        if (!path.startsWith("/")) {
            throw new InvalidValueException("path", "a path starting with /", "\"" + path + "\"");
        }
        InvalidValueException.range("statusMin", statusMin, 100, 599);
        InvalidValueException.range("statusMax", statusMax, statusMin, 599);
        InvalidValueException.range("intervalMs", intervalMs, 100, 3_600_000);
        InvalidValueException.range("timeoutMs", timeoutMs, 10, intervalMs);
        InvalidValueException.range("healthyThreshold", healthyThreshold, 1, 100);
        InvalidValueException.range("unhealthyThreshold", unhealthyThreshold, 1, 100);
        InvalidValueException.range("graceSeconds", graceSeconds, 0, 86_400);
    }

    public Duration interval() {
        return Duration.ofMillis(intervalMs);
    }

    public Duration timeout() {
        return Duration.ofMillis(timeoutMs);
    }

    public Duration grace() {
        return Duration.ofSeconds(graceSeconds);
    }

    /** In words, for logs and the status: {@code http GET /healthz 200-399 every 5 s}. */
    public String describe() {
        String what = switch (type) {
            case "http" -> "http GET " + path + " " + statusMin + "-" + statusMax;
            case "tcp" -> "tcp connect";
            default -> "udp-wire";
        };
        return what + " every " + intervalMs + " ms, " + timeoutMs + " ms timeout, healthy after " + healthyThreshold
                + ", unhealthy after " + unhealthyThreshold;
    }
}
