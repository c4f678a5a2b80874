package io.vmscale.scaler;

import io.vmscale.scaler.policy.Limits;
import io.vmscale.scaler.policy.ScalingPolicy;
import io.vmscale.scaler.policy.TargetTracking;
import io.vmscale.scaler.policy.ThresholdWindow;
import java.time.Duration;

/** The policy a configuration names, with its settings. */
public final class Policies {
    private Policies() {
    }

    public static ScalingPolicy of(ScalerConfig config) {
        return named(config.policy(), config);
    }

    /** threshold-window or target-tracking, with the configuration's settings and limits. */
    public static ScalingPolicy named(String name, ScalerConfig config) {
        Limits limits = new Limits(config.minReplicas(), config.maxReplicas(), Duration.ofSeconds(config.cooldownSeconds()));
        return switch (name) {
            case ThresholdWindow.NAME -> new ThresholdWindow(config.thresholdWindow().high(),
                    config.thresholdWindow().low(), Duration.ofSeconds(config.thresholdWindow().windowSeconds()), limits);
            case TargetTracking.NAME -> new TargetTracking(config.targetTracking().target(),
                    config.targetTracking().tolerance(), Duration.ofSeconds(config.targetTracking().metricWindowSeconds()),
                    Duration.ofSeconds(config.targetTracking().stabilisationSeconds()), config.targetTracking().maxUp(),
                    config.targetTracking().maxDown(), limits);
            default -> throw new IllegalArgumentException("unknown policy '" + name
                    + "' (known: threshold-window, target-tracking)");
        };
    }
}
