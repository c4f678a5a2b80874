package io.vmscale.scaler;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Optional;

/**
 * What operators changed while the scaler ran (pause, dry run, min and max, the policy, the warm pool, the replicas
 * protected from scale-in), kept on the broker after every change so that a scaler that takes over (a standby, or
 * this one restarted) goes on with it. {@code base} names the configuration file's scaler section these changes were
 * made over: once the file changed, its values win and the kept ones are dropped (the protected replicas are kept:
 * they are not the file's).
 */
public record RuntimeSettings(String base, boolean paused, boolean dryRun, int minReplicas, int maxReplicas,
                              String policy, int poolSize, String poolTier, List<String> protectedReplicas) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public RuntimeSettings {
        protectedReplicas = protectedReplicas == null ? List.of() : List.copyOf(protectedReplicas); // kept by an earlier release
    }

    /** A name for the file's scaler section: equal while it is unchanged. */
    public static String base(ScalerConfig fromFile) {
        return Integer.toHexString(fromFile.toString().hashCode());
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The kept text, when it is one (an unreadable one is no settings: the file's then). */
    public static Optional<RuntimeSettings> fromJson(String text) {
        try {
            return Optional.of(JSON.readValue(text, RuntimeSettings.class));
        } catch (JsonProcessingException e) {
            return Optional.empty();
        }
    }

    /** {@code config} with these changes. */
    ScalerConfig over(ScalerConfig config) {
        var pool = config.warmPool();
        return config.withLimits(minReplicas, maxReplicas).withPolicy(policy)
                .withWarmPool(new ScalerConfig.WarmPoolConfig(poolSize, poolTier, pool.maxPrepared(), pool.warmRequests()));
    }
}
