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
import io.vmscale.config.ScalerConfig;
import io.vmscale.scaler.policy.Policies;
import io.vmscale.scaler.policy.PolicyInput;
import io.vmscale.scaler.policy.Sample;
import io.vmscale.scaler.policy.TargetTracking;
import io.vmscale.scaler.provision.Hypervisor;
import io.vmscale.scaler.provision.Provisioner;
import io.vmscale.scaler.provision.ReadinessProbe;
import io.vmscale.scaler.provision.Replica;
import io.vmscale.scaler.provision.Warmer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller, a reconciler. Every tick it lists what libvirt says exists (the group's domains,
 * through the {@link Provisioner}), folds that into its {@link Fleet} (a replica that is not running
 * any more is FAILED and replaced; a domain half-made by a crash is removed; a running one it does
 * not know is probed and taken back), then acts on the difference between the fleet and the replica
 * count it wants, one action at a time:
 * <ul>
 *   <li>fewer than wanted: start a replica (STARTING), ask it real questions until it answers (READY) or give up (FAILED);</li>
 *   <li>more than wanted: DRAINING, wait until the balancer has acknowledged it and has nothing in flight to
 *       it (or the drain timeout), STOPPING, stop, STOPPED.</li>
 * </ul>
 * When the fleet is settled it asks the {@link Decider} (the policy, warm-up and host guard) whether to
 * want more or fewer. Lifecycle events only make it look sooner: its map is a cache, libvirt is the truth.
 * State lives on one thread; actions run on another; neither blocks the broker's threads.
 */
