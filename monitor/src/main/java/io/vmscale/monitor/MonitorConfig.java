package io.vmscale.monitor;

import io.vmscale.config.InvalidValueException;
import java.util.List;

/**
 * The monitor.
 *
 * @param intervalMs how often every domain's CPU is read and published (100 ms to 1 hour)
 * @param uris       the hosts (of {@code libvirt.uris}) this process's monitor reads; empty: every one. One monitor
 *                   per host, each on its host, is {@code vmscale monitor --uri URI} there and this key naming the
 *                   hosts the main process reads itself.
 */
public record MonitorConfig(int intervalMs, List<String> uris) {
    public MonitorConfig {
        InvalidValueException.range("intervalMs", intervalMs, 100, 3_600_000);
        uris = uris == null ? List.of() : List.copyOf(uris);
        for (int i = 0; i < uris.size(); i++) {
            InvalidValueException.text("uris[" + i + "]", uris.get(i));
        }
    }

    /** Every host. */
    public MonitorConfig(int intervalMs) {
        this(intervalMs, List.of());
    }

    /** The same, reading these hosts only. */
    public MonitorConfig withUris(List<String> only) {
        return new MonitorConfig(intervalMs, only);
    }
}
