package io.vmscale.scaler;

import io.vmscale.config.InvalidValueException;
import java.util.List;

/**
 * The scaler.
 *
 * @param policy              threshold-window or target-tracking
 * @param minReplicas         fewest replicas
 * @param maxReplicas         most replicas
 * @param cooldownSeconds     no UP or DOWN this soon after the last one
 * @param tickMs              how often the policy is asked
 * @param probeTimeoutSeconds how long a new replica may take to answer correctly before it counts as failed
 * @param drainTimeoutSeconds how long a draining replica may keep requests in flight (or go unacknowledged by the
 *                            balancer) before it is stopped anyway
 * @param warmupSeconds       a replica's samples count from this long after it became READY; -1: one window of the
 *                            policy (threshold-window's window, target-tracking's metric window)
 * @param maxVcpusPerCore     a host has no room for one more replica (NoCapacity) when it would run more vCPUs than its CPUs times
 *                            this; 0: no such guard
 * @param thresholdWindow     the threshold-window policy's settings
 * @param targetTracking      the target-tracking policy's settings
 * @param warmPool            the warm pool
 * @param hostGraceSeconds    the replicas of a host that cannot be reached are replaced elsewhere after this long
 * @param consolidateAfterSeconds with several hosts: when the replicas of the least-used host have fitted on the others
 *                            for this long, they are live-migrated there one at a time so that it runs none; -1: never
 * @param rebalanceAbove      with several hosts: when the group's replicas on a host use more than this % of its CPUs
 *                            for {@code consolidateAfterSeconds} while another host has room, the busiest one moves there;
 *                            0: never
 * @param terminationPolicy   which READY replica a scale-in drains: {@code newest} (the highest name, as the original
 *                            assignment), {@code oldest} (READY the longest) or {@code closest-to-consolidation} (one
 *                            on the host running the fewest of the group's, so that a host empties first); a replica
 *                            the operator protected ({@code ops protect}) is never chosen
 * @param schedules           scheduled actions (AWS Auto Scaling's): at each time a cron expression gives in a time
 *                            zone, set min, max and the desired count
 * @param rollout             how a rolling update (an instance refresh: a new image) replaces the replicas
 */
