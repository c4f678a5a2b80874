package io.vmscale.scaler;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Subscription;
import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.AdminVerbs;
import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.broker.event.Topic;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.scaler.health.HealthCheckConfig;
import io.vmscale.scaler.policy.Sample;
import io.vmscale.scaler.provision.ApplicationConfig;
import io.vmscale.scaler.provision.Hypervisor;
import io.vmscale.scaler.provision.Provisioner;
import io.vmscale.scaler.provision.Replica;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller's loop, a reconciler: every tick it looks at what libvirt says exists and folds that into its
 * {@link Fleet} ({@link Observer}), starts the one action the difference
 * between the fleet and the count it wants calls for ({@link ReplicaActions}; the {@link WarmPool} on a lane of
 * its own), and once the fleet is settled asks the {@link Decider} whether to want more or fewer, then lets
 * {@link HostBalancing} place what runs. Lifecycle events only make it look sooner: its map is a cache, libvirt
 * is the truth. State lives on the {@link Loop}'s thread; actions run on the lanes; neither blocks the broker's
 * threads.
 */
public final class Scaler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Scaler.class);
    /** The work of a warming request when nothing says what the clients ask: the balancer's default. */
    public static final long DEFAULT_WARM_WORK = 200_000;

    /**
     * @param tick          how often the policy is asked
     * @param probeDeadline how long a new replica may take to answer correctly
     * @param drainTimeout  how long a draining replica may go unacknowledged or keep requests in flight
     * @param history       how long samples and recommendations are kept
     * @param warmWork      the work (n) of the real requests that warm a replica for the warm pool
     * @param application   what runs in the replicas: how it is checked, before READY and all the time after, and
     *                      how it is stopped
     * @param group         the group's name (its prefix), said in its decisions; empty: a deployment of one group
     */
    public record Settings(Duration tick, Duration probeDeadline, Duration drainTimeout, Duration history,
                           long warmWork, ApplicationConfig application, String group) {
        public Settings {
            group = group == null ? "" : group;
        }

        public Settings(Duration tick, Duration probeDeadline, Duration drainTimeout, Duration history,
                        long warmWork, ApplicationConfig application) {
            this(tick, probeDeadline, drainTimeout, history, warmWork, application, "");
        }

        /** The same for the group {@code name}. */
        public Settings withGroup(String name) {
            return new Settings(tick, probeDeadline, drainTimeout, history, warmWork, application, name);
        }

        public Settings(Duration tick, Duration probeDeadline, Duration drainTimeout, Duration history) {
            this(tick, probeDeadline, drainTimeout, history, DEFAULT_WARM_WORK);
        }

        /** The built-in service's check. */
        public Settings(Duration tick, Duration probeDeadline, Duration drainTimeout, Duration history,
                        long warmWork) {
            this(tick, probeDeadline, drainTimeout, history, warmWork, ApplicationConfig.BUILTIN);
        }

        /** The same with another application. */
        public Settings withApplication(ApplicationConfig app) {
            return new Settings(tick, probeDeadline, drainTimeout, history, warmWork, app, group);
        }

        /** The same with another health check. */
        public Settings withHealth(HealthCheckConfig check) {
            return withApplication(application.withHealthCheck(check));
        }

        /** How the application is checked. */
        public HealthCheckConfig health() {
            return application.healthCheck();
        }

        /** The configuration's tick, probe and drain timeouts, with {@link SampleWindow#HISTORY} of history. */
        public static Settings of(ScalerConfig config) {
            return of(config, DEFAULT_WARM_WORK);
        }

        /** The same, warming the pool with requests of the clients' work {@code n}. */
        public static Settings of(ScalerConfig config, long warmWork) {
            return new Settings(Duration.ofMillis(config.tickMs()), Duration.ofSeconds(config.probeTimeoutSeconds()),
                    Duration.ofSeconds(config.drainTimeoutSeconds()), SampleWindow.HISTORY, warmWork);
        }
    }

    private final Loop loop;
    private final Provisioner provisioner;
    private final String source;
    private final DecisionLog decisions;
    /** The serving replicas' actions, one at a time. */
    private final ActionLane serving;
    /** The warm pool's own lane: refills and trims run beside the serving actions, one at a time. */
    private final ActionLane pooling;
    private final ReplicaActions actions;
    private final WarmPool pool;
    private final HostBalancing balancing;
    private final ScalerAdmin admin;
    private final Observer observer;
    private final HealthWatch watch;
    private final RollingUpdate rollout;
    private final TickTimes tickTimes = new TickTimes();

    /**
     * The reconciler's ticks since the last look: how many, wall time (median, p99, most) and the loop thread's CPU
     * time (median, p99), in nanoseconds.
     */
    public record Ticks(long count, long wallP50, long wallP99, long wallMax, long cpuP50, long cpuP99) {
    }

    private Scaler(ScalerConfig config, Provisioner provisioner, Consumer<Event> publish, String host, String source,
                   Settings settings, Clock clock) {
        this.loop = new Loop(config, settings, clock);
        this.provisioner = provisioner;
        this.source = source;
        this.decisions = new DecisionLog(loop, publish, host);
        this.serving = new ActionLane(loop, decisions, "scaler-actions", "ActionFailed");
        this.pooling = new ActionLane(loop, decisions, "scaler-pool", "PoolActionFailed");
        this.actions = new ReplicaActions(loop, decisions, provisioner);
        this.pool = new WarmPool(loop, decisions, provisioner, actions, serving, pooling);
        this.balancing = new HostBalancing(loop, decisions, provisioner, actions, serving);
        this.observer = new Observer(loop, decisions, provisioner, actions, host);
        this.watch = new HealthWatch(loop, actions);
        this.rollout = new RollingUpdate(loop, decisions, provisioner);
        this.actions.rollout = rollout;
        this.admin = new ScalerAdmin(loop, decisions, provisioner, balancing, pool, actions, serving, pooling, watch,
                rollout, source);
        loop.image = provisioner.image();
    }

    /**
     * Starts ticking. The first tick lists the group's domains: running ones are probed and taken back
     * (a restart starts no duplicate), leftovers of a crash are removed.
     *
     * @param source this scaler's own envelope source, to tell its own lifecycle events from the monitor's
     */
    public static Scaler start(ScalerConfig config, Provisioner provisioner, Consumer<Event> publish, String host,
                               String source, Settings settings, Clock clock) {
        return start(config, provisioner, publish, host, source, settings, clock, Optional.empty(), kept -> { });
    }

    /**
     * The same, going on with what operators changed under an earlier scaler of the group ({@code restored}, unless
     * the file's scaler section changed since), and telling {@code keeper} the run-time settings after each change.
     */
    public static Scaler start(ScalerConfig config, Provisioner provisioner, Consumer<Event> publish, String host,
                               String source, Settings settings, Clock clock, Optional<RuntimeSettings> restored,
                               Consumer<RuntimeSettings> keeper) {
        Scaler scaler = new Scaler(config, provisioner, publish, host, source, settings, clock);
        Loop loop = scaler.loop;
        restored.ifPresent(kept -> {
            // not the file's: kept whatever the file says
            loop.protectedReplicas.addAll(kept.protectedReplicas());
            loop.paused = kept.paused();
            loop.dryRun = kept.dryRun();
            scaler.restoreImage(kept);
            if (!kept.base().equals(loop.base)) {
                log.info("scaler: the configuration's scaler section changed since operators' changes were kept: "
                        + "its values win{}{}", kept.paused() ? " (still paused)" : "", kept.dryRun() ? " (still a dry run)" : "");
                return;
            }
            loop.reconfigure(kept.over(config));
            log.info("scaler: going on with what operators changed: {}..{} replicas, {}{}{}, warm pool of {} ({})",
                    kept.minReplicas(), kept.maxReplicas(), loop.config.policy(), kept.paused() ? ", paused" : "",
                    kept.dryRun() ? ", dry run" : "", kept.poolSize(), kept.poolTier());
        });
        loop.keeper = keeper;
        loop.every(settings.tick(), scaler::tick);
        return scaler;
    }

    /**
     * The image a rolling update changed to, and the update under way, as an earlier scaler kept them, unless the file
     * names another image since.
     */
    private void restoreImage(RuntimeSettings kept) {
        String fileImage = loop.settings.application().image();
        if (kept.image() == null || !fileImage.equals(kept.fileImage())) {
            if (kept.image() != null && !kept.image().equals(kept.fileImage()) && !kept.image().equals(fileImage)) {
                log.info("scaler: the configuration's application.image changed since {} was set at run time: the "
                        + "file's {} wins", kept.image(), fileImage);
            }
            return;
        }
        if (!kept.image().equals(loop.image)) {
            try {
                provisioner.useImage(kept.image());
                loop.image = kept.image();
            } catch (RuntimeException e) {
                log.warn("scaler: cannot go on with the image {} set at run time: {}; new replicas boot {}",
                        kept.image(), e.getMessage(), loop.image);
                return;
            }
        }
        if (kept.rollout() != null && kept.rollout().to().equals(loop.image)) {
            rollout.resumeKept(kept.rollout());
            loop.previousImage = kept.rollout().rollback() ? kept.rollout().to() : kept.rollout().from();
            log.info("scaler: going on with the {} from {} to {}", kept.rollout().rollback() ? "rollback"
                    : "rolling update", kept.rollout().from(), kept.rollout().to());
        }
    }

    // ---- events in (any thread) ----

    /**
     * Feeds the scaler from the broker: samples, lifecycle (its own events told apart by source), balancer
     * stats, and operators' commands for {@code scaler} (or {@code all}, the commands it knows), answered on
     * their reply-to address.
     */
    public List<Subscription> listenTo(BrokerConnection connection) {
        return new ScalerGroups(Map.of(loop.settings.group(), this), source).listenTo(connection);
    }

    public void onSample(CpuSample sample, Instant at) {
        loop.submit(() -> {
            Optional<Fleet.Member> replica = loop.fleet.get(sample.domain());
            if (replica.isEmpty() || replica.get().host() != null && !replica.get().host().equals(sample.host())) {
                return; // not ours, or read where it no longer runs (a migration's source)
            }
            loop.lastCpu.put(sample.domain(), sample.cpuPercent());
            if (replica.get().state() == ReplicaState.READY
                    && loop.calibrations.isLoad(sample.domain(), at, sample.intervalMs())) {
                loop.window.add(new Sample(sample.domain(), at, sample.cpuPercent()));
            }
        });
    }

    /**
     * Another component (the monitor) saw a replica stop or fail: look at libvirt now rather than at the
     * next tick. The event itself decides nothing.
     */
    public void onLifecycle(VmLifecycle event, String eventSource) {
        if (source.equals(eventSource)) {
            return; // our own
        }
        boolean gone = event.state() == ReplicaState.STOPPED || event.state() == ReplicaState.FAILED
                || event.state() == ReplicaState.UNDEFINED;
        if (gone) {
            loop.submit(() -> {
                if (loop.fleet.get(event.domain()).filter(Fleet.Member::counted).isPresent()) {
                    reconcile(loop.now());
                }
            });
        }
    }

    public void onLbStats(LbStats stats) {
        onLbStats(stats, loop.now());
    }

    /** The balancer's stats of {@code at}: a drain's acknowledgement, replicas being calibrated. */
    public void onLbStats(LbStats stats, Instant at) {
        loop.submit(() -> {
            Map<String, String> byEndpoint = new java.util.HashMap<>(); // one pass: the stats list every replica
            loop.fleet.all().forEach(m -> {
                if (m.endpoint() != null) {
                    byEndpoint.putIfAbsent(m.endpoint().toString(), m.domain());
                }
            });
            loop.calibrations.stats(at, stats, byEndpoint::get);
            actions.onLbStats(stats);
        });
    }

    /** Carries out an operator's command (see {@link ScalerAdmin}); a malformed one changes nothing. */
    public AdminResult handle(AdminCommand command) {
        return admin.handle(command);
    }

    /** Whether scaling waits now for failed actions (a back-off); failed live migrations never make it wait. */
    boolean backingOff() {
        return loop.call(() -> serving.backingOff(loop.now()));
    }

    /** What operators changed (or the file's values where they changed nothing), as it stands now. */
    public RuntimeSettings runtimeSettings() {
        return loop.call(loop::runtimeSettings);
    }

    /** The image new replicas boot ({@code POOL/VOLUME}; empty: the built-in guest). */
    public String image() {
        return loop.call(() -> loop.image == null ? "" : loop.image);
    }

    /** The replicas and their states, as the scaler sees them. */
    public Map<String, ReplicaState> replicas() {
        return loop.call(() -> {
            Map<String, ReplicaState> copy = new TreeMap<>();
            loop.fleet.all().forEach(r -> copy.put(r.domain(), r.state()));
            return copy;
        });
    }

    /**
     * Why the group's deletion cannot end yet (replicas on hosts that do not answer, or no host answering), or null:
     * not being deleted, or going on.
     */
    public String deletionWaits() {
        return loop.call(() -> loop.retiring == null ? null : loop.deletionWaits);
    }

    /** The ticks since the last call of this method (any thread). */
    public Ticks ticks() {
        return tickTimes.take();
    }

    // ---- the loop thread ----

    private void tick() {
        tickTimes.begin();
        try {
            tickOnce();
        } finally {
            tickTimes.end();
        }
    }

    private void tickOnce() {
        try {
            Instant now = loop.now();
            if (loop.handingOver != null) {
                handOverStep();
                return;
            }
            if (loop.retiring != null) {
                retireStep(now);
                return;
            }
            runSchedules(now);
            loop.window.trim(now);
            watch.step(now);
            rollout.watch(now);
            if (!reconcile(now) || !converged()) {
                return; // converging: one action at a time, its own events say how it goes
            }
            if (serving.backingOff(now)) {
                return; // the last action failed: no new one before the back-off ends
            }
            if (loop.pendingRollout != null) {
                String by = loop.pendingRollout;
                loop.pendingRollout = null;
                if (!rollout.outdated().isEmpty()) {
                    rollout.replaceFrom(loop.previousImage, by);
                    return;
                }
            }
            decide(now);
            if (converged()) {
                balancing.step(now);
            }
        } catch (RuntimeException e) {
            log.error("scaler: tick failed, the next one tries again", e);
        }
    }

    /**
     * Deletes the group: every replica drained one at a time (the traffic's word first, as a scale-in), the warm pool
     * emptied, then every domain of the group left in libvirt removed with its volumes; the policy, the schedules and
     * a rolling update stop at once, protection from scale-in ends. Completes when libvirt lists no domain of the
     * group (an operator's domains in pool mode: when none runs); operators' commands to it are refused meanwhile.
     *
     * @param why the decision's reason: who deleted it
     */
    public CompletableFuture<Void> retire(String why) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        boolean taken = loop.submit(() -> {
            if (loop.retiring != null) {
                loop.retiring.whenComplete((v, e) -> done.complete(null));
                return;
            }
            loop.retiring = done;
            int current = loop.fleet.counted();
            loop.operatorWanted = null;
            loop.rollout = null;
            loop.protectedReplicas.clear();
            var pool = loop.config.warmPool();
            loop.reconfigure(loop.config.withLimits(0, loop.config.maxReplicas()).withWarmPool(
                    new ScalerConfig.WarmPoolConfig(0, pool.tier(), pool.maxPrepared(), pool.warmRequests())));
            loop.wanted = 0;
            decisions.publish(new ScaleDecision(ScaleAction.DOWN, current, 0, ScaleDecision.OPERATOR, "GroupDeleted",
                    why + ": " + current + " replica(s) drained one at a time, then the group's domains and volumes "
                    + "removed", Map.of(), null));
            retireStep(loop.now());
        });
        if (!taken) {
            done.completeExceptionally(new IllegalStateException("the scaler is stopping"));
        }
        return done;
    }

    /**
     * Stops acting so that a scaler started with the group's new spec takes its replicas back (as after a restart):
     * nothing new is started from now on (the policy, the schedules, the pool, health checks), the actions under way
     * finish. Completes with what operators changed (to go on with under the next scaler) once none is under way; the
     * caller then closes this one. Refused (completed exceptionally) while a rolling update runs or the group is being
     * deleted.
     */
    public CompletableFuture<RuntimeSettings> handOver() {
        CompletableFuture<RuntimeSettings> done = new CompletableFuture<>();
        boolean taken = loop.submit(() -> {
            if (loop.retiring != null || loop.handingOver != null) {
                done.completeExceptionally(new IllegalStateException(loop.retiring != null
                        ? "the group is being deleted" : "the group is being changed already"));
                return;
            }
            if (loop.rollout != null) {
                done.completeExceptionally(new IllegalStateException("a " + loop.rollout.word() + " to "
                        + loop.rollout.to + " is under way: 'ops rollout cancel' or wait until it ends"));
                return;
            }
            loop.handingOver = done;
            handOverStep();
        });
        if (!taken) {
            done.completeExceptionally(new IllegalStateException("the scaler is stopping"));
        }
        return done;
    }

    private void handOverStep() {
        if (loop.handingOver.isDone() || serving.busy() || pooling.busy()) {
            return;
        }
        watch.close();
        serving.close();
        pooling.close();
        loop.handingOver.complete(loop.runtimeSettings());
    }

    /**
     * The group's spec changed the image new replicas boot from {@code from}: once the replicas running are taken back
     * (this scaler just started with the new spec), those booting another image are replaced by a rolling update, as
     * {@code ops image} does; {@code ops rollout rollback} returns to {@code from}.
     */
    public void rollOutFrom(String from, String by) {
        loop.submit(() -> {
            loop.previousImage = from;
            loop.pendingRollout = by;
        });
    }

    /**
     * A deletion's step: a replica still starting is not waited for (its probe stops, it is stopped as a failed one
     * is); drain the next READY one; once none is left and the pool is empty, remove what libvirt still has.
     */
    private void retireStep(Instant now) {
        loop.wanted = 0;
        for (Fleet.Member starting : loop.fleet.in(ReplicaState.STARTING)) {
            loop.abandoned.add(starting.domain());
            decisions.announce(loop.fleet.move(starting.domain(), ReplicaState.FAILED, now, "the group is deleted"),
                    ReplicaState.FAILED, "abandoned: the group is being deleted (its start is not waited for)");
        }
        boolean seen = reconcile(now);
        deletionWaits(seen, now);
        // a host that does not answer may still run domains of the group: never ended without them
        if (!seen || serving.busy() || pooling.busy() || loop.fleet.size() > 0 || !loop.unreachableSince.isEmpty()) {
            return;
        }
        List<String> left = loop.lastObservation.replicas().stream()
                .filter(o -> provisioner.removesOnDelete() || o.running()).map(Provisioner.Observed::domain).toList();
        if (left.isEmpty()) {
            if (!loop.retiring.isDone()) {
                log.info("scaler: group {} deleted: no domain of it is left", loop.settings.group());
            }
            loop.retiring.complete(null);
            return;
        }
        String domain = left.get(0);
        serving.run("removing " + domain, () -> provisioner.remove(domain));
    }

    /**
     * A deletion removes every domain of the group, so it waits for a host that does not answer: rather than leave
     * domains of the group running there unseen, it says so once (a {@code DeletionWaits} hold naming the hosts) and
     * ends once that host answers and they are removed. The replicas on hosts that answer go meanwhile.
     */
    private void deletionWaits(boolean seen, Instant now) {
        String why;
        if (!seen) {
            why = "no host answers";
        } else {
            why = new TreeMap<>(loop.unreachableSince).entrySet().stream().map(e -> e.getKey() + " has not answered for "
                    + Duration.between(e.getValue(), now).toSeconds() + " s ("
                    + loop.fleet.all().stream().filter(m -> e.getKey().equals(m.host())).count()
                    + " replica(s) of the group there when last seen)")
                    .collect(Collectors.joining("; "));
            why = why.isEmpty() ? null : why;
        }
        if (why != null && loop.deletionWaits == null) {
            decisions.say(ScaleAction.HOLD, "DeletionWaits", "the group's deletion waits: " + why + "; it ends once "
                    + "they can be removed (nothing of the group is left running unseen)", null);
        }
        loop.deletionWaits = why;
    }

    /** Nothing under way and as many replicas as wanted, all settled. */
    private boolean converged() {
        return !serving.busy() && loop.fleet.settled() && loop.fleet.counted() == loop.wanted;
    }

    /**
     * Looks at libvirt, folds what it says into the fleet, and starts the next action the difference calls for:
     * cleaning up first, then taking back, then the count.
     *
     * @return false when libvirt could not be listed (nothing is decided on what cannot be seen)
     */
    private boolean reconcile(Instant now) {
        Provisioner.Observation seen = observer.look(now);
        if (seen == null) {
            return false;
        }
        if (loop.wanted == null) {
            loop.wanted = (int) seen.replicas().stream().filter(Provisioner.Observed::running).count();
        }
        pool.tend(seen, now);
        if (serving.busy()) {
            return true;
        }
        if (cleanUp(now) || takeBack(seen, now) || serving.backingOff(now)) {
            return true;
        }
        towardsWanted(seen);
        return true;
    }

    /** Stops a FAILED or STOPPING replica; returns true when that is what this look is for. */
    private boolean cleanUp(Instant now) {
        Optional<Fleet.Member> failed = loop.fleet.in(ReplicaState.FAILED).stream()
                .filter(m -> !loop.busy.contains(m.domain())).findFirst()
                .or(() -> loop.fleet.in(ReplicaState.STOPPING).stream().filter(m -> !loop.busy.contains(m.domain()))
                        .findFirst());
        if (failed.isPresent() && failed.get().state() == ReplicaState.FAILED && loop.onSilentHost(failed.get())) {
            // it cannot be stopped now; if it still runs when its host returns, it is taken back and the extra one drained
            Fleet.Member member = failed.get();
            loop.fleet.forget(member.domain());
            loop.forgetLoad(member.domain());
            log.info("scaler: {} forgotten: its host {} does not answer, it cannot be stopped now", member.domain(),
                    member.host());
            return false;
        }
        if (failed.isEmpty()) {
            return false;
        }
        Fleet.Member member = failed.get();
        if (!serving.backingOff(now)) {
            boolean scaleDown = member.state() == ReplicaState.STOPPING && member.cause().startsWith("drain");
            serving.run("stopping " + member.domain(), () -> actions.stop(member.domain(), scaleDown ? "scale down"
                    : "failed replica removed", scaleDown));
        }
        return true;
    }

    /**
     * Takes back every running domain of the group it does not know, in one action (each warm at once when defined
     * longer than a warm-up ago), or else removes one a crash left stopped; returns true when it started either.
     */
    private boolean takeBack(Provisioner.Observation seen, Instant now) {
        if (pooling.busy()) {
            return false; // a lane between its start and its bookkeeping leaves a domain that looks unknown
        }
        Map<Replica, Boolean> running = new java.util.LinkedHashMap<>();
        Provisioner.Observed leftover = null;
        for (Provisioner.Observed observed : seen.replicas()) {
            if (loop.fleet.contains(observed.domain())) {
                continue;
            }
            if (observed.running() && observed.endpoint() != null) {
                // defined longer ago than a warm-up (template mode defines and starts together): warm already
                running.put(new Replica(observed.domain(), observed.host(), observed.endpoint()),
                        observed.created() != null && !observed.created().plus(loop.decider.warmup()).isAfter(now));
            } else if (leftover == null && observed.power() == Hypervisor.Power.OFF && provisioner.removesStopped()) {
                leftover = observed;
            }
        }
        if (!running.isEmpty()) {
            serving.run("taking back " + (running.size() == 1 ? running.keySet().iterator().next().domain()
                    : running.size() + " replicas"), () -> actions.adoptAll(running));
            return true;
        }
        if (leftover != null) {
            String domain = leftover.domain();
            serving.run("removing " + domain, () -> actions.removeLeftover(domain));
            return true;
        }
        return false;
    }

    /** One replica more (from the warm pool first) while fewer than wanted, one drained while more. */
    private void towardsWanted(Provisioner.Observation seen) {
        int counted = loop.fleet.counted();
        int wanted = loop.wanted;
        if (counted < wanted && loop.fleet.in(ReplicaState.STARTING).isEmpty()) {
            Optional<Fleet.Member> parked = loop.parked();
            if (parked.isPresent()) {
                Fleet.Member member = parked.get();
                serving.run("taking " + member.domain() + " from the warm pool", () -> actions.takeFromPool(member));
                return;
            }
            Placement.Verdict room = Placement.place(seen, loop.config.maxVcpusPerCore());
            if (room.full()) {
                decisions.say(ScaleAction.HOLD, "NoCapacity", counted + " replica(s), " + wanted
                        + " wanted, but no host has room for one more: " + room.figures(), null);
                loop.wanted = counted; // the policy decides again, and holds while nothing fits
            } else {
                serving.run("starting a replica on " + room.host(), () -> actions.scaleUp(room.host()));
            }
        } else if (counted > wanted && loop.fleet.settled()) {
            // one on a host that does not answer cannot be stopped: it is replaced or taken back when the host is
            // heard from again (HostUnreachable said so)
            Set<String> staying = new HashSet<>(loop.protectedReplicas);
            loop.fleet.all().stream().filter(loop::onSilentHost).forEach(m -> staying.add(m.domain()));
            Optional<Fleet.Member> out = loop.fleet.scaleDownCandidate(loop.config.terminationPolicy(),
                    staying, provisioner.hosts(), loop::outdated);
            if (out.isPresent()) {
                serving.run("draining " + out.get().domain(), () -> actions.scaleDown(out.get()));
            } else if (loop.fleet.in(ReplicaState.READY).stream().anyMatch(m -> loop.protectedReplicas.contains(m.domain()))) {
                decisions.say(ScaleAction.HOLD, "ScaleInProtected", counted + " replica(s), " + wanted
                        + " wanted, but every READY one is protected from scale-in: " + String.join(", ",
                        loop.protectedReplicas) + " ('ops protect DOMAIN off' lets one go)", null);
                loop.wanted = counted; // the policy decides again, and holds while nothing may go
            }
        }
    }

    /** The policy's turn (or the operator's): the fleet is settled. */
    private void decide(Instant now) {
        if (loop.rollout != null) {
            if (rollout.step(now)) {
                reconcile(now);
            }
            return; // the policy waits while the group is replaced
        }
        if (loop.operatorWanted != null) {
            operatorStep(now);
            return;
        }
        carryOut(loop.window.decide(loop.decider, loop.fleet.views(loop.decider.warmup()), now, loop.lastCompleted,
                loop.room()), now);
    }

    /** Publishes the decision and, unless paused (the policy only) or in a dry run, wants its count. */
    private void carryOut(ScaleDecision decision, Instant now) {
        if (decision.action() == ScaleAction.DOWN && !loop.fleet.in(ReplicaState.READY).isEmpty()
                && loop.fleet.scaleDownCandidate(loop.config.terminationPolicy(), loop.protectedReplicas,
                provisioner.hosts()).isEmpty()) { // said as what happens: nothing may go
            if (decision.policy().equals(loop.operatorBy)) {
                loop.operatorWanted = null;
            }
            decisions.publish(new ScaleDecision(ScaleAction.HOLD, decision.fromReplicas(), decision.fromReplicas(),
                    decision.policy(), "ScaleInProtected", decision.reason() + ", but every READY replica is "
                    + "protected from scale-in: " + String.join(", ", loop.protectedReplicas)
                    + " ('ops protect DOMAIN off' lets one go)", decision.inputs(), null));
            return;
        }
        boolean holds = decision.action() == ScaleAction.HOLD;
        boolean pausedHere = loop.paused && !decision.policy().equals(ScaleDecision.OPERATOR)
                && !decision.policy().equals(SCHEDULE);
        decisions.publish(!holds && pausedHere ? DecisionLog.withNote(decision, " (paused: not acted on)")
                : !holds && loop.dryRun ? DecisionLog.withNote(decision, " (dry run: not acted on)")
                : decision.action() == ScaleAction.UP ? DecisionLog.withNote(decision, decisions.poolNote())
                : decision);
        if (holds || pausedHere || loop.dryRun) {
            return;
        }
        loop.wanted = decision.toReplicas();
        reconcile(now);
    }

    /** The policy name of decisions a scheduled action made. */
    static final String SCHEDULE = "schedule";
    /** At most this many firings of one schedule are run at one tick (a stalled loop catching up). */
    private static final int MAX_FIRINGS_AT_ONCE = 10;

    /** Runs the scheduled actions that fell due since the last tick, in time order. */
    private void runSchedules(Instant now) {
        Instant from = loop.schedulesCheckedAt;
        loop.schedulesCheckedAt = now;
        if (from == null || loop.config.schedules().isEmpty()) {
            return; // a scaler that starts runs what falls due from then on, as AWS Auto Scaling does
        }
        List<Map.Entry<java.time.ZonedDateTime, ScheduleConfig>> due = new java.util.ArrayList<>();
        for (ScheduleConfig schedule : loop.config.schedules()) {
            Optional<java.time.ZonedDateTime> next = schedule.next(from);
            for (int n = 0; n < MAX_FIRINGS_AT_ONCE && next.isPresent() && !next.get().toInstant().isAfter(now); n++) {
                due.add(Map.entry(next.get(), schedule));
                next = schedule.next(next.get().toInstant());
            }
        }
        due.sort(Map.Entry.comparingByKey(java.util.Comparator.comparing(java.time.ZonedDateTime::toInstant)));
        due.forEach(d -> runSchedule(d.getValue(), d.getKey()));
    }

    /**
     * Sets what the schedule sets: min and max (kept like an operator's change), then the desired count, clamped by
     * them, gone to one replica at a time like an operator's {@code scale N}; said as a {@code ScheduledAction}.
     */
    private void runSchedule(ScheduleConfig schedule, java.time.ZonedDateTime at) {
        ScalerConfig config = loop.config;
        int current = loop.fleet.counted();
        String what = "schedule " + schedule.name() + " (" + schedule.cron() + ", " + schedule.timeZone() + ") at "
                + at.toOffsetDateTime();
        if (loop.paused || loop.dryRun) {
            decisions.publish(new ScaleDecision(ScaleAction.HOLD, current, current, SCHEDULE, "ScheduledAction",
                    what + ": " + schedule.sets() + " not applied (" + (loop.paused ? "paused" : "dry run") + ")",
                    Map.of(), null));
            return;
        }
        int min = schedule.minReplicas() >= 0 ? schedule.minReplicas() : config.minReplicas();
        int max = schedule.maxReplicas() >= 0 ? schedule.maxReplicas() : config.maxReplicas();
        if (min > max) {
            decisions.publish(new ScaleDecision(ScaleAction.HOLD, current, current, SCHEDULE, "ScheduledActionFailed",
                    what + ": " + schedule.sets() + " would make min.." + "max " + min + ".." + max
                    + " with the limits in force: nothing changed", Map.of(), null));
            return;
        }
        loop.reconfigure(config.withLimits(min, max));
        String desired = "";
        Map<String, Double> inputs = new java.util.LinkedHashMap<>(Map.of("minReplicas", (double) min,
                "maxReplicas", (double) max));
        if (schedule.desiredReplicas() >= 0) {
            int wanted = Math.max(min, Math.min(max, schedule.desiredReplicas()));
            loop.operatorWanted = wanted;
            loop.operatorBy = SCHEDULE;
            loop.operatorAsk = "schedule " + schedule.name() + " asked for";
            inputs.put("desired", (double) wanted);
            desired = ", desired " + wanted + (wanted == schedule.desiredReplicas() ? ""
                    : " (" + schedule.desiredReplicas() + " clamped by min..max)");
        }
        decisions.publish(new ScaleDecision(ScaleAction.HOLD, current, current, SCHEDULE, "ScheduledAction",
                what + ": replicas now " + min + ".." + max + desired, inputs, null));
        log.info("scaler: {}: replicas now {}..{}{}", what, min, max, desired);
        loop.keeper.accept(loop.runtimeSettings());
    }

    /** One step towards the replica count an operator asked for: one replica at a time, cooldown ignored. */
    private void operatorStep(Instant now) {
        int current = loop.fleet.counted();
        int want = loop.operatorWanted;
        String policy = loop.decider.policy().name();
        if (current == want) {
            loop.operatorWanted = null;
            decisions.publish(new ScaleDecision(ScaleAction.HOLD, current, current, loop.operatorBy,
                    "OperatorScaleReached", "reached the " + want + " replica(s) " + loop.operatorAsk + "; "
                    + policy + " decides again", Map.of("desired", (double) want), null));
            return;
        }
        ScaleAction action = current < want ? ScaleAction.UP : ScaleAction.DOWN;
        int to = current + (current < want ? 1 : -1);
        Placement.Verdict room = loop.room();
        if (action == ScaleAction.UP && room != null && room.full()) {
            loop.operatorWanted = null;
            decisions.publish(new ScaleDecision(ScaleAction.HOLD, current, current, loop.operatorBy,
                    "NoCapacity", loop.operatorAsk + " " + want + " replica(s), " + current + " now, but no host "
                    + "has room for one more: " + room.figures() + "; " + policy + " decides again",
                    Map.of("desired", (double) want), null));
            return;
        }
        carryOut(new ScaleDecision(action, current, to, loop.operatorBy, "OperatorScale",
                loop.operatorAsk + " " + want + " replica(s), " + current + " now",
                Map.of("desired", (double) want), null), now);
        if (loop.dryRun) {
            loop.operatorWanted = null; // a dry run never gets there: say it once
        }
    }

    @Override
    public void close() {
        loop.close();
        watch.close();
        serving.close();
        pooling.close();
    }
}
