package io.vmscale.scaler.provision;

import io.vmscale.config.InvalidValueException;
import io.vmscale.scaler.health.HealthCheckConfig;

/**
 * What runs in the replicas and how it is looked after, like a launch template with its target group's health
 * check: the built-in UDP service by default.
 *
 * @param healthCheck how a replica's application is checked, before it is READY and all the time after
 */
public record ApplicationConfig(HealthCheckConfig healthCheck) {
    /** The built-in service. */
    public static final ApplicationConfig BUILTIN = new ApplicationConfig(HealthCheckConfig.UDP_WIRE);

    public ApplicationConfig {
        if (healthCheck == null) {
            throw new InvalidValueException("healthCheck", "an object", "null");
        }
    }
}
