package io.vmscale.monitor;

import io.vmscale.config.InvalidValueException;

/**
 * The monitor.
 *
 * @param intervalMs how often every domain's CPU is read and published (100 ms to 1 hour)
 */
public record MonitorConfig(int intervalMs) {
    public MonitorConfig {
        InvalidValueException.range("intervalMs", intervalMs, 100, 3_600_000);
    }
}
