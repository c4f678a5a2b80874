package io.vmscale.scaler;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Optional;

/**
 * What operators changed while the scaler ran (pause, dry run, min and max, the policy, the warm pool, the replicas
 * protected from scale-in), kept on the broker after every change so that a scaler that takes over (a standby, or
 * this one restarted) goes on with it. {@code base} names the configuration file's scaler section these changes were
 * made over: once the file changed, its values win and the kept ones are dropped (pause, dry run and the protected
 * replicas are kept: they are not the file's). The image a rolling update changed to ({@code image}) and the update under way are kept
 * over the file's {@code application.image} ({@code fileImage}) the same way: once the file names another image, the
 * file's wins.
 */
public record RuntimeSettings(String base, boolean paused, boolean dryRun, int minReplicas, int maxReplicas,
                              String policy, int poolSize, String poolTier, List<String> protectedReplicas,
                              String image, String fileImage, RolloutKept rollout) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A rolling update under way: from which image to which, whether it is a rollback, for how many replicas. */
    public record RolloutKept(String from, String to, boolean rollback, int wanted, String started) {
    }

    /** Without an image changed at run time. */
    public RuntimeSettings(String base, boolean paused, boolean dryRun, int minReplicas, int maxReplicas,
                           String policy, int poolSize, String poolTier, List<String> protectedReplicas) {
        this(base, paused, dryRun, minReplicas, maxReplicas, policy, poolSize, poolTier, protectedReplicas, null, null,
                null);
    }

    public RuntimeSettings {
        protectedReplicas = protectedReplicas == null ? List.of() : List.copyOf(protectedReplicas); // kept by an earlier release
        image = image == null || image.isEmpty() ? null : image; // the built-in guest: none
        fileImage = fileImage == null || fileImage.isEmpty() ? null : fileImage;
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
