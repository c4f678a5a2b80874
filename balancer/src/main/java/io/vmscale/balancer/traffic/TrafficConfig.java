package io.vmscale.balancer.traffic;

import io.vmscale.config.InvalidValueException;
import java.time.Duration;
import java.util.List;

/**
 * What carries the application's traffic, fed by the lifecycle events.
 *
 * @param driver                {@code builtin}: the built-in UDP balancer (the built-in service's); {@code haproxy}:
 *                              HAProxy through its Runtime API; {@code exec}: an executable told of every change
 * @param haproxySocket         haproxy: its Runtime API socket ({@code stats socket PATH level admin})
 * @param haproxyBackend        haproxy: the group's backend, declared in HAProxy's configuration
 * @param haproxyServerOptions  haproxy: what {@code add server} gets after the address (e.g. {@code check inter 2s})
 * @param exec                  exec: the program, called with one change as JSON on its standard input
 * @param execTimeoutMs         exec: a run is killed after this long, and counts as not done
 * @param syncMs                everything is compared and synced again this often (what carries traffic may have
 *                              restarted), besides at once on every change
 */
public record TrafficConfig(String driver, String haproxySocket, String haproxyBackend, String haproxyServerOptions,
                            String exec, int execTimeoutMs, int syncMs) {
    public static final List<String> DRIVERS = List.of("builtin", "haproxy", "exec");
    /** The built-in balancer. */
    public static final TrafficConfig BUILTIN = new TrafficConfig("builtin", "/run/haproxy/admin.sock", "vmscale", "",
            "", 5000, 1000);

    public TrafficConfig {
        InvalidValueException.oneOf("driver", driver, DRIVERS);
        if (haproxySocket == null || haproxyBackend == null || haproxyServerOptions == null || exec == null) {
            throw new InvalidValueException(haproxySocket == null ? "haproxySocket" : haproxyBackend == null
                    ? "haproxyBackend" : haproxyServerOptions == null ? "haproxyServerOptions" : "exec", "a string",
                    "null");
        }
        if (driver.equals("haproxy")) {
            InvalidValueException.text("haproxySocket", haproxySocket);
            if (!haproxyBackend.matches("[A-Za-z0-9_.:-]+")) {
                throw new InvalidValueException("haproxyBackend", "a backend name (letters, digits, '_', '.', ':', '-')",
                        "\"" + haproxyBackend + "\"");
            }
        }
        if (haproxyServerOptions.contains("\n") || haproxyServerOptions.contains(";")) {
            throw new InvalidValueException("haproxyServerOptions", "server options on one line, without ';'",
                    "\"" + haproxyServerOptions + "\"");
        }
        if (driver.equals("exec")) {
            InvalidValueException.text("exec", exec);
        }
        InvalidValueException.range("execTimeoutMs", execTimeoutMs, 100, 600_000);
        InvalidValueException.range("syncMs", syncMs, 100, 600_000);
    }

    public boolean builtin() {
        return driver.equals("builtin");
    }

    public Duration sync() {
        return Duration.ofMillis(syncMs);
    }
}
