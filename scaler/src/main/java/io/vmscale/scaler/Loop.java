package io.vmscale.scaler;

import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.scaler.health.HealthCheck;
import io.vmscale.scaler.health.HealthState;
import io.vmscale.scaler.provision.ReadinessProbe;
import io.vmscale.scaler.provision.Hypervisor;
import io.vmscale.scaler.provision.Provisioner;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scaler's loop thread and the state only that thread touches (the fleet, the count wanted, the settings in
 * force, the last look at libvirt, the replicas' load): the scaler's parts share this one object, and an action's
 * thread reaches the state only through {@link #call}.
 */
final class Loop {
    private static final Logger log = LoggerFactory.getLogger(Loop.class);

    final Clock clock;
    final Scaler.Settings settings;
    private final ScheduledExecutorService executor;

    /** The group's replicas as the scaler sees them: a cache of libvirt. */
    final Fleet fleet = new Fleet();
    /** The samples that are load and target tracking's recommendations. */
    final SampleWindow window;
    /** Each replica's last CPU reading (load or not), for the status and the hosts' load. */
    final Map<String, Double> lastCpu = new HashMap<>();
    /** Replicas the balancer keeps saturated to measure them: that CPU is not load. */
    final CalibrationMarks calibrations = new CalibrationMarks();
    /** Replicas whose probe should stop: they failed meanwhile (read from the action threads). */
    final Set<String> abandoned = ConcurrentHashMap.newKeySet();
    /** Domains an action is pausing, saving, resuming or stopping: what libvirt says of them is in flux. */
    final Set<String> busy = ConcurrentHashMap.newKeySet();
    /** Hosts that did not answer at the last look, and since when. */
    final Map<String, Instant> unreachableSince = new HashMap<>();
    /** The application's health check (thread-safe: run on the action and health threads). */
    final HealthCheck check;
    /** Each READY replica's health as its checks tell it. */
    final Map<String, HealthState> health = new HashMap<>();

    ScalerConfig config;
    Decider decider;
    /** The replica count wanted; null until libvirt was first listed. */
    Integer wanted;
    /** When the last UP, DOWN or REPLACE completed (READY, STOPPED): the cooldown runs from here. */
    Instant lastCompleted;
    /** The replica count an operator asked for with {@code scale N}, until it is reached. */
    Integer operatorWanted;
    /** Who asked for {@link #operatorWanted}: the decisions' policy ({@code operator} or {@code schedule}). */
    String operatorBy = io.vmscale.broker.event.ScaleDecision.OPERATOR;
    /** The same in words, as decisions begin their reason: "the operator asked for". */
    String operatorAsk = "the operator asked for";
    /** Up to when scheduled actions have been run; null before the first tick. */
    Instant schedulesCheckedAt;
    boolean paused;
    boolean dryRun;
    /** Replicas the operator protected from scale-in ({@code ops protect DOMAIN on}). */
    final Set<String> protectedReplicas = new java.util.TreeSet<>();
    /** A scale-down completed: consolidation need not wait its period. */
    boolean scaledDown;
    /** The last look at libvirt, or null before the first. */
    Provisioner.Observation lastObservation;
    /** The file's scaler section these run-time changes are over ({@link RuntimeSettings#base}). */
    final String base;
    /** The base image new replicas boot ({@code POOL/VOLUME}; "": the built-in guest), as the provisioner has it. */
    String image = "";
    /** The image before the last rolling update, or null: what {@code ops rollout rollback} returns to. */
    String previousImage;
    /** Each replica's image as its mark says (the last looks), null when it says none. */
    final Map<String, String> images = new HashMap<>();
    /** The rolling update under way, or null. */
    RollingUpdate.Run rollout;
    /** Set once the group is being deleted ({@link Scaler#retire}): completed when its last domain is gone. */
    CompletableFuture<Void> retiring;
    /** Whether the replica's host does not answer now (nothing it does there can be seen or undone). */
    boolean onSilentHost(Fleet.Member member) {
        return member.host() != null && unreachableSince.containsKey(member.host());
    }

    /** Why that deletion cannot end yet (said once as a {@code DeletionWaits} hold), or null while it goes on. */
    String deletionWaits;
    /**
     * Set once the group's scaler is being replaced by one with a new spec ({@link Scaler#handOver}): completed with
     * what operators changed once no action is under way; nothing is started meanwhile.
     */
    CompletableFuture<RuntimeSettings> handingOver;
    /** Who changed the group's image through its spec, until its replicas are taken back and the update starts. */
    String pendingRollout;
    /** Told the run-time settings after each operator's change (kept on the broker by a standalone scaler). */
    java.util.function.Consumer<RuntimeSettings> keeper = settings -> { };

    Loop(ScalerConfig config, Scaler.Settings settings, Clock clock) {
        this.clock = clock;
        this.settings = settings;
        this.window = new SampleWindow(settings.history());
        this.check = HealthCheck.of(settings.health());
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "scaler"));
        this.base = RuntimeSettings.base(config);
        reconfigure(config);
    }

    static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    void every(Duration period, Runnable tick) {
        executor.scheduleAtFixedRate(tick, 0, period.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Runs on the loop thread; dropped once the scaler is closed (events keep arriving until unsubscribed). */
    boolean submit(Runnable task) {
        try {
            executor.execute(task);
            return true;
        } catch (RejectedExecutionException e) {
            log.debug("scaler closed: event dropped");
            return false;
        }
    }

    /** Runs on the loop thread and waits for it (from an action's thread). */
    <T> T call(Supplier<T> step) {
        return CompletableFuture.supplyAsync(step, executor).join();
    }

    void call(Runnable step) {
        CompletableFuture.runAsync(step, executor).join();
    }

    boolean closed() {
        return executor.isShutdown();
    }

    void close() {
        executor.shutdownNow();
    }

    Instant now() {
        return clock.instant();
    }

    /** What operators changed, as it stands now. */
    RuntimeSettings runtimeSettings() {
        return new RuntimeSettings(base, paused, dryRun, config.minReplicas(), config.maxReplicas(), config.policy(),
                config.warmPool().size(), config.warmPool().tier(), List.copyOf(protectedReplicas), image,
                settings.application().image(), rollout == null ? null : rollout.kept());
    }

    /** New settings in force: the policy is rebuilt with them. */
    void reconfigure(ScalerConfig next) {
        var policy = Policies.named(next.policy(), next);
        config = next.withPolicy(policy.name());
        decider = new Decider(policy, config.warmup());
        window.policyWindows(Duration.ofSeconds(Math.max(config.thresholdWindow().windowSeconds(),
                config.targetTracking().metricWindowSeconds())));
    }

    /** The replica boots another image than the group's (an image of the user's only; unknown counts as another). */
    boolean outdated(String domain) {
        return !image.isEmpty() && !image.equals(images.get(domain));
    }

    /** A replica gone from serving: nothing of its load is kept. */
    void forgetLoad(String domain) {
        lastCpu.remove(domain);
        calibrations.forget(domain);
        window.forget(domain);
        health.remove(domain);
    }

    /**
     * Checks a new replica until it is healthy (asked every {@code retry}), the probe deadline passes or it failed
     * meanwhile (from an action's thread).
     */
    HealthState readiness(String domain, Endpoint endpoint, Duration retry) {
        return readiness(domain, endpoint, settings.probeDeadline(), retry);
    }

    /** The same within what is left of the deadline. */
    HealthState readiness(String domain, Endpoint endpoint, Duration left, Duration retry) {
        return ReadinessProbe.until(check, settings.health(), endpoint, left, retry, () -> !abandoned.contains(domain));
    }

    /** Why a replica never became healthy, in words. */
    String notReady(HealthState state) {
        return "not healthy within " + settings.probeDeadline().toSeconds() + " s ("
                + settings.health().type() + (state.last() == null ? "" : ", last check: " + state.last().detail())
                + ")";
    }

    /** The parked replica a scale-up takes: a paused one before a saved one (back sooner). */
    Optional<Fleet.Member> parked() {
        return fleet.in(ReplicaState.POOLED).stream().filter(m -> !busy.contains(m.domain()) && !outdated(m.domain()))
                .min(Comparator.comparing(m -> power(m.domain()) == Hypervisor.Power.PAUSED ? 0 : 1));
    }

    /** What libvirt said of the domain at the last look, or null. */
    Hypervisor.Power power(String domain) {
        if (lastObservation == null) {
            return null;
        }
        return lastObservation.replicas().stream().filter(o -> o.domain().equals(domain)).findFirst()
                .map(Provisioner.Observed::power).orElse(null);
    }

    /** How the warm pool parks its replicas. */
    Provisioner.Tier tier() {
        return config.warmPool().tier().equals("saved") ? Provisioner.Tier.SAVED : Provisioner.Tier.PAUSED;
    }

    /**
     * Where one more serving replica would go, or null when that needs no room (a parked replica is taken
     * first: a paused one's vCPUs and memory are counted already) or nothing is known yet.
     */
    Placement.Verdict room() {
        if (lastObservation == null || parked().isPresent()) {
            return null;
        }
        return Placement.place(lastObservation, config.maxVcpusPerCore());
    }
}
