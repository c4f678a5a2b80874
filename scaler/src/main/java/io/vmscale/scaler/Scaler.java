package io.vmscale.scaler;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Subscription;
import io.vmscale.broker.Topic;
import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.config.ScalerConfig;
import io.vmscale.scaler.policy.Policies;
import io.vmscale.scaler.policy.PolicyInput;
import io.vmscale.scaler.policy.ReplicaView;
import io.vmscale.scaler.policy.Sample;
import io.vmscale.scaler.policy.ScalingPolicy;
import io.vmscale.scaler.policy.TargetTracking;
import io.vmscale.scaler.provision.Provisioner;
import io.vmscale.scaler.provision.ReadinessProbe;
import io.vmscale.scaler.provision.Replica;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller: keeps the replicas' states and recent samples, asks the policy every tick,
 * publishes every decision, and acts through the {@link Provisioner}, one action at a time:
 * <ul>
 *   <li>UP: start a replica (STARTING), ask it real questions until it answers (READY) or give up (FAILED);</li>
 *   <li>DOWN: DRAINING, wait until the balancer reports nothing in flight to it (or the drain timeout),
 *       STOPPING, stop, STOPPED;</li>
 *   <li>a replica the monitor reports stopped or failed that the scaler did not stop: FAILED at once
 *       (the balancer drops it) and REPLACE.</li>
 * </ul>
 * State lives on one thread; actions run on another; neither blocks the broker's threads.
 */
