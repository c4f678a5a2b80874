package io.vmscale.scaler.provision;

import io.vmscale.config.InvalidValueException;
import io.vmscale.scaler.health.HealthCheckConfig;
import java.time.Duration;
import java.util.List;

/**
 * What runs in the replicas and how it is looked after, like a launch template with its target group's health
 * check and its lifecycle hook: the built-in UDP service by default.
 *
 * @param healthCheck                   how a replica's application is checked, before it is READY and all the time
 *                                      after
 * @param stopTimeoutSeconds            a scale-in asks the guest to shut down (ACPI power button) and destroys it
 *                                      if it still runs after this long; 0: destroyed at once (the built-in guest
 *                                      does not act on the power button)
 * @param terminationHook               a program run between the drain and the shutdown, with the replica as JSON
 *                                      on its standard input (like an Auto Scaling lifecycle hook); "": none
 * @param terminationHookTimeoutSeconds the hook is killed after this long and its default result applies
 * @param terminationHookDefault        the result when the hook fails or times out: {@code continue} (the graceful
 *                                      shutdown goes on) or {@code abandon} (destroyed at once)
 */
public record ApplicationConfig(HealthCheckConfig healthCheck, int stopTimeoutSeconds, String terminationHook,
                                int terminationHookTimeoutSeconds, String terminationHookDefault) {
    public static final List<String> HOOK_RESULTS = List.of("continue", "abandon");
    /** The built-in service. */
    public static final ApplicationConfig BUILTIN = new ApplicationConfig(HealthCheckConfig.UDP_WIRE, 0, "", 30,
            "continue");

    public ApplicationConfig {
        if (healthCheck == null) {
            throw new InvalidValueException("healthCheck", "an object", "null");
        }
        InvalidValueException.range("stopTimeoutSeconds", stopTimeoutSeconds, 0, 3600);
        if (terminationHook == null) {
            throw new InvalidValueException("terminationHook", "a string (a program's path, or \"\")", "null");
        }
        InvalidValueException.range("terminationHookTimeoutSeconds", terminationHookTimeoutSeconds, 1, 3600);
        InvalidValueException.oneOf("terminationHookDefault", terminationHookDefault, HOOK_RESULTS);
    }

    public Duration stopTimeout() {
        return Duration.ofSeconds(stopTimeoutSeconds);
    }

    public Duration terminationHookTimeout() {
        return Duration.ofSeconds(terminationHookTimeoutSeconds);
    }
}