public final class Scaler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Scaler.class);
    /** The policy name of decisions an operator asked for with {@code scale N}. */
    public static final String OPERATOR = ScaleDecision.OPERATOR;
    /** The policy name of the reconciler's own decisions (REPLACE). */
    public static final String RECONCILER = ScaleDecision.RECONCILER;
    private static final int KEPT_DECISIONS = 20;
    /** A HOLD like the last one published is published again only this long after it: a heartbeat, not a stream. */
    static final Duration HOLD_HEARTBEAT = Duration.ofSeconds(30);

    /** What the reasons of a replica taken from the warm pool begin with (the simulation reads it from logs). */
    public static final String FROM_POOL = VmLifecycle.FROM_WARM_POOL;
    /** The work of a warming request when nothing says what the clients ask: the balancer's default. */
    public static final long DEFAULT_WARM_WORK = 200_000;

    /**
     * @param tick          how often the policy is asked
     * @param probeDeadline how long a new replica may take to answer correctly
     * @param drainTimeout  how long a draining replica may go unacknowledged or keep requests in flight
     * @param history       how long samples and recommendations are kept
     * @param warmWork      the work (n) of the real requests that warm a replica for the warm pool
     */
    public record Settings(Duration tick, Duration probeDeadline, Duration drainTimeout, Duration history,
                           long warmWork) {
        public Settings(Duration tick, Duration probeDeadline, Duration drainTimeout, Duration history) {
            this(tick, probeDeadline, drainTimeout, history, DEFAULT_WARM_WORK);
        }

        /** The configuration's tick, probe and drain timeouts, with ten minutes of history. */
        public static Settings of(ScalerConfig config) {
            return of(config, DEFAULT_WARM_WORK);
        }

        /** The same, warming the pool with requests of the clients' work {@code n}. */
        public static Settings of(ScalerConfig config, long warmWork) {
            return new Settings(Duration.ofMillis(config.tickMs()), Duration.ofSeconds(config.probeTimeoutSeconds()),
                    Duration.ofSeconds(config.drainTimeoutSeconds()), Duration.ofMinutes(10), warmWork);
        }
    }

    private final Provisioner provisioner;
    private final Consumer<Event> publish;
    private final String host;
    private final String source;
    private final Settings settings;
    private final Clock clock;
    private final ScheduledExecutorService loop;
    /** The serving replicas' actions, one at a time. */
    private final Lane serving;
    /** The warm pool's own lane: refills and trims run beside the serving actions, one at a time. */
    private final Lane pooling;
    /** Replicas whose probe should stop: they failed meanwhile. */
    private final Set<String> abandoned = ConcurrentHashMap.newKeySet();
    /** Domains an action is pausing, saving, resuming or stopping: what libvirt says of them is in flux. */
    private final Set<String> busy = ConcurrentHashMap.newKeySet();
    // owned by the loop thread
    private final Fleet fleet = new Fleet();
    private final Deque<Sample> samples = new ArrayDeque<>();
    private final List<PolicyInput.Recommendation> recommendations = new ArrayList<>();
    private final Map<String, Double> lastCpu = new HashMap<>();
    /** Replicas the balancer keeps saturated to measure them: that CPU is not load. */
    private final CalibrationMarks calibrations = new CalibrationMarks();
    private final Deque<Map<String, Object>> lastDecisions = new ArrayDeque<>();
    private final Set<String> foreignWarned = new HashSet<>();
    private ScalerConfig config;
    private Decider decider;
    /** The replica count wanted; null until libvirt was first listed. */
    private Integer wanted;
    /** When the last UP, DOWN or REPLACE completed (READY, STOPPED): the cooldown runs from here. */
    private Instant lastCompleted;
    /** Why the warm pool is not refilled now, or null. */
    private String poolHeld;
    private Drain drain;
    private boolean paused;
    private boolean dryRun;
    private boolean unreachable;
    private Provisioner.Observation lastObservation;
    /** Hosts that did not answer at the last look, and since when. */
    private final Map<String, Instant> unreachableSince = new HashMap<>();
    /** Live migrations completed. */
    private int migrations;
    /** The host whose replicas fit on the others, and since when (consolidation waits for it to hold). */
    private String consolidating;
    private Instant consolidatingSince;
    /** A scale-down completed: consolidation need not wait its period. */
    private boolean scaledDown;
    /** The host whose replicas' CPU is above scaler.rebalanceAbove, and since when. */
    private String hot;
    private Instant hotSince;
    /** The replica count an operator asked for with {@code scale N}, until it is reached. */
    private Integer operatorWanted;
    /** The last decision published and when, to publish a repeated HOLD only as a heartbeat. */
    private ScaleDecision lastPublished;
    private Instant lastPublishedAt;

    /** A drain in progress: acknowledged once the balancer reports the replica removed with nothing in flight. */
    private static final class Drain {
        final String domain;
        final String endpoint;
        final CompletableFuture<String> done = new CompletableFuture<>();

        Drain(String domain, String endpoint) {
            this.domain = domain;
            this.endpoint = endpoint;
        }
    }

    private Scaler(ScalerConfig config, Provisioner provisioner, Consumer<Event> publish, String host, String source,
                   Settings settings, Clock clock) {
        this.config = config;
        this.decider = new Decider(Policies.of(config), config.warmup());
        this.provisioner = provisioner;
        this.publish = publish;
        this.host = host;
        this.source = source;
        this.settings = settings;
        this.clock = clock;
        this.loop = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "scaler"));
        this.serving = new Lane("scaler-actions", "ActionFailed");
        this.pooling = new Lane("scaler-pool", "PoolActionFailed");
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /**
     * Starts ticking. The first tick lists the group's domains: running ones are probed and taken back
     * (a restart starts no duplicate), leftovers of a crash are removed.
     *
     * @param source this scaler's own envelope source, to tell its own lifecycle events from the monitor's
     */
    public static Scaler start(ScalerConfig config, Provisioner provisioner, Consumer<Event> publish, String host,
                               String source, Settings settings, Clock clock) {
        Scaler scaler = new Scaler(config, provisioner, publish, host, source, settings, clock);
        scaler.loop.scheduleAtFixedRate(scaler::tick, 0, settings.tick().toMillis(), TimeUnit.MILLISECONDS);
        return scaler;
    }

    // ---- events in (any thread) ----

    /**
     * Feeds the scaler from the broker: samples, lifecycle (its own events told apart by source), balancer
     * stats, and operators' commands for {@code scaler} (or {@code all}, the commands it knows), answered on
     * their reply-to address.
     */
    public List<Subscription> listenTo(BrokerConnection connection) {
        return List.of(
                connection.subscribe(CpuSample.class, e -> onSample(e.body(), e.ts())),
                connection.subscribe(VmLifecycle.class, e -> onLifecycle(e.body(), e.source())),
                connection.subscribe(LbStats.class, e -> onLbStats(e.body(), e.ts())),
                connection.subscribe(AdminCommand.class, e -> {
                    AdminCommand command = e.body();
                    if (!AdminVerbs.isFor(AdminVerbs.SCALER, command.target(), command.command())) {
                        return;
                    }
                    if (!command.replyTo().startsWith(Topic.REPLY_PREFIX)) {
                        log.warn("scaler: ignored a command from {} with reply-to {} outside {}", e.source(),
                                command.replyTo(), Topic.REPLY_PREFIX);
                        return;
                    }
                    connection.publish(command.replyTo(), handle(command));
                }));
    }

    public void onSample(CpuSample sample, Instant at) {
        submit(() -> {
            Optional<Fleet.Member> replica = fleet.get(sample.domain());
            if (replica.isEmpty() || replica.get().host() != null && !replica.get().host().equals(sample.host())) {
                return; // not ours, or read where it no longer runs (a migration's source)
            }
            lastCpu.put(sample.domain(), sample.cpuPercent());
            if (replica.get().state() == ReplicaState.READY
                    && calibrations.isLoad(sample.domain(), at, sample.intervalMs())) {
                samples.add(new Sample(sample.domain(), at, sample.cpuPercent()));
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
            submit(() -> {
                if (fleet.get(event.domain()).filter(Fleet.Member::counted).isPresent()) {
                    reconcile(clock.instant());
                }
            });
        }
    }

    public void onLbStats(LbStats stats) {
        onLbStats(stats, clock.instant());
    }

    /** The balancer's stats of {@code at}: a drain's acknowledgement, replicas being calibrated. */
    public void onLbStats(LbStats stats, Instant at) {
        submit(() -> {
            calibrations.stats(at, stats, endpoint -> fleet.all().stream()
                    .filter(m -> m.endpoint() != null && m.endpoint().toString().equals(endpoint))
                    .map(Fleet.Member::domain).findFirst().orElse(null));
            if (drain == null) {
                return;
            }
            LbStats.ServerStats server = stats.servers().get(drain.endpoint);
            if (server == null) {
                drain.done.complete("the balancer no longer lists it");
            } else if (server.removed() && server.inFlight() == 0) {
                drain.done.complete("the balancer acknowledged it and has nothing in flight to it");
            }
        });
    }

    /** Runs on the loop thread; dropped once the scaler is closed (events keep arriving until unsubscribed). */
    private boolean submit(Runnable task) {
        try {
            loop.execute(task);
            return true;
        } catch (java.util.concurrent.RejectedExecutionException e) {
            log.debug("scaler closed: event dropped");
            return false;
        }
    }

    /** The commands {@link #handle} knows, for help texts and for telling other components' commands apart. */
    public static final List<String> COMMANDS = AdminVerbs.names(AdminVerbs.SCALER);

    /**
     * Carries out an operator's command: {@code pause}, {@code resume}, {@code min N}, {@code max N},
     * {@code scale N}, {@code policy NAME}, {@code dry-run on|off}, {@code pool N [paused|saved]}, {@code status}.
     * A malformed one
     * changes nothing and the answer says what is wrong.
     */
    public AdminResult handle(AdminCommand command) {
        CompletableFuture<AdminResult> result = new CompletableFuture<>();
        boolean taken = submit(() -> {
            try {
                result.complete(command(command));
            } catch (IllegalArgumentException e) {
                result.complete(new AdminResult(command.requestId(), source, false, e.getMessage(), Map.of()));
            } catch (RuntimeException e) {
                result.complete(new AdminResult(command.requestId(), source, false,
                        command.command() + " failed: " + e, Map.of()));
            }
        });
        try {
            if (taken) {
                return result.get(10, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return new AdminResult(command.requestId(), source, false, "the scaler did not take the command: " + e,
                    Map.of());
        }
        return new AdminResult(command.requestId(), source, false, "the scaler is stopping", Map.of());
    }

    private AdminResult command(AdminCommand command) {
        String name = command.command();
        List<String> args = command.args();
        String message;
        Map<String, Object> data = Map.of();
        String policyName = decider.policy().name();
        switch (name) {
            case "pause" -> {
                arguments(name, args, 0, "");
                paused = true;
                message = "paused: " + policyName + " still decides and publishes, nothing is acted on "
                        + "(failed replicas are still replaced; 'scale N' still works)";
            }
            case "resume" -> {
                arguments(name, args, 0, "");
                paused = false;
                message = "resumed: " + policyName + " acts again";
            }
            case "min", "max" -> {
                arguments(name, args, 1, " N");
                int n = count(name, args.get(0));
                int min = name.equals("min") ? n : config.minReplicas();
                int max = name.equals("max") ? n : config.maxReplicas();
                if (max < 1 || min > max) {
                    throw new IllegalArgumentException(name + " " + n + " would make min.." + "max " + min + ".." + max
                            + ": need 0 <= min <= max and max >= 1");
                }
                reconfigure(config.withLimits(min, max));
                message = "replicas now " + min + ".." + max;
            }
            case "scale" -> {
                arguments(name, args, 1, " N");
                int n = count(name, args.get(0));
                if (n < config.minReplicas() || n > config.maxReplicas()) {
                    throw new IllegalArgumentException("scale " + n + " is outside min..max " + config.minReplicas()
                            + ".." + config.maxReplicas() + ": change min or max first");
                }
                operatorWanted = n;
                message = "scaling to " + n + " replica(s), one at a time; then " + policyName + " decides again"
                        + (dryRun ? " (dry run: decisions only)" : "");
            }
            case "policy" -> {
                arguments(name, args, 1, " NAME");
                reconfigure(config.withPolicy(Policies.named(args.get(0), config).name()));
                recommendations.clear();
                message = "policy now " + decider.policy().name();
            }
            case "dry-run" -> {
                arguments(name, args, 1, " on|off");
                dryRun = switch (args.get(0)) {
                    case "on" -> true;
                    case "off" -> false;
                    default -> throw new IllegalArgumentException("dry-run takes on or off, not '" + args.get(0) + "'");
                };
                message = dryRun ? "dry run on: decisions are published, none is acted on" : "dry run off: decisions are acted on";
            }
            case "pool" -> {
                if (args.isEmpty() || args.size() > 2) {
                    throw new IllegalArgumentException("usage: pool N [paused|saved] (got " + args.size() + " argument(s))");
                }
                int n = count(name, args.get(0));
                String tier = args.size() == 2 ? args.get(1) : config.warmPool().tier();
                if (!tier.equals("paused") && !tier.equals("saved")) {
                    throw new IllegalArgumentException("pool takes the tier paused or saved, not '" + tier + "'");
                }
                if (n > 100) {
                    throw new IllegalArgumentException("pool takes a size from 0 to 100, not " + n);
                }
                var pool = config.warmPool();
                reconfigure(config.withWarmPool(new ScalerConfig.WarmPoolConfig(n, tier, pool.maxPrepared(),
                        pool.warmRequests())));
                message = n == 0 ? "warm pool off: its replicas are removed"
                        : "warm pool now " + n + " " + tier + " replica(s) (" + config.poolTarget(fleet.counted())
                        + " while " + fleet.counted() + " serve); replicas already parked stay as they are";
            }
            case "migrate" -> {
                arguments(name, args, 2, " DOMAIN HOST");
                message = startMigration(args.get(0), args.get(1), OPERATOR, "OperatorMigrate",
                        "the operator asked to move " + args.get(0) + " to " + args.get(1));
            }
            case "hosts" -> {
                arguments(name, args, 0, "");
                List<Map<String, Object>> hosts = hosts(clock.instant());
                data = Map.of("hosts", hosts);
                message = hosts.size() + " host(s), " + hosts.stream().filter(h -> Boolean.TRUE.equals(h.get("reachable")))
                        .count() + " reachable";
            }
            case "status" -> {
                arguments(name, args, 0, "");
                data = status();
                message = fleet.size() + " replica(s), " + policyName + " " + config.minReplicas() + ".."
                        + config.maxReplicas() + (paused ? ", paused" : "") + (dryRun ? ", dry run" : "");
            }
            default -> throw new IllegalArgumentException("unknown scaler command '" + name + "'; known: "
                    + String.join(", ", COMMANDS));
        }
        log.info("scaler: {} {} -> {}", name, String.join(" ", args), message);
        return new AdminResult(command.requestId(), source, true, message, data);
    }

    private static void arguments(String name, List<String> args, int expected, String usage) {
        if (args.size() != expected) {
            throw new IllegalArgumentException("usage: " + name + usage + " (got " + args.size() + " argument(s))");
        }
    }

    private static int count(String name, String text) {
        try {
            int n = Integer.parseInt(text.strip());
            if (n < 0 || n > 1000) {
                throw new IllegalArgumentException(name + " takes a replica count from 0 to 1000, not " + n);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " takes a replica count, not '" + text + "'");
        }
    }

    private void reconfigure(ScalerConfig next) {
        var policy = Policies.named(next.policy(), next);
        config = next.withPolicy(policy.name());
        decider = new Decider(policy, config.warmup());
    }

    private Map<String, Object> status() {
        List<Map<String, Object>> list = new ArrayList<>();
        Instant now = clock.instant();
        fleet.all().forEach(r -> {
            Map<String, Object> replica = new java.util.LinkedHashMap<>();
            replica.put("domain", r.domain());
            replica.put("host", r.host());
            replica.put("state", r.state().name());
            replica.put("cpu", lastCpu.get(r.domain()));
            replica.put("endpoint", r.endpoint() == null ? null : r.endpoint().toString());
            replica.put("since", r.since().toString());
            replica.put("warm", r.readyAt() != null
                    && !r.readyAt().plus(r.warmStart() ? Duration.ZERO : decider.warmup()).isAfter(now));
            if (r.pool() && lastObservation != null) {
                lastObservation.replicas().stream().filter(o -> o.domain().equals(r.domain())).findFirst()
                        .ifPresent(o -> replica.put("power", o.power().name()));
            }
            list.add(replica);
        });
        Map<String, Object> scaler = new java.util.LinkedHashMap<>();
        scaler.put("policy", decider.policy().name());
        scaler.put("minReplicas", config.minReplicas());
        scaler.put("maxReplicas", config.maxReplicas());
        scaler.put("wanted", wanted);
        scaler.put("paused", paused);
        scaler.put("dryRun", dryRun);
        scaler.put("desired", operatorWanted);
        scaler.put("acting", serving.doing);
        scaler.put("warmupSeconds", decider.warmup().toSeconds());
        Map<String, Object> pool = new java.util.LinkedHashMap<>();
        pool.put("size", config.warmPool().size());
        pool.put("tier", config.warmPool().tier());
        pool.put("target", config.poolTarget(fleet.counted()));
        pool.put("ready", fleet.in(ReplicaState.POOLED).size());
        pool.put("warming", fleet.in(ReplicaState.WARMING).size());
        pool.put("acting", pooling.doing);
        pool.put("held", poolHeld);
        scaler.put("warmPool", pool);
        scaler.put("migrations", migrations);
        Map<String, Object> data = new java.util.LinkedHashMap<>();
        data.put("replicas", list);
        data.put("hosts", hosts(now));
        data.put("decisions", new ArrayList<>(lastDecisions));
        data.put("scaler", scaler);
        return data;
    }

    /** Each host: where it is, whether it answers, its figures, the group's replicas on it and the room left. */
    private List<Map<String, Object>> hosts(Instant now) {
        List<Map<String, Object>> list = new ArrayList<>();
        if (lastObservation == null) {
            provisioner.hosts().forEach(uri -> list.add(new java.util.LinkedHashMap<>(Map.of("uri", uri))));
            return list;
        }
        Map<String, Placement.Fit> fits = new HashMap<>();
        Placement.fits(lastObservation, config.maxVcpusPerCore()).forEach(f -> fits.put(f.uri(), f));
        for (Provisioner.HostSeen h : lastObservation.hosts()) {
            Map<String, Object> host = new java.util.LinkedHashMap<>();
            host.put("uri", h.uri());
            host.put("address", h.address());
            host.put("reachable", h.reachable());
            host.put("maxReplicas", h.maxReplicas());
            host.put("replicas", fleet.all().stream().filter(m -> h.uri().equals(m.host())).map(Fleet.Member::domain)
                    .toList());
            host.put("cpu", fleet.all().stream().filter(m -> h.uri().equals(m.host()))
                    .mapToDouble(m -> lastCpu.getOrDefault(m.domain(), 0.0)).sum());
            host.put("room", fits.get(h.uri()) == null ? 0 : fits.get(h.uri()).room());
            if (h.reachable()) {
                host.put("cpus", h.figures().cpus());
                host.put("activeVcpus", h.figures().activeVcpus());
                host.put("freeMemoryMiB", h.figures().freeMemoryKiB() < 0 ? null : h.figures().freeMemoryKiB() / 1024);
            } else {
                host.put("error", h.error());
                Instant since = unreachableSince.get(h.uri());
                host.put("unreachableSeconds", since == null ? null : Duration.between(since, now).toSeconds());
            }
            list.add(host);
        }
        return list;
    }

    /**
     * Checks and starts the live migration of a READY replica to another host (on the loop thread); the
     * answer says what was started, an {@link IllegalArgumentException} why not.
     */
    private String startMigration(String domain, String toHost, String policy, String code, String why) {
        Fleet.Member member = fleet.get(domain).orElseThrow(() -> new IllegalArgumentException(domain
                + " is not a replica of this group; replicas: " + fleet.all().stream().map(Fleet.Member::domain).toList()));
        if (member.state() != ReplicaState.READY) {
            throw new IllegalArgumentException(domain + " is " + member.state() + ": only a READY replica is moved");
        }
        if (!provisioner.hosts().contains(toHost)) {
            throw new IllegalArgumentException(toHost + " is not one of libvirt.uris: " + provisioner.hosts());
        }
        if (toHost.equals(member.host())) {
            throw new IllegalArgumentException(domain + " runs on " + toHost + " already");
        }
        if (serving.busy() || !fleet.settled()) {
            throw new IllegalArgumentException("busy: " + (serving.busy() ? serving.doing
                    : "a replica is on its way in or out") + "; ask again once it is done");
        }
        Set<String> others = new HashSet<>(provisioner.hosts());
        others.remove(toHost);
        Placement.Verdict room = lastObservation == null ? null : Placement.place(lastObservation,
                config.maxVcpusPerCore(), others);
        if (room == null || room.full()) {
            throw new IllegalArgumentException(toHost + " has no room for " + domain + ": "
                    + (room == null ? "not looked at yet" : room.figures()));
        }
        int n = fleet.counted();
        String what = domain + " from " + member.host() + " to " + toHost;
        publish(new ScaleDecision(ScaleAction.MIGRATE, n, n, policy, code, why + ": moving " + what
                + (dryRun ? " (dry run: not acted on)" : ""), Map.of(), domain));
        if (dryRun) {
            return "dry run: would move " + what;
        }
        act("moving " + domain + " to " + toHost, () -> migrate(domain, toHost));
        return "moving " + what + " by live migration; a READY naming its new endpoint says when it is there";
    }

    /**
     * The consolidation step, when the fleet is settled and the policy held: with several hosts, the replicas of
     * the least-used host that runs any fit on the others, and have for {@code consolidateAfterSeconds} (at once
     * after a scale-down): move one of them. Returns true when a migration started.
     */
    private boolean consolidate(Instant now) {
        if (config.consolidateAfterSeconds() < 0 || lastObservation == null || provisioner.hosts().size() < 2
                || serving.busy()) {
            return false;
        }
        String candidate = consolidationCandidate();
        if (candidate == null || !candidate.equals(consolidating)) {
            consolidating = candidate;
            consolidatingSince = now;
            if (candidate == null) {
                scaledDown = false;
                return false;
            }
        }
        boolean due = scaledDown || !consolidatingSince.plusSeconds(config.consolidateAfterSeconds()).isAfter(now);
        if (!due) {
            return false;
        }
        Fleet.Member move = fleet.in(ReplicaState.READY).stream().filter(m -> candidate.equals(m.host())).findFirst()
                .orElse(null);
        List<String> hosts = provisioner.hosts(); // onto the hosts before it in the list
        Set<String> others = new HashSet<>(hosts.subList(hosts.indexOf(candidate), hosts.size()));
        Placement.Verdict to = Placement.place(lastObservation, config.maxVcpusPerCore(), others);
        if (move == null || to.full() || wouldRunHot(to.host(), move)) {
            return false;
        }
        long left = fleet.all().stream().filter(m -> candidate.equals(m.host())).count();
        try {
            startMigration(move.domain(), to.host(), "consolidation", "Consolidate", candidate + " runs " + left
                    + " replica(s) that fit on the host(s) before it in libvirt.uris" + (scaledDown ? " after a scale-down"
                    : " for " + config.consolidateAfterSeconds() + " s") + "; emptying it");
            return true;
        } catch (IllegalArgumentException e) {
            log.info("scaler: no consolidation now: {}", e.getMessage());
            return false;
        }
    }

    /**
     * The rebalancing step, when nothing else is to be done: a host whose replicas have used more than
     * {@code rebalanceAbove} % of its CPUs for {@code consolidateAfterSeconds} gives its busiest replica to the
     * reachable host with the most room, when that host stays below the threshold with it. Returns true when a
     * migration started.
     */
    private boolean rebalance(Instant now) {
        if (config.rebalanceAbove() <= 0 || lastObservation == null || provisioner.hosts().size() < 2
                || !unreachableSince.isEmpty()) {
            return false;
        }
        String hottest = null;
        double most = config.rebalanceAbove();
        for (Provisioner.HostSeen h : lastObservation.hosts()) {
            double load = load(h.uri());
            if (h.reachable() && load > most && fleet.in(ReplicaState.READY).stream().filter(m -> h.uri().equals(m.host()))
                    .count() > 1) { // a lone replica gains nothing by moving
                hottest = h.uri();
                most = load;
            }
        }
        if (hottest == null || !hottest.equals(hot)) {
            hot = hottest;
            hotSince = now;
            return false;
        }
        if (hotSince.plusSeconds(Math.max(0, config.consolidateAfterSeconds())).isAfter(now)) {
            return false;
        }
        String from = hottest;
        Fleet.Member busiest = fleet.in(ReplicaState.READY).stream().filter(m -> from.equals(m.host()))
                .max(java.util.Comparator.comparingDouble(m -> lastCpu.getOrDefault(m.domain(), 0.0))).orElse(null);
        Placement.Verdict to = Placement.place(lastObservation, config.maxVcpusPerCore(), Set.of(from));
        if (busiest == null || to.full() || wouldRunHot(to.host(), busiest)) {
            return false;
        }
        try {
            startMigration(busiest.domain(), to.host(), "rebalance", "Rebalance", String.format(java.util.Locale.ROOT,
                    "the replicas on %s have used %.0f %% of its CPUs for %d s, above scaler.rebalanceAbove %.0f %%, "
                            + "and %s has room", from, most, Math.max(0, config.consolidateAfterSeconds()),
                    config.rebalanceAbove(), to.host()));
            hot = null;
            return true;
        } catch (IllegalArgumentException e) {
            log.info("scaler: no rebalancing now: {}", e.getMessage());
            return false;
        }
    }

    /** The group's replicas' CPU on a host, in % of its CPUs (a replica's sample is % of one vCPU). */
    private double load(String host) {
        Hypervisor.Host figures = lastObservation.host(host).map(Provisioner.HostSeen::figures).orElse(null);
        if (figures == null || figures.cpus() <= 0) {
            return 0;
        }
        return fleet.all().stream().filter(m -> host.equals(m.host()) && m.state() == ReplicaState.READY)
                .mapToDouble(m -> lastCpu.getOrDefault(m.domain(), 0.0)).sum() / figures.cpus();
    }

    /** With rebalancing on: the host would pass its threshold with this replica's CPU added. */
    private boolean wouldRunHot(String host, Fleet.Member replica) {
        if (config.rebalanceAbove() <= 0) {
            return false;
        }
        Hypervisor.Host figures = lastObservation.host(host).map(Provisioner.HostSeen::figures).orElse(null);
        double added = figures == null || figures.cpus() <= 0 ? 0
                : lastCpu.getOrDefault(replica.domain(), 0.0) / figures.cpus();
        return load(host) + added > config.rebalanceAbove();
    }

    /**
     * The last host of {@code libvirt.uris} that runs replicas of the group (all READY) when they all fit on the
     * reachable hosts before it; else null. Consolidation packs towards the front of the list (the first host is
     * home, the later ones are emptied to be switched off), so it never moves a replica back and forth.
     */
    private String consolidationCandidate() {
        if (!unreachableSince.isEmpty()) {
            return null; // hosts are being lost: not the time to pack
        }
        List<Placement.Fit> fits = Placement.fits(lastObservation, config.maxVcpusPerCore());
        for (int i = fits.size() - 1; i > 0; i--) {
            String uri = fits.get(i).uri();
            List<Fleet.Member> here = fleet.all().stream().filter(m -> uri.equals(m.host())).toList();
            if (here.isEmpty()) {
                continue;
            }
            boolean allReady = here.stream().allMatch(m -> m.state() == ReplicaState.READY);
            long roomBefore = fits.subList(0, i).stream().mapToLong(Placement.Fit::room).sum();
            return allReady && roomBefore >= here.size() ? uri : null;
        }
        return null;
    }

    /** The replicas and their states, as the scaler sees them. */
    public Map<String, ReplicaState> replicas() {
        CompletableFuture<Map<String, ReplicaState>> view = new CompletableFuture<>();
        loop.execute(() -> {
            Map<String, ReplicaState> copy = new TreeMap<>();
            fleet.all().forEach(r -> copy.put(r.domain(), r.state()));
            view.complete(copy);
        });
        return view.join();
    }

    // ---- the loop thread ----

    private void tick() {
        try {
            Instant now = clock.instant();
            Instant oldest = now.minus(settings.history());
            while (!samples.isEmpty() && samples.peekFirst().at().isBefore(oldest)) {
                samples.pollFirst();
            }
            recommendations.removeIf(r -> r.at().isBefore(oldest));
            if (!reconcile(now) || serving.busy() || !fleet.settled() || fleet.counted() != wanted) {
                return; // converging: one action at a time, its own events say how it goes
            }
            if (serving.backingOff(now)) {
                return; // the last action failed: no new one before the back-off ends
            }
            decide(now);
            if (fleet.settled() && fleet.counted() == wanted && !serving.busy() && !consolidate(now)) {
                rebalance(now);
            }
        } catch (RuntimeException e) {
            log.error("scaler: tick failed, the next one tries again", e);
        }
    }

    /**
     * Lists libvirt, folds it into the fleet, and starts the next action the difference calls for.
     *
     * @return false when libvirt could not be listed (nothing is decided on what cannot be seen)
     */
    private boolean reconcile(Instant now) {
        Provisioner.Observation seen;
        try {
            seen = provisioner.observe();
        } catch (RuntimeException e) {
            if (!unreachable) {
                unreachable = true;
                say(ScaleAction.HOLD, "HypervisorUnreachable", "cannot list the replicas on "
                        + String.join(", ", provisioner.hosts()) + ": " + e.getMessage()
                        + "; nothing is decided until one answers", null);
            }
            return false;
        }
        unreachable = false;
        lastObservation = seen;
        for (Provisioner.HostSeen h : seen.hosts()) {
            if (h.reachable()) {
                if (unreachableSince.remove(h.uri()) != null) {
                    log.info("scaler: {} answers again", h.uri());
                }
            } else if (!unreachableSince.containsKey(h.uri())) {
                unreachableSince.put(h.uri(), now);
                long ours = fleet.all().stream().filter(m -> h.uri().equals(m.host())).count();
                say(ScaleAction.HOLD, "HostUnreachable", h.uri() + " does not answer (" + h.error() + "): no replica goes "
                        + "there; its " + ours + " replica(s) are replaced elsewhere if it does not answer within "
                        + config.hostGraceSeconds() + " s", null);
            }
        }
        Map<String, Provisioner.Observed> byName = new HashMap<>();
        seen.replicas().forEach(o -> byName.put(o.domain(), o));
        for (String foreign : seen.foreign()) {
            if (foreignWarned.add(foreign)) {
                say(ScaleAction.HOLD, "ForeignDomain", foreign + " is named like a replica of " + host
                        + " but carries no mark of this group: left alone, its number skipped", foreign);
            }
        }
        // replicas that stopped unseen (lost event, libvirtd or broker down meanwhile)
        for (Fleet.Member member : fleet.all()) {
            if (busy.contains(member.domain())) {
                continue; // an action is changing it: libvirt's word on it is in flux
            }
            Instant away = member.host() == null ? null : unreachableSince.get(member.host());
            if (away != null) {
                Duration gone = Duration.between(away, now);
                if (member.state() != ReplicaState.FAILED && member.state() != ReplicaState.STOPPING
                        && gone.toSeconds() >= config.hostGraceSeconds()) {
                    fail(member, "its host " + member.host() + " has not answered for " + gone.toSeconds() + " s", now);
                }
                continue; // nothing is known of it meanwhile
            }
            Provisioner.Observed observed = byName.get(member.domain());
            String missing = observed == null ? "gone from libvirt" : null;
            switch (member.state()) {
                case STARTING, READY, DRAINING, WARMING -> {
                    if (observed != null && !observed.running()) {
                        missing = observed.power() == Hypervisor.Power.PAUSED ? "paused in libvirt" : "not running in libvirt";
                    }
                }
                case POOLED -> {
                    if (observed != null && !observed.parked()) {
                        missing = observed.running() ? "running in libvirt, though parked" : "stopped in libvirt, its save image gone";
                    }
                }
                default -> missing = null; // FAILED, STOPPING: on their way out anyway
            }
            if (missing != null) {
                fail(member, missing, now);
            }
        }
        if (wanted == null) {
            wanted = (int) seen.replicas().stream().filter(Provisioner.Observed::running).count();
        }
        // parked domains nobody knows: a warm pool a restart finds again
        for (Provisioner.Observed observed : seen.replicas()) {
            if (!fleet.contains(observed.domain()) && observed.parked() && observed.endpoint() != null) {
                String why = "found " + observed.power().name().toLowerCase(java.util.Locale.ROOT) + " in libvirt";
                announce(fleet.pooled(observed.domain(), observed.host(), observed.endpoint(), now, why),
                        ReplicaState.POOLED, why);
            }
        }
        if (!pooling.busy()) {
            tendPool(seen, now);
        }
        if (serving.busy()) {
            return true;
        }
        // cleaning up comes first, then taking back, then the count
        Optional<Fleet.Member> failed = fleet.in(ReplicaState.FAILED).stream().filter(m -> !busy.contains(m.domain()))
                .findFirst()
                .or(() -> fleet.in(ReplicaState.STOPPING).stream().filter(m -> !busy.contains(m.domain())).findFirst());
        if (failed.isPresent() && failed.get().state() == ReplicaState.FAILED
                && unreachableSince.containsKey(failed.get().host())) {
            // it cannot be stopped now; if it still runs when its host returns, it is taken back and the extra one drained
            Fleet.Member member = failed.get();
            fleet.forget(member.domain());
            forgetLoad(member.domain());
            log.info("scaler: {} forgotten: its host {} does not answer, it cannot be stopped now", member.domain(),
                    member.host());
            failed = Optional.empty();
        }
        if (failed.isPresent()) {
            Fleet.Member member = failed.get();
            if (!serving.backingOff(now)) {
                boolean scaleDown = member.state() == ReplicaState.STOPPING && member.cause().startsWith("drain");
                act("stopping " + member.domain(), () -> stop(member.domain(), scaleDown ? "scale down"
                        : "failed replica removed", scaleDown));
            }
            return true;
        }
        if (!pooling.busy()) { // a lane between its start and its bookkeeping leaves a domain that looks unknown
            for (Provisioner.Observed observed : seen.replicas()) {
                if (fleet.contains(observed.domain())) {
                    continue;
                }
                if (observed.running() && observed.endpoint() != null) {
                    Replica replica = new Replica(observed.domain(), observed.host(), observed.endpoint());
                    // defined longer ago than a warm-up (template mode defines and starts together): warm already
                    boolean warm = observed.created() != null && !observed.created().plus(decider.warmup()).isAfter(now);
                    act("taking back " + observed.domain(), () -> adopt(replica, warm));
                    return true;
                }
                if (observed.power() == Hypervisor.Power.OFF && provisioner.removesStopped()) {
                    act("removing " + observed.domain(), () -> removeLeftover(observed.domain()));
                    return true;
                }
            }
        }
        if (serving.backingOff(now)) {
            return true;
        }
        int counted = fleet.counted();
        if (counted < wanted && fleet.in(ReplicaState.STARTING).isEmpty()) {
            Optional<Fleet.Member> parked = parked();
            if (parked.isPresent()) {
                Fleet.Member member = parked.get();
                act("taking " + member.domain() + " from the warm pool", () -> takeFromPool(member));
            } else {
                Placement.Verdict room = Placement.place(seen, config.maxVcpusPerCore());
                if (room.full()) {
                    say(ScaleAction.HOLD, "NoCapacity", counted + " replica(s), " + wanted
                            + " wanted, but no host has room for one more: " + room.figures(), null);
                    wanted = counted; // the policy decides again, and holds while nothing fits
                } else {
                    act("starting a replica on " + room.host(), () -> scaleUp(room.host()));
                }
            }
        } else if (counted > wanted && fleet.settled()) {
            fleet.scaleDownCandidate().ifPresent(m -> act("draining " + m.domain(), () -> scaleDown(m)));
        }
        return true;
    }

    /** The parked replica a scale-up takes: a paused one before a saved one (back sooner). */
    private Optional<Fleet.Member> parked() {
        return fleet.in(ReplicaState.POOLED).stream().filter(m -> !busy.contains(m.domain()))
                .min(java.util.Comparator.comparing(m -> power(m.domain()) == Hypervisor.Power.PAUSED ? 0 : 1));
    }

    /** What libvirt said of the domain at the last look, or null. */
    private Hypervisor.Power power(String domain) {
        if (lastObservation == null) {
            return null;
        }
        return lastObservation.replicas().stream().filter(o -> o.domain().equals(domain)).findFirst()
                .map(Provisioner.Observed::power).orElse(null);
    }

    /**
     * The warm pool's lane: refill it to its target (one boot at a time, never while a serving replica boots or
     * warms up, within the host's CPUs and memory), or trim it when it holds more.
     */
    private void tendPool(Provisioner.Observation seen, Instant now) {
        int target = config.poolTarget(fleet.counted());
        List<Fleet.Member> pool = fleet.pool();
        if (pool.size() > target) {
            fleet.in(ReplicaState.POOLED).stream().filter(m -> !busy.contains(m.domain())).reduce((a, b) -> b)
                    .ifPresent(m -> poolAct("trimming " + m.domain(), () -> trim(m, "the warm pool holds " + pool.size()
                            + ", its target is " + target)));
            return;
        }
        // a serving replica is wanted more, boots alone, and warms up and is measured by the balancer undisturbed
        boolean servingFirst = serving.busy() || fleet.counted() < Math.max(config.minReplicas(), wanted)
                || !fleet.in(ReplicaState.STARTING).isEmpty()
                || fleet.views(decider.warmup()).stream().anyMatch(v -> v.warming(now)) || calibrations.any();
        if (pool.size() == target || servingFirst || pooling.backingOff(now)) {
            poolHeld = null;
            return;
        }
        Placement.Verdict room = Placement.place(seen, config.maxVcpusPerCore());
        if (room.full()) {
            String full = "no host has room: " + room.figures();
            if (!full.equals(poolHeld)) {
                log.info("scaler: warm pool not refilled: {}", full);
            }
            poolHeld = full;
            return;
        }
        poolHeld = null;
        poolAct("preparing a warm-pool replica on " + room.host(), () -> prepare(room.host()));
    }

    /** A replica that is not running any more: FAILED, out of the count, replaced. */
    private void fail(Fleet.Member member, String why, Instant now) {
        boolean wasDraining = member.state() == ReplicaState.DRAINING;
        boolean wasPool = member.pool();
        Fleet.Member failed = fleet.move(member.domain(), ReplicaState.FAILED, now, why);
        abandoned.add(member.domain());
        announce(failed, ReplicaState.FAILED, (wasPool ? "warm-pool replica failed: " : "failed: ") + why);
        if (wasPool) {
            return; // not serving: the pool refills itself
        }
        if (wasDraining) {
            if (drain != null && drain.domain.equals(member.domain())) {
                drain.done.complete("it stopped by itself");
            }
            return; // it was on its way out anyway
        }
        say(ScaleAction.REPLACE, "ReplicaFailed", member.domain() + " " + why + ": replacing it", member.domain());
    }

    /** The policy's turn: the fleet is settled. */
    private void decide(Instant now) {
        if (operatorWanted != null) {
            operatorStep(now);
            return;
        }
        List<io.vmscale.scaler.policy.ReplicaView> views = fleet.views(decider.warmup());
        ScaleDecision decision = decider.decide(views, new ArrayList<>(samples), now, lastCompleted, recommendations,
                room());
        if (decider.policy() instanceof TargetTracking) {
            recommendations.add(new PolicyInput.Recommendation(now, TargetTracking.recommendation(decision)));
        }
        carryOut(decision, now);
    }

    /**
     * Where one more serving replica would go, or null when that needs no room (a parked replica is taken
     * first: a paused one's vCPUs and memory are counted already) or nothing is known yet.
     */
    private Placement.Verdict room() {
        if (lastObservation == null || parked().isPresent()) {
            return null;
        }
        return Placement.place(lastObservation, config.maxVcpusPerCore());
    }

    /** Publishes the decision and, unless paused (the policy only) or in a dry run, wants its count. */
    private void carryOut(ScaleDecision decision, Instant now) {
        boolean holds = decision.action() == ScaleAction.HOLD;
        boolean pausedHere = paused && !decision.policy().equals(OPERATOR);
        publish(!holds && pausedHere ? withNote(decision, " (paused: not acted on)")
                : !holds && dryRun ? withNote(decision, " (dry run: not acted on)")
                : decision.action() == ScaleAction.UP ? withNote(decision, poolNote())
                : decision);
        if (holds || pausedHere || dryRun) {
            return;
        }
        wanted = decision.toReplicas();
        reconcile(now);
    }

    /** One step towards the replica count an operator asked for: one replica at a time, cooldown ignored. */
    private void operatorStep(Instant now) {
        int current = fleet.counted();
        int want = operatorWanted;
        if (current == want) {
            operatorWanted = null;
            publish(new ScaleDecision(ScaleAction.HOLD, current, current, OPERATOR, "OperatorScaleReached",
                    "reached the " + want + " replica(s) the operator asked for; " + decider.policy().name()
                            + " decides again", Map.of("desired", (double) want), null));
            return;
        }
        ScaleAction action = current < want ? ScaleAction.UP : ScaleAction.DOWN;
        int to = current + (current < want ? 1 : -1);
        Placement.Verdict room = room();
        if (action == ScaleAction.UP && room != null && room.full()) {
            operatorWanted = null;
            publish(new ScaleDecision(ScaleAction.HOLD, current, current, OPERATOR, "NoCapacity",
                    "the operator asked for " + want + " replica(s), " + current + " now, but no host has room for one "
                            + "more: " + room.figures() + "; " + decider.policy().name() + " decides again",
                    Map.of("desired", (double) want), null));
            return;
        }
        carryOut(new ScaleDecision(action, current, to, OPERATOR, "OperatorScale",
                "the operator asked for " + want + " replica(s), " + current + " now",
                Map.of("desired", (double) want), null), now);
        if (dryRun) {
            operatorWanted = null; // a dry run never gets there: say it once
        }
    }

    private static ScaleDecision withNote(ScaleDecision d, String note) {
        return new ScaleDecision(d.action(), d.fromReplicas(), d.toReplicas(), d.policy(), d.reasonCode(),
                d.reason() + note, d.inputs(), d.domain());
    }

    /** A decision of the reconciler's own (REPLACE, ActionFailed, ForeignDomain, ...). */
    private void say(ScaleAction action, String code, String reason, String domain) {
        int current = fleet.counted();
        int to = action == ScaleAction.REPLACE ? current + 1 : current;
        publish(new ScaleDecision(action, current, to, RECONCILER, code,
                reason + (action == ScaleAction.REPLACE ? poolNote() : ""), Map.of(), domain));
    }

    /** Where the next replica comes from, for a decision's reason: nothing without a warm pool. */
    private String poolNote() {
        if (config.warmPool().size() == 0) {
            return "";
        }
        return parked().map(m -> "; " + FROM_POOL + ": " + m.domain() + " ("
                        + Provisioner.Tier.of(power(m.domain())).word() + ")")
                .orElse("; cold boot: the warm pool is empty");
    }

    private void act(String what, Runnable action) {
        serving.run(what, action);
    }

    private void poolAct(String what, Runnable action) {
        pooling.run(what, action);
    }

    /**
     * A thread for actions, one at a time, with its own back-off: after failures in a row it starts nothing
     * new for 1, 2, 4 ... 60 s, and a HOLD with its failure code says why. Its fields belong to the loop thread.
     */
    private final class Lane {
        private final ExecutorService executor;
        private final String failureCode;
        /** What it is doing, or null. */
        String doing;
        private int failures;
        private Instant backOffUntil;

        Lane(String thread, String failureCode) {
            this.executor = Executors.newSingleThreadExecutor(r -> daemon(r, thread));
            this.failureCode = failureCode;
        }

        boolean busy() {
            return doing != null;
        }

        boolean backingOff(Instant now) {
            return backOffUntil != null && now.isBefore(backOffUntil);
        }

        void run(String what, Runnable action) {
            if (executor.isShutdown()) {
                return; // the scaler is closing
            }
            doing = what;
            executor.execute(() -> {
                try {
                    action.run();
                    submit(() -> failures = 0);
                } catch (RuntimeException e) {
                    if (loop.isShutdown()) {
                        log.debug("scaler: {} cut short: the scaler is closed", what);
                        return;
                    }
                    log.error("scaler: {} failed: {}", what, e.getMessage());
                    submit(() -> {
                        failures++;
                        Duration wait = backOff(failures);
                        backOffUntil = clock.instant().plus(wait);
                        say(ScaleAction.HOLD, failureCode, what + ": " + e.getMessage() + "; trying again in "
                                + wait.toSeconds() + " s (failure " + failures + " in a row)", null);
                    });
                } finally {
                    submit(() -> doing = null);
                }
            });
        }

        void close() {
            executor.shutdownNow();
        }
    }

    /** 1 s, 2 s, 4 s, ... at most 60 s after consecutive failed actions. */
    static Duration backOff(int failures) {
        return Duration.ofSeconds(Math.min(60, 1L << Math.min(6, Math.max(0, failures - 1))));
    }

    private void announce(Fleet.Member replica, ReplicaState state, String reason) {
        announce(replica, state, reason, false);
    }

    /** @param warmStart the replica comes back warm (from the warm pool, or live-migrated): no slow start */
    private void announce(Fleet.Member replica, ReplicaState state, String reason, boolean warmStart) {
        publish(new VmLifecycle(replica.domain(), replica.host() == null ? host : replica.host(), replica.endpoint(),
                state, reason, warmStart));
    }

    private void publish(Event event) {
        if (event instanceof ScaleDecision decision) {
            Instant now = clock.instant();
            if (repeats(decision) && Duration.between(lastPublishedAt, now).compareTo(HOLD_HEARTBEAT) < 0) {
                return; // the same HOLD as the last decision: said already
            }
            lastPublished = decision;
            lastPublishedAt = now;
        }
        if (event instanceof ScaleDecision decision && (decision.action() != ScaleAction.HOLD || lastDecisions.isEmpty()
                || !lastDecisions.peekLast().get("reasonCode").equals(decision.reasonCode()))) {
            Map<String, Object> remembered = new java.util.LinkedHashMap<>(); // a run of like holds is remembered once
            remembered.put("at", clock.instant().toString());
            remembered.put("action", decision.action().name());
            remembered.put("fromReplicas", decision.fromReplicas());
            remembered.put("toReplicas", decision.toReplicas());
            remembered.put("policy", decision.policy());
            remembered.put("reasonCode", decision.reasonCode());
            remembered.put("reason", decision.reason());
            remembered.put("domain", decision.domain());
            lastDecisions.addLast(remembered);
            while (lastDecisions.size() > KEPT_DECISIONS) {
                lastDecisions.pollFirst();
            }
        }
        try {
            publish.accept(event);
        } catch (RuntimeException e) {
            log.warn("scaler: could not publish {}: {}", event.type(), e.getMessage());
        }
    }

    /** A HOLD with the code and counts of the last decision published (its sentence may differ: "3 s ago"). */
    private boolean repeats(ScaleDecision decision) {
        return decision.action() == ScaleAction.HOLD && lastPublished != null
                && lastPublished.action() == ScaleAction.HOLD && lastPublished.reasonCode().equals(decision.reasonCode())
                && lastPublished.fromReplicas() == decision.fromReplicas()
                && lastPublished.toReplicas() == decision.toReplicas();
    }

    /** Runs on the loop thread and waits for it (from the action thread). */
    private <T> T onLoop(java.util.function.Supplier<T> step) {
        return CompletableFuture.supplyAsync(step, loop).join();
    }

    private void onLoop(Runnable step) {
        CompletableFuture.runAsync(step, loop).join();
    }

    // ---- the action thread ----

    private void scaleUp(String on) {
        Replica replica;
        try {
            replica = provisioner.scaleUp(on);
        } catch (RuntimeException e) {
            onLoop(() -> wanted = Math.min(wanted, fleet.counted())); // the policy decides again after the back-off
            throw e;
        }
        probe(replica, "scale up", "scale up", "answered its probe", true, false);
    }

    private void adopt(Replica replica, boolean warm) {
        probe(replica, "found running", "found running in libvirt: probing it", "found running, answered its probe"
                + (warm ? " (running for longer than a warm-up: its samples count at once)" : ""), false, warm);
    }

    /** STARTING, then READY once it answers correctly, or FAILED; only a start of ours completes an action. */
    private void probe(Replica replica, String cause, String starting, String why, boolean completesAnAction,
                       boolean warm) {
        Fleet.Member member = onLoop(() -> {
            abandoned.remove(replica.domain());
            Fleet.Member m = fleet.starting(replica.domain(), replica.host(), replica.endpoint(), clock.instant(), cause,
                    warm);
            announce(m, ReplicaState.STARTING, starting);
            return m;
        });
        ready(member, why, completesAnAction, Duration.ofMillis(250), false);
    }

    /**
     * A STARTING replica: READY once it answers correctly (asked every {@code retry}), or FAILED.
     *
     * @param warmStart it comes back from the warm pool: its READY says so
     */
    private void ready(Fleet.Member member, String why, boolean completesAnAction, Duration retry, boolean warmStart) {
        long t0 = System.nanoTime();
        boolean answered = ReadinessProbe.answers(member.endpoint(), settings.probeDeadline(), retry,
                () -> !abandoned.contains(member.domain()));
        onLoop(() -> {
            Fleet.Member now = fleet.get(member.domain()).orElse(null);
            if (now == null || now.state() != ReplicaState.STARTING) {
                return; // failed meanwhile: the reconciler took care of it
            }
            if (answered) {
                log.info("scaler: {} ready after {} ms", member.domain(), (System.nanoTime() - t0) / 1_000_000);
                announce(fleet.move(member.domain(), ReplicaState.READY, clock.instant(), why), ReplicaState.READY, why,
                        warmStart);
                if (completesAnAction) {
                    lastCompleted = clock.instant();
                }
            } else {
                fail(now, "no correct answer within " + settings.probeDeadline().toSeconds() + " s", clock.instant());
            }
        });
    }

    private void scaleDown(Fleet.Member replica) {
        Drain draining = onLoop(() -> {
            Fleet.Member m = fleet.move(replica.domain(), ReplicaState.DRAINING, clock.instant(), "scale down");
            drain = new Drain(m.domain(), m.endpoint().toString());
            announce(m, ReplicaState.DRAINING, "scale down");
            return drain;
        });
        String how;
        try {
            how = "drained: " + draining.done.get(settings.drainTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            how = "drain timeout: no acknowledgement with nothing in flight from the balancer within "
                    + settings.drainTimeout().toSeconds() + " s; stopping it anyway";
            log.warn("scaler: {}: {}", replica.domain(), how);
        } catch (Exception e) {
            how = "drain interrupted: " + e;
        }
        String reason = how;
        String next = onLoop(() -> {
            drain = null;
            Optional<Fleet.Member> m = fleet.get(replica.domain()).filter(x -> x.state() == ReplicaState.DRAINING);
            if (m.isEmpty()) {
                return "gone";
            }
            if (fleet.pool().size() < config.poolTarget(fleet.counted())) {
                busy.add(replica.domain()); // EC2's ReuseOnScaleIn: back to the pool, warm
                return "pool";
            }
            announce(fleet.move(replica.domain(), ReplicaState.STOPPING, clock.instant(), reason),
                    ReplicaState.STOPPING, reason);
            return "stop";
        });
        if (next.equals("pool")) {
            Provisioner.Tier tier = tier();
            try {
                provisioner.park(replica.domain(), tier);
            } catch (RuntimeException e) {
                String why = reason + "; could not " + (tier == Provisioner.Tier.PAUSED ? "pause" : "save")
                        + " it for the warm pool (" + e.getMessage() + "): stopping it";
                onLoop(() -> {
                    busy.remove(replica.domain());
                    fleet.get(replica.domain()).filter(x -> x.state() == ReplicaState.DRAINING).ifPresent(x ->
                            announce(fleet.move(x.domain(), ReplicaState.STOPPING, clock.instant(), why),
                                    ReplicaState.STOPPING, why));
                });
                stop(replica.domain(), "scale down", true);
                return;
            }
            String why = reason + "; returned to the warm pool (" + tier.word() + ")";
            onLoop(() -> {
                busy.remove(replica.domain());
                forgetLoad(replica.domain());
                fleet.get(replica.domain()).filter(x -> x.state() == ReplicaState.DRAINING).ifPresent(x ->
                        announce(fleet.move(x.domain(), ReplicaState.POOLED, clock.instant(), why), ReplicaState.POOLED, why));
                lastCompleted = clock.instant();
            });
        } else if (next.equals("stop")) {
            stop(replica.domain(), "scale down", true);
        }
    }

    private Provisioner.Tier tier() {
        return config.warmPool().tier().equals("saved") ? Provisioner.Tier.SAVED : Provisioner.Tier.PAUSED;
    }

    private void forgetLoad(String domain) {
        lastCpu.remove(domain);
        calibrations.forget(domain);
        samples.removeIf(s -> s.domain().equals(domain));
    }

    /** A scale-up from the warm pool: resume or restore, then the probe (asked often: it answers within ms). */
    private void takeFromPool(Fleet.Member parked) {
        String domain = parked.domain();
        Fleet.Member member = onLoop(() -> {
            Optional<Fleet.Member> m = fleet.get(domain).filter(x -> x.state() == ReplicaState.POOLED);
            if (m.isEmpty()) {
                return null; // it failed meanwhile: the next look takes another
            }
            String why = FROM_POOL + " (" + Provisioner.Tier.of(power(domain)).word() + ")";
            busy.add(domain);
            abandoned.remove(domain);
            Fleet.Member starting = fleet.move(domain, ReplicaState.STARTING, clock.instant(), why);
            announce(starting, ReplicaState.STARTING, why, true);
            return starting;
        });
        if (member == null) {
            return;
        }
        try {
            provisioner.resume(domain);
        } catch (RuntimeException e) {
            onLoop(() -> {
                busy.remove(domain);
                fleet.get(domain).filter(x -> x.state() == ReplicaState.STARTING)
                        .ifPresent(x -> fail(x, "could not bring it back from the warm pool: " + e.getMessage(),
                                clock.instant()));
            });
            throw e;
        }
        onLoop(() -> busy.remove(domain));
        ready(member, member.cause() + ", answered its probe", true, Duration.ofMillis(20), true);
    }

    /** The warm pool's lane: boot a replica, probe it, warm it with real requests, park it. */
    private void prepare(String on) {
        Replica replica = provisioner.scaleUp(on);
        String booting = "booting for the warm pool";
        Fleet.Member member = onLoop(() -> {
            abandoned.remove(replica.domain());
            Fleet.Member m = fleet.warming(replica.domain(), replica.host(), replica.endpoint(), clock.instant(), booting);
            announce(m, ReplicaState.WARMING, booting);
            return m;
        });
        String domain = member.domain();
        boolean answered = ReadinessProbe.answers(member.endpoint(), settings.probeDeadline(), Duration.ofMillis(250),
                () -> !abandoned.contains(domain));
        if (!answered) {
            onLoop(() -> fleet.get(domain).filter(x -> x.state() == ReplicaState.WARMING).ifPresent(x ->
                    fail(x, "no correct answer within " + settings.probeDeadline().toSeconds() + " s", clock.instant())));
            return;
        }
        Warmer.Result warmed = Warmer.warm(member.endpoint(), config.warmPool().warmRequests(), settings.warmWork(),
                settings.probeDeadline(), () -> !abandoned.contains(domain));
        Provisioner.Tier tier = tier();
        boolean still = onLoop(() -> {
            boolean warming = fleet.get(domain).filter(x -> x.state() == ReplicaState.WARMING).isPresent();
            if (warming) {
                busy.add(domain);
            }
            return warming;
        });
        if (!still) {
            return;
        }
        try {
            provisioner.park(domain, tier);
        } catch (RuntimeException e) {
            onLoop(() -> {
                busy.remove(domain);
                fleet.get(domain).filter(x -> x.state() == ReplicaState.WARMING).ifPresent(x ->
                        fail(x, "could not " + (tier == Provisioner.Tier.PAUSED ? "pause" : "save") + " it: "
                                + e.getMessage(), clock.instant()));
            });
            throw e;
        }
        String why = "warmed (" + warmed + "), " + tier.word();
        onLoop(() -> {
            busy.remove(domain);
            forgetLoad(domain);
            fleet.get(domain).filter(x -> x.state() == ReplicaState.WARMING).ifPresent(x ->
                    announce(fleet.move(domain, ReplicaState.POOLED, clock.instant(), why), ReplicaState.POOLED, why));
        });
    }

    /** A parked replica the pool no longer needs: stopped and removed. */
    private void trim(Fleet.Member parked, String why) {
        String domain = parked.domain();
        boolean taken = onLoop(() -> {
            Optional<Fleet.Member> m = fleet.get(domain).filter(x -> x.state() == ReplicaState.POOLED);
            m.ifPresent(x -> {
                busy.add(domain);
                announce(fleet.move(domain, ReplicaState.STOPPING, clock.instant(), why), ReplicaState.STOPPING, why);
            });
            return m.isPresent();
        });
        if (!taken) {
            return;
        }
        try {
            provisioner.stop(domain);
        } finally {
            onLoop(() -> busy.remove(domain)); // a failed stop stays STOPPING: the cleanup tries again
        }
        onLoop(() -> {
            fleet.get(domain).filter(x -> x.state() == ReplicaState.STOPPING).ifPresent(x -> {
                fleet.gone(domain);
                announce(x, ReplicaState.STOPPED, "warm pool trimmed");
            });
        });
    }

    /** Stops a STOPPING or FAILED replica; it stays tracked (and is tried again) until libvirt says it is gone. */
    private void stop(String domain, String why, boolean completesAnAction) {
        onLoop(() -> fleet.get(domain).filter(m -> m.state() == ReplicaState.FAILED)
                .ifPresent(m -> fleet.move(domain, ReplicaState.STOPPING, clock.instant(), why)));
        provisioner.stop(domain);
        onLoop(() -> {
            Fleet.Member gone = fleet.gone(domain);
            forgetLoad(domain);
            announce(gone, ReplicaState.STOPPED, why);
            if (completesAnAction) {
                lastCompleted = clock.instant();
                scaledDown |= why.equals("scale down");
            }
        });
    }

    /**
     * A live migration: MIGRATING (the balancer sends to it only while nothing else can take a request), libvirt
     * moves it, and it is READY at its new endpoint as soon as it answers there (asked every 20 ms while it
     * moves), or READY where it was when the move failed, or FAILED when it answers nowhere.
     */
    private void migrate(String domain, String toHost) {
        Replica target = provisioner.migrationTarget(domain, toHost); // checked before anything changes
        Fleet.Member member = onLoop(() -> {
            Optional<Fleet.Member> m = fleet.get(domain).filter(x -> x.state() == ReplicaState.READY);
            m.ifPresent(x -> {
                busy.add(domain);
                String why = "to " + toHost + " (live migration; answering at " + target.endpoint() + " once there)";
                announce(fleet.move(domain, ReplicaState.MIGRATING, clock.instant(), why), ReplicaState.MIGRATING, why);
            });
            return m.orElse(null);
        });
        if (member == null) {
            return; // it changed meanwhile
        }
        long t0 = System.nanoTime();
        java.util.concurrent.atomic.AtomicBoolean moving = new java.util.concurrent.atomic.AtomicBoolean(true);
        CompletableFuture<Boolean> there = CompletableFuture.supplyAsync(() -> ReadinessProbe.answers(target.endpoint(),
                settings.probeDeadline(), Duration.ofMillis(20), moving::get));
        there.thenAccept(answered -> {
            if (answered) {
                long ms = (System.nanoTime() - t0) / 1_000_000;
                submit(() -> arrived(member, target, ms));
            }
        });
        try {
            provisioner.migrate(domain, toHost);
        } catch (RuntimeException e) {
            moving.set(false);
            there.join();
            onLoop(() -> {
                busy.remove(domain);
                fleet.get(domain).filter(x -> x.state() == ReplicaState.MIGRATING).ifPresent(x -> {
                    String why = "migration to " + toHost + " failed (" + e.getMessage() + "): still on " + member.host();
                    announce(fleet.moved(domain, member.host(), member.endpoint(), clock.instant(), why),
                            ReplicaState.READY, why);
                });
            });
            throw e;
        }
        boolean answered = there.join();
        onLoop(() -> {
            busy.remove(domain);
            if (!answered) {
                fleet.get(domain).filter(x -> x.state() == ReplicaState.MIGRATING).ifPresent(x -> fail(x,
                        "moved to " + toHost + " but no correct answer at " + target.endpoint() + " within "
                                + settings.probeDeadline().toSeconds() + " s", clock.instant()));
            }
        });
    }

    /** A MIGRATING replica answered at its new endpoint: READY there (on the loop thread). */
    private void arrived(Fleet.Member member, Replica target, long ms) {
        if (fleet.get(member.domain()).filter(x -> x.state() == ReplicaState.MIGRATING).isEmpty()) {
            return;
        }
        String why = VmLifecycle.MOVED + " " + member.host() + " (live migration, answering at its new endpoint "
                + ms + " ms after it began)";
        migrations++;
        consolidating = null;
        scaledDown = false;
        announce(fleet.moved(member.domain(), target.host(), target.endpoint(), clock.instant(), why),
                ReplicaState.READY, why, true);
    }

    /** A domain of the group left stopped by a crash (defined, never started; destroyed, not undefined). */
    private void removeLeftover(String domain) {
        provisioner.stop(domain);
        log.info("scaler: removed {}, left stopped (a crash during an earlier action)", domain);
    }

    @Override
    public void close() {
        loop.shutdownNow();
        serving.close();
        pooling.close();
    }
}