public final class Scaler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Scaler.class);
    /** The policy name of decisions an operator asked for with {@code scale N}. */
    public static final String OPERATOR = "operator";
    private static final int KEPT_DECISIONS = 20;

    /**
     * @param tick          how often the policy is asked
     * @param probeDeadline how long a new replica may take to answer correctly
     * @param drainTimeout  how long a draining replica may keep requests in flight before it is stopped anyway
     * @param history       how long samples and recommendations are kept
     */
    public record Settings(Duration tick, Duration probeDeadline, Duration drainTimeout, Duration history) {
        /** The configuration's tick, probe and drain timeouts, with ten minutes of history. */
        public static Settings of(ScalerConfig config) {
            return new Settings(Duration.ofMillis(config.tickMs()), Duration.ofSeconds(config.probeTimeoutSeconds()),
                    Duration.ofSeconds(config.drainTimeoutSeconds()), Duration.ofMinutes(10));
        }
    }

    private record Tracked(String domain, Endpoint endpoint, ReplicaState state) {
        Tracked with(ReplicaState next) {
            return new Tracked(domain, endpoint, next);
        }
    }

    private final Provisioner provisioner;
    private final Consumer<Event> publish;
    private final String host;
    private final String source;
    private final Settings settings;
    private final Clock clock;
    private final ScheduledExecutorService loop;
    private final ExecutorService actions;
    // owned by the loop thread
    private final Map<String, Tracked> replicas = new TreeMap<>();
    private final Deque<Sample> samples = new ArrayDeque<>();
    private final List<PolicyInput.Recommendation> recommendations = new ArrayList<>();
    private final Map<String, Integer> inFlight = new HashMap<>();
    private final Map<String, Double> lastCpu = new HashMap<>();
    private final Deque<Map<String, Object>> lastDecisions = new ArrayDeque<>();
    private ScalerConfig config;
    private ScalingPolicy policy;
    private Instant lastAction;
    private boolean acting;
    private String drainingEndpoint;
    private CompletableFuture<Void> drained;
    private boolean paused;
    private boolean dryRun;
    private int failures;
    private Instant backOffUntil;
    /** The replica count an operator asked for with {@code scale N}, until it is reached. */
    private Integer desired;

    private Scaler(ScalerConfig config, Provisioner provisioner, Consumer<Event> publish, String host, String source,
                   Settings settings, Clock clock) {
        this.config = config;
        this.policy = Policies.of(config);
        this.provisioner = provisioner;
        this.publish = publish;
        this.host = host;
        this.source = source;
        this.settings = settings;
        this.clock = clock;
        this.loop = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "scaler"));
        this.actions = Executors.newSingleThreadExecutor(r -> daemon(r, "scaler-actions"));
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /**
     * Rebuilds the view from the hypervisor (the running replicas of the prefix are probed and
     * become READY again: a restart of the scaler starts no duplicate), then ticks.
     *
     * @param source this scaler's own envelope source, to tell its own lifecycle events from the monitor's
     */
    public static Scaler start(ScalerConfig config, Provisioner provisioner, Consumer<Event> publish, String host,
                               String source, Settings settings, Clock clock) {
        Scaler scaler = new Scaler(config, provisioner, publish, host, source, settings, clock);
        scaler.loop.execute(() -> {
            scaler.acting = true;
            scaler.actions.execute(scaler::rebuild);
        });
        scaler.loop.scheduleAtFixedRate(scaler::tick, settings.tick().toMillis(), settings.tick().toMillis(),
                TimeUnit.MILLISECONDS);
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
                connection.subscribe(LbStats.class, e -> onLbStats(e.body())),
                connection.subscribe(AdminCommand.class, e -> {
                    AdminCommand command = e.body();
                    boolean ours = command.target().equals("scaler")
                            || command.target().equals("all") && COMMANDS.contains(command.command());
                    if (!ours) {
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
            Tracked replica = replicas.get(sample.domain());
            if (replica != null) {
                lastCpu.put(sample.domain(), sample.cpuPercent());
            }
            if (replica != null && replica.state() == ReplicaState.READY) {
                samples.add(new Sample(sample.domain(), at, sample.cpuPercent()));
            }
        });
    }

    public void onLifecycle(VmLifecycle event, String eventSource) {
        if (source.equals(eventSource)) {
            return; // our own
        }
        submit(() -> {
            Tracked replica = replicas.get(event.domain());
            boolean gone = event.state() == ReplicaState.STOPPED || event.state() == ReplicaState.FAILED
                    || event.state() == ReplicaState.UNDEFINED;
            if (replica == null || !gone || !(replica.state() == ReplicaState.READY
                    || replica.state() == ReplicaState.STARTING)) {
                return; // not ours, not a failure, or a stop we are doing ourselves
            }
            replicas.put(replica.domain(), replica.with(ReplicaState.FAILED));
            announce(replica, ReplicaState.FAILED, "failed: " + event.reason());
            decide(ScaleAction.REPLACE, "ReplicaFailed", replica.domain() + " " + event.reason() + ": replacing it",
                    replica.domain());
            act(() -> replace(replica));
        });
    }

    public void onLbStats(LbStats stats) {
        submit(() -> {
            inFlight.clear();
            stats.servers().forEach((endpoint, s) -> inFlight.put(endpoint, s.inFlight()));
            if (drained != null && drainingEndpoint != null && inFlight.getOrDefault(drainingEndpoint, 0) == 0) {
                drained.complete(null);
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
    public static final List<String> COMMANDS = List.of("pause", "resume", "min", "max", "scale", "policy", "dry-run",
            "status");

    /**
     * Carries out an operator's command: {@code pause}, {@code resume}, {@code min N}, {@code max N},
     * {@code scale N}, {@code policy NAME}, {@code dry-run on|off}, {@code status}. A malformed one
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
        switch (name) {
            case "pause" -> {
                arguments(name, args, 0, "");
                paused = true;
                message = "paused: " + policy.name() + " still decides and publishes, nothing is acted on "
                        + "(failed replicas are still replaced; 'scale N' still works)";
            }
            case "resume" -> {
                arguments(name, args, 0, "");
                paused = false;
                message = "resumed: " + policy.name() + " acts again";
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
                reconfigure(withLimits(config, min, max), config.policy());
                message = "replicas now " + min + ".." + max;
            }
            case "scale" -> {
                arguments(name, args, 1, " N");
                int n = count(name, args.get(0));
                if (n < config.minReplicas() || n > config.maxReplicas()) {
                    throw new IllegalArgumentException("scale " + n + " is outside min..max " + config.minReplicas()
                            + ".." + config.maxReplicas() + ": change min or max first");
                }
                desired = n;
                message = "scaling to " + n + " replica(s), one at a time; then " + policy.name() + " decides again"
                        + (dryRun ? " (dry run: decisions only)" : "");
            }
            case "policy" -> {
                arguments(name, args, 1, " NAME");
                reconfigure(config, args.get(0));
                recommendations.clear();
                message = "policy now " + policy.name();
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
            case "status" -> {
                arguments(name, args, 0, "");
                data = status();
                message = replicas.size() + " replica(s), " + policy.name() + " " + config.minReplicas() + ".."
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

    private static ScalerConfig withLimits(ScalerConfig c, int min, int max) {
        return new ScalerConfig(c.policy(), min, max, c.cooldownSeconds(), c.tickMs(), c.probeTimeoutSeconds(),
                c.drainTimeoutSeconds(), c.thresholdWindow(), c.targetTracking());
    }

    private void reconfigure(ScalerConfig next, String policyName) {
        ScalingPolicy nextPolicy = Policies.named(policyName, next);
        config = new ScalerConfig(nextPolicy.name(), next.minReplicas(), next.maxReplicas(), next.cooldownSeconds(),
                next.tickMs(), next.probeTimeoutSeconds(), next.drainTimeoutSeconds(), next.thresholdWindow(),
                next.targetTracking());
        policy = nextPolicy;
    }

    private Map<String, Object> status() {
        List<Map<String, Object>> list = new ArrayList<>();
        replicas.values().forEach(r -> {
            Map<String, Object> replica = new java.util.LinkedHashMap<>();
            replica.put("domain", r.domain());
            replica.put("state", r.state().name());
            replica.put("cpu", lastCpu.get(r.domain()));
            replica.put("endpoint", r.endpoint() == null ? null : r.endpoint().toString());
            list.add(replica);
        });
        Map<String, Object> scaler = new java.util.LinkedHashMap<>();
        scaler.put("policy", policy.name());
        scaler.put("minReplicas", config.minReplicas());
        scaler.put("maxReplicas", config.maxReplicas());
        scaler.put("paused", paused);
        scaler.put("dryRun", dryRun);
        scaler.put("desired", desired);
        scaler.put("acting", acting);
        Map<String, Object> data = new java.util.LinkedHashMap<>();
        data.put("replicas", list);
        data.put("decisions", new ArrayList<>(lastDecisions));
        data.put("scaler", scaler);
        return data;
    }

    /** The replicas and their states, as the scaler sees them. */
    public Map<String, ReplicaState> replicas() {
        CompletableFuture<Map<String, ReplicaState>> view = new CompletableFuture<>();
        loop.execute(() -> {
            Map<String, ReplicaState> copy = new TreeMap<>();
            replicas.forEach((d, r) -> copy.put(d, r.state()));
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
            if (acting) {
                return; // one action at a time; its own events say how it goes
            }
            if (backOffUntil != null && now.isBefore(backOffUntil)) {
                return; // the last action failed: no new one before the back-off ends
            }
            List<ReplicaView> views = replicas.values().stream()
                    .filter(r -> r.state() != ReplicaState.FAILED)
                    .map(r -> new ReplicaView(r.domain(), r.state())).toList();
            PolicyInput input = new PolicyInput(new ArrayList<>(samples), views, now, lastAction, recommendations);
            if (desired != null) {
                operatorStep(input);
                return;
            }
            ScaleDecision decision = policy.decide(input);
            if (policy instanceof TargetTracking) {
                recommendations.add(new PolicyInput.Recommendation(now, TargetTracking.recommendation(decision)));
            }
            carryOut(decision, now);
        } catch (RuntimeException e) {
            log.error("scaler: tick failed, the next one tries again", e);
        }
    }

    /** Publishes the decision and, unless paused (the policy only) or in a dry run, acts on it. */
    private void carryOut(ScaleDecision decision, Instant now) {
        boolean holds = decision.action() == ScaleAction.HOLD;
        boolean pausedHere = paused && !decision.policy().equals(OPERATOR);
        publish(!holds && pausedHere ? withNote(decision, " (paused: not acted on)")
                : !holds && dryRun ? withNote(decision, " (dry run: not acted on)")
                : decision);
        if (holds || pausedHere || dryRun) {
            return;
        }
        lastAction = now;
        if (decision.action() == ScaleAction.UP) {
            act(this::scaleUp);
        } else if (decision.action() == ScaleAction.DOWN) {
            act(this::scaleDown);
        }
    }

    /** One step towards the replica count an operator asked for: one replica at a time, cooldown ignored. */
    private void operatorStep(PolicyInput input) {
        int current = ScalingPolicy.current(input);
        int want = desired;
        if (current == want) {
            desired = null;
            publish(new ScaleDecision(ScaleAction.HOLD, current, current, OPERATOR, "OperatorScaleReached",
                    "reached the " + want + " replica(s) the operator asked for; " + policy.name() + " decides again",
                    Map.of("desired", (double) want), null));
            return;
        }
        ScaleAction action = current < want ? ScaleAction.UP : ScaleAction.DOWN;
        int to = current + (current < want ? 1 : -1);
        carryOut(new ScaleDecision(action, current, to, OPERATOR, "OperatorScale",
                "the operator asked for " + want + " replica(s), " + current + " now",
                Map.of("desired", (double) want), null), input.now());
        if (dryRun) {
            desired = null; // a dry run never gets there: say it once
        }
    }

    private static ScaleDecision withNote(ScaleDecision d, String note) {
        return new ScaleDecision(d.action(), d.fromReplicas(), d.toReplicas(), d.policy(), d.reasonCode(),
                d.reason() + note, d.inputs(), d.domain());
    }

    private void decide(ScaleAction action, String code, String reason, String domain) {
        int current = (int) replicas.values().stream().filter(r -> r.state() != ReplicaState.FAILED).count();
        publish(new ScaleDecision(action, current, current, policy.name(), code, reason, Map.of(), domain));
    }

    private void act(Runnable action) {
        acting = true;
        actions.execute(() -> {
            try {
                action.run();
                submit(() -> failures = 0);
            } catch (RuntimeException e) {
                log.error("scaler: action failed: {}", e.getMessage());
                submit(() -> {
                    failures++;
                    Duration wait = backOff(failures);
                    backOffUntil = clock.instant().plus(wait);
                    decide(ScaleAction.HOLD, "ActionFailed", e.getMessage() + "; trying again in " + wait.toSeconds()
                            + " s (failure " + failures + " in a row)", null);
                });
            } finally {
                submit(() -> acting = false);
            }
        });
    }

    /** 1 s, 2 s, 4 s, ... at most 60 s after consecutive failed actions. */
    static Duration backOff(int failures) {
        return Duration.ofSeconds(Math.min(60, 1L << Math.min(6, Math.max(0, failures - 1))));
    }

    private void announce(Tracked replica, ReplicaState state, String reason) {
        publish(new VmLifecycle(replica.domain(), host, replica.endpoint(), state, reason));
    }

    private void publish(Event event) {
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

    /** Runs on the loop thread and waits for it (from the action thread). */
    private void onLoop(Runnable step) {
        CompletableFuture.runAsync(step, loop).join();
    }

    // ---- the action thread ----

    private void rebuild() {
        try {
            for (Replica replica : provisioner.running()) {
                Tracked tracked = new Tracked(replica.domain(), replica.endpoint(), ReplicaState.STARTING);
                onLoop(() -> replicas.put(replica.domain(), tracked));
                probe(tracked, "found running at start");
            }
        } catch (RuntimeException e) {
            log.error("scaler: could not rebuild the replicas from the hypervisor: {}", e.getMessage());
        } finally {
            onLoop(() -> acting = false);
        }
    }

    private void scaleUp() {
        Replica replica = provisioner.scaleUp();
        Tracked tracked = new Tracked(replica.domain(), replica.endpoint(), ReplicaState.STARTING);
        onLoop(() -> {
            replicas.put(replica.domain(), tracked);
            announce(tracked, ReplicaState.STARTING, "scale up");
        });
        probe(tracked, "answered its probe");
    }

    private void probe(Tracked tracked, String why) {
        long t0 = System.nanoTime();
        boolean answered = ReadinessProbe.answers(tracked.endpoint(), settings.probeDeadline(), Duration.ofMillis(250));
        if (answered) {
            log.info("scaler: {} ready after {} ms", tracked.domain(), (System.nanoTime() - t0) / 1_000_000);
            onLoop(() -> {
                replicas.put(tracked.domain(), tracked.with(ReplicaState.READY));
                announce(tracked, ReplicaState.READY, why);
            });
            return;
        }
        onLoop(() -> {
            replicas.put(tracked.domain(), tracked.with(ReplicaState.FAILED));
            announce(tracked, ReplicaState.FAILED, "no correct answer within " + settings.probeDeadline().toSeconds() + " s");
        });
        stopQuietly(tracked);
    }

    private void scaleDown() {
        String domain = provisioner.scaleDownCandidate();
        CompletableFuture<Tracked> draining = new CompletableFuture<>();
        onLoop(() -> {
            Tracked replica = replicas.get(domain);
            if (replica == null) {
                draining.complete(null);
                return;
            }
            Tracked next = replica.with(ReplicaState.DRAINING);
            replicas.put(domain, next);
            drainingEndpoint = replica.endpoint().toString();
            drained = new CompletableFuture<>();
            announce(next, ReplicaState.DRAINING, "scale down");
            draining.complete(next);
        });
        Tracked replica = draining.join();
        if (replica == null) {
            log.warn("scaler: {} is not a replica the scaler knows; not stopping it", domain);
            return;
        }
        try {
            drained.get(settings.drainTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            log.warn("scaler: {} still had requests in flight after {} s; stopping it anyway", domain,
                    settings.drainTimeout().toSeconds());
        } catch (Exception e) {
            log.warn("scaler: waiting for {} to drain: {}", domain, e.toString());
        }
        onLoop(() -> {
            drained = null;
            drainingEndpoint = null;
            replicas.put(domain, replica.with(ReplicaState.STOPPING));
            announce(replica, ReplicaState.STOPPING, "drained");
        });
        stopQuietly(replica);
        onLoop(() -> {
            replicas.remove(domain);
            lastCpu.remove(domain);
            announce(replica, ReplicaState.STOPPED, "scale down");
        });
    }

    private void replace(Tracked failed) {
        stopQuietly(failed);
        onLoop(() -> {
            replicas.remove(failed.domain());
            lastCpu.remove(failed.domain());
        });
        scaleUp();
    }

    private void stopQuietly(Tracked replica) {
        try {
            provisioner.stop(replica.domain());
        } catch (RuntimeException e) {
            log.warn("scaler: stopping {}: {}", replica.domain(), e.getMessage());
        }
    }

    @Override
    public void close() {
        loop.shutdownNow();
        actions.shutdownNow();
    }
}