public record ScalerConfig(String policy, int minReplicas, int maxReplicas, int cooldownSeconds, int tickMs,
                           int probeTimeoutSeconds, int drainTimeoutSeconds, int warmupSeconds, double maxVcpusPerCore,
                           ThresholdWindowConfig thresholdWindow, TargetTrackingConfig targetTracking,
                           WarmPoolConfig warmPool, int hostGraceSeconds, int consolidateAfterSeconds,
                           double rebalanceAbove, String terminationPolicy, List<ScheduleConfig> schedules,
                           RolloutConfig rollout) {
    /** The scale-in choices of {@code terminationPolicy}. */
    public static final List<String> TERMINATION_POLICIES = List.of("newest", "oldest", "closest-to-consolidation");

    /** The same with the default rolling update. */
    public ScalerConfig(String policy, int minReplicas, int maxReplicas, int cooldownSeconds, int tickMs,
                        int probeTimeoutSeconds, int drainTimeoutSeconds, int warmupSeconds, double maxVcpusPerCore,
                        ThresholdWindowConfig thresholdWindow, TargetTrackingConfig targetTracking,
                        WarmPoolConfig warmPool, int hostGraceSeconds, int consolidateAfterSeconds,
                        double rebalanceAbove, String terminationPolicy, List<ScheduleConfig> schedules) {
        this(policy, minReplicas, maxReplicas, cooldownSeconds, tickMs, probeTimeoutSeconds, drainTimeoutSeconds,
                warmupSeconds, maxVcpusPerCore, thresholdWindow, targetTracking, warmPool, hostGraceSeconds,
                consolidateAfterSeconds, rebalanceAbove, terminationPolicy, schedules, RolloutConfig.DEFAULTS);
    }

    /**
     * A rolling update, as AWS Auto Scaling's instance refresh: the replicas that boot another image than the group's
     * are replaced in batches, new ones READY and baked before old ones drain.
     *
     * @param minHealthyPercent READY replicas kept during the update at least, in % of the count wanted (rounded up)
     * @param maxHealthyPercent replicas (READY and starting) during the update at most, in % of the count wanted
     *                          (rounded up): above 100, new replicas start before old ones drain
     * @param bakeSeconds       a new replica must stay READY and healthy this long before old ones are drained for it
     * @param autoRollback      a new replica that fails (its health check, or its start) rolls the update back to the
     *                          image before; false: the update stops where it is
     * @param checkpoints       percentages of the replicas replaced at which the update waits for {@code ops rollout
     *                          resume} (a canary checked by hand), ascending, each 1 to 99
     */
    public record RolloutConfig(int minHealthyPercent, int maxHealthyPercent, int bakeSeconds, boolean autoRollback,
                                List<Integer> checkpoints) {
        public static final RolloutConfig DEFAULTS = new RolloutConfig(100, 150, 10, true, List.of());

        public RolloutConfig {
            InvalidValueException.range("minHealthyPercent", minHealthyPercent, 0, 100);
            InvalidValueException.range("maxHealthyPercent", maxHealthyPercent, 100, 200);
            if (minHealthyPercent == 100 && maxHealthyPercent == 100) {
                throw new InvalidValueException("maxHealthyPercent", "above 100 when minHealthyPercent is 100 (else "
                        + "no replica could ever be replaced)", maxHealthyPercent);
            }
            InvalidValueException.range("bakeSeconds", bakeSeconds, 0, 3600);
            checkpoints = checkpoints == null ? List.of() : List.copyOf(checkpoints);
            int last = 0;
            for (Integer c : checkpoints) {
                if (c == null || c <= last || c > 99) {
                    throw new InvalidValueException("checkpoints", "ascending percentages from 1 to 99", checkpoints);
                }
                last = c;
            }
        }

        /** Replicas at most while {@code wanted} are wanted: new ones start first when this is above it. */
        public int most(int wanted) {
            return (int) Math.ceil(wanted * maxHealthyPercent / 100.0);
        }

        /** READY replicas at least while {@code wanted} are wanted. */
        public int fewest(int wanted) {
            return (int) Math.ceil(wanted * minHealthyPercent / 100.0);
        }
    }

    /** The same, a scale-in draining the newest replica. */
    public ScalerConfig(String policy, int minReplicas, int maxReplicas, int cooldownSeconds, int tickMs,
                        int probeTimeoutSeconds, int drainTimeoutSeconds, int warmupSeconds, double maxVcpusPerCore,
                        ThresholdWindowConfig thresholdWindow, TargetTrackingConfig targetTracking,
                        WarmPoolConfig warmPool, int hostGraceSeconds, int consolidateAfterSeconds,
                        double rebalanceAbove) {
        this(policy, minReplicas, maxReplicas, cooldownSeconds, tickMs, probeTimeoutSeconds, drainTimeoutSeconds,
                warmupSeconds, maxVcpusPerCore, thresholdWindow, targetTracking, warmPool, hostGraceSeconds,
                consolidateAfterSeconds, rebalanceAbove, "newest", List.of());
    }

    /** The same with the defaults of the many-host settings (20 s grace, consolidation after 30 s). */
    public ScalerConfig(String policy, int minReplicas, int maxReplicas, int cooldownSeconds, int tickMs,
                        int probeTimeoutSeconds, int drainTimeoutSeconds, int warmupSeconds, double maxVcpusPerCore,
                        ThresholdWindowConfig thresholdWindow, TargetTrackingConfig targetTracking,
                        WarmPoolConfig warmPool) {
        this(policy, minReplicas, maxReplicas, cooldownSeconds, tickMs, probeTimeoutSeconds, drainTimeoutSeconds,
                warmupSeconds, maxVcpusPerCore, thresholdWindow, targetTracking, warmPool, 20, 30, 0, "newest", List.of());
    }

    /**
     * Replicas prepared beside the serving ones (EC2 Auto Scaling's warm pools): booted, warmed with real
     * requests, then paused or saved; a scale-up takes one first, a scale-in returns one.
     *
     * @param size         replicas kept prepared; 0: no pool
     * @param tier         {@code paused} (memory kept, no CPU, back in ~0.1 s) or {@code saved} (managed save on
     *                     disk, no memory, back in ~1.5 s)
     * @param maxPrepared  serving plus prepared replicas at most (EC2's max prepared capacity); -1: maxReplicas
     * @param warmRequests real requests a pool replica answers before it is parked (its JIT compiles the work)
     */
    public record WarmPoolConfig(int size, String tier, int maxPrepared, int warmRequests) {
        /** No pool. */
        public static final WarmPoolConfig NONE = new WarmPoolConfig(0, "paused", -1, 0);

        public WarmPoolConfig {
            InvalidValueException.range("size", size, 0, 100);
            InvalidValueException.oneOf("tier", tier, List.of("paused", "saved"));
            InvalidValueException.range("maxPrepared", maxPrepared, -1, 1000);
            InvalidValueException.range("warmRequests", warmRequests, 0, 100_000);
        }
    }

    /**
     * @param high          every sample above this (CPU %) over the window: one more replica
     * @param low           every sample below this: one fewer
     * @param windowSeconds the window
     */
    public record ThresholdWindowConfig(double high, double low, int windowSeconds) {
        public ThresholdWindowConfig {
            if (!(low >= 0 && low < high && high <= 100)) {
                throw new InvalidValueException("low", "0 <= low < high <= 100", "low " + low + ", high " + high);
            }
            InvalidValueException.range("windowSeconds", windowSeconds, 1, 3600);
        }
    }

    /**
     * @param target               the CPU % to keep the mean at
     * @param tolerance            no change while mean / target is within 1 +- tolerance
     * @param metricWindowSeconds  the mean is over the samples of this many seconds
     * @param stabilisationSeconds a DOWN acts on the highest recommendation of this many seconds
     * @param maxUp                replicas added by one decision at most
     * @param maxDown              replicas removed by one decision at most
     */
    public record TargetTrackingConfig(double target, double tolerance, int metricWindowSeconds,
                                       int stabilisationSeconds, int maxUp, int maxDown) {
        public TargetTrackingConfig {
            if (!(target > 0 && target <= 100)) {
                throw new InvalidValueException("target", "a CPU % above 0, at most 100", target);
            }
            if (!(tolerance >= 0 && tolerance < 1)) {
                throw new InvalidValueException("tolerance", "from 0 to below 1", tolerance);
            }
            InvalidValueException.range("metricWindowSeconds", metricWindowSeconds, 1, 3600);
            InvalidValueException.range("stabilisationSeconds", stabilisationSeconds, 0, 3600);
            InvalidValueException.range("maxUp", maxUp, 1, 100);
            InvalidValueException.range("maxDown", maxDown, 1, 100);
        }
    }

    public ScalerConfig {
        InvalidValueException.oneOf("policy", policy, List.of("threshold-window", "target-tracking"));
        InvalidValueException.range("minReplicas", minReplicas, 0, 1000);
        InvalidValueException.range("maxReplicas", maxReplicas, Math.max(1, minReplicas), 1000);
        InvalidValueException.range("cooldownSeconds", cooldownSeconds, 0, 86_400);
        InvalidValueException.range("tickMs", tickMs, 100, 60_000);
        InvalidValueException.range("probeTimeoutSeconds", probeTimeoutSeconds, 1, 3600);
        InvalidValueException.range("drainTimeoutSeconds", drainTimeoutSeconds, 0, 3600);
        InvalidValueException.range("warmupSeconds", warmupSeconds, -1, 3600);
        if (!(maxVcpusPerCore >= 0 && maxVcpusPerCore <= 64)) {
            throw new InvalidValueException("maxVcpusPerCore", "from 0 (no guard) to 64", maxVcpusPerCore);
        }
        if (thresholdWindow == null || targetTracking == null || warmPool == null) {
            throw new InvalidValueException(thresholdWindow == null ? "thresholdWindow"
                    : targetTracking == null ? "targetTracking" : "warmPool", "an object", "null");
        }
        InvalidValueException.range("hostGraceSeconds", hostGraceSeconds, 0, 86_400);
        InvalidValueException.range("consolidateAfterSeconds", consolidateAfterSeconds, -1, 86_400);
        if (!(rebalanceAbove >= 0 && rebalanceAbove <= 100)) {
            throw new InvalidValueException("rebalanceAbove", "a CPU % from 0 (never) to 100", rebalanceAbove);
        }
        InvalidValueException.oneOf("terminationPolicy", terminationPolicy, TERMINATION_POLICIES);
        schedules = schedules == null ? List.of() : List.copyOf(schedules);
        ScheduleConfig.checkTogether(schedules);
        rollout = rollout == null ? RolloutConfig.DEFAULTS : rollout;
    }

    /** How long after READY a replica's samples start to count. */
    public java.time.Duration warmup() {
        if (warmupSeconds >= 0) {
            return java.time.Duration.ofSeconds(warmupSeconds);
        }
        return java.time.Duration.ofSeconds(policy.equals("target-tracking") ? targetTracking.metricWindowSeconds()
                : thresholdWindow.windowSeconds());
    }

    /** The same with other limits. */
    public ScalerConfig withLimits(int min, int max) {
        return toBuilder().minReplicas(min).maxReplicas(max).build();
    }

    /** The same with other many-host settings. */
    public ScalerConfig withHosts(int graceSeconds, int consolidateAfter) {
        return toBuilder().hostGraceSeconds(graceSeconds).consolidateAfterSeconds(consolidateAfter).build();
    }

    /** The same with another rebalancing threshold. */
    public ScalerConfig withRebalanceAbove(double percent) {
        return toBuilder().rebalanceAbove(percent).build();
    }

    /** The same with another policy. */
    public ScalerConfig withPolicy(String name) {
        return toBuilder().policy(name).build();
    }

    /** The same with these scheduled actions. */
    public ScalerConfig withSchedules(List<ScheduleConfig> list) {
        return toBuilder().schedules(list).build();
    }

    /** The same with another scale-in choice. */
    public ScalerConfig withTerminationPolicy(String name) {
        return toBuilder().terminationPolicy(name).build();
    }

    /** The same with another warm pool. */
    public ScalerConfig withWarmPool(WarmPoolConfig pool) {
        return toBuilder().warmPool(pool).build();
    }

    /** A builder holding these settings, to change some and build another (checked again by {@link Builder#build}). */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** How many replicas the warm pool should hold while {@code serving} replicas serve. */
    public int poolTarget(int serving) {
        int cap = warmPool.maxPrepared() < 0 ? maxReplicas : warmPool.maxPrepared();
        return Math.max(0, Math.min(warmPool.size(), cap - serving));
    }

    /** Another scaler configuration, started from an existing one: each setter changes one setting. */
    public static final class Builder {
        private String policy;
        private int minReplicas;
        private int maxReplicas;
        private int cooldownSeconds;
        private int tickMs;
        private int probeTimeoutSeconds;
        private int drainTimeoutSeconds;
        private int warmupSeconds;
        private double maxVcpusPerCore;
        private ThresholdWindowConfig thresholdWindow;
        private TargetTrackingConfig targetTracking;
        private WarmPoolConfig warmPool;
        private int hostGraceSeconds;
        private int consolidateAfterSeconds;
        private double rebalanceAbove;
        private String terminationPolicy;
        private List<ScheduleConfig> schedules;
        private RolloutConfig rollout;

        private Builder(ScalerConfig from) {
            policy = from.policy;
            minReplicas = from.minReplicas;
            maxReplicas = from.maxReplicas;
            cooldownSeconds = from.cooldownSeconds;
            tickMs = from.tickMs;
            probeTimeoutSeconds = from.probeTimeoutSeconds;
            drainTimeoutSeconds = from.drainTimeoutSeconds;
            warmupSeconds = from.warmupSeconds;
            maxVcpusPerCore = from.maxVcpusPerCore;
            thresholdWindow = from.thresholdWindow;
            targetTracking = from.targetTracking;
            warmPool = from.warmPool;
            hostGraceSeconds = from.hostGraceSeconds;
            consolidateAfterSeconds = from.consolidateAfterSeconds;
            rebalanceAbove = from.rebalanceAbove;
            terminationPolicy = from.terminationPolicy;
            schedules = from.schedules;
            rollout = from.rollout;
        }

        public Builder rollout(RolloutConfig settings) {
            rollout = settings;
            return this;
        }

        public Builder policy(String name) {
            policy = name;
            return this;
        }

        public Builder minReplicas(int n) {
            minReplicas = n;
            return this;
        }

        public Builder maxReplicas(int n) {
            maxReplicas = n;
            return this;
        }

        public Builder cooldownSeconds(int seconds) {
            cooldownSeconds = seconds;
            return this;
        }

        public Builder tickMs(int ms) {
            tickMs = ms;
            return this;
        }

        public Builder probeTimeoutSeconds(int seconds) {
            probeTimeoutSeconds = seconds;
            return this;
        }

        public Builder drainTimeoutSeconds(int seconds) {
            drainTimeoutSeconds = seconds;
            return this;
        }

        public Builder warmupSeconds(int seconds) {
            warmupSeconds = seconds;
            return this;
        }

        public Builder maxVcpusPerCore(double ratio) {
            maxVcpusPerCore = ratio;
            return this;
        }

        public Builder thresholdWindow(ThresholdWindowConfig settings) {
            thresholdWindow = settings;
            return this;
        }

        public Builder targetTracking(TargetTrackingConfig settings) {
            targetTracking = settings;
            return this;
        }

        public Builder warmPool(WarmPoolConfig pool) {
            warmPool = pool;
            return this;
        }

        public Builder hostGraceSeconds(int seconds) {
            hostGraceSeconds = seconds;
            return this;
        }

        public Builder consolidateAfterSeconds(int seconds) {
            consolidateAfterSeconds = seconds;
            return this;
        }

        public Builder rebalanceAbove(double percent) {
            rebalanceAbove = percent;
            return this;
        }

        public Builder schedules(List<ScheduleConfig> list) {
            schedules = list;
            return this;
        }

        public Builder terminationPolicy(String name) {
            terminationPolicy = name;
            return this;
        }

        /** The configuration, its values checked as at load ({@link InvalidValueException} when one is out of range). */
        public ScalerConfig build() {
            return new ScalerConfig(policy, minReplicas, maxReplicas, cooldownSeconds, tickMs, probeTimeoutSeconds,
                    drainTimeoutSeconds, warmupSeconds, maxVcpusPerCore, thresholdWindow, targetTracking, warmPool,
                    hostGraceSeconds, consolidateAfterSeconds, rebalanceAbove, terminationPolicy, schedules, rollout);
        }
    }
}
