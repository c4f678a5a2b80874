package io.vmscale.scaler;

import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.broker.event.VmLifecycle;
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

    /**
     * @param tick          how often the policy is asked
     * @param probeDeadline how long a new replica may take to answer correctly
     * @param drainTimeout  how long a draining replica may keep requests in flight before it is stopped anyway
     * @param history       how long samples and recommendations are kept
     */
    public record Settings(Duration tick, Duration probeDeadline, Duration drainTimeout, Duration history) {
    }

    private record Tracked(String domain, Endpoint endpoint, ReplicaState state) {
        Tracked with(ReplicaState next) {
            return new Tracked(domain, endpoint, next);
        }
    }

    private final ScalingPolicy policy;
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
    private Instant lastAction;
    private boolean acting;
    private String drainingEndpoint;
    private CompletableFuture<Void> drained;
    private volatile boolean paused;
    private volatile boolean dryRun;

    private Scaler(ScalingPolicy policy, Provisioner provisioner, Consumer<Event> publish, String host, String source,
                   Settings settings, Clock clock) {
        this.policy = policy;
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
    public static Scaler start(ScalingPolicy policy, Provisioner provisioner, Consumer<Event> publish, String host,
                               String source, Settings settings, Clock clock) {
        Scaler scaler = new Scaler(policy, provisioner, publish, host, source, settings, clock);
        scaler.loop.execute(() -> {
            scaler.acting = true;
            scaler.actions.execute(scaler::rebuild);
        });
        scaler.loop.scheduleAtFixedRate(scaler::tick, settings.tick().toMillis(), settings.tick().toMillis(),
                TimeUnit.MILLISECONDS);
        return scaler;
    }

    // ---- events in (any thread) ----

    /** Feeds the scaler from the broker: samples, lifecycle (its own events told apart by source), balancer stats. */
    public List<io.vmscale.broker.Subscription> listenTo(io.vmscale.broker.BrokerConnection connection) {
        return List.of(
                connection.subscribe(CpuSample.class, e -> onSample(e.body(), e.ts())),
                connection.subscribe(VmLifecycle.class, e -> onLifecycle(e.body(), e.source())),
                connection.subscribe(LbStats.class, e -> onLbStats(e.body())));
    }

    public void onSample(CpuSample sample, Instant at) {
        loop.execute(() -> {
            Tracked replica = replicas.get(sample.domain());
            if (replica != null && replica.state() == ReplicaState.READY) {
                samples.add(new Sample(sample.domain(), at, sample.cpuPercent()));
            }
        });
    }

    public void onLifecycle(VmLifecycle event, String eventSource) {
        if (source.equals(eventSource)) {
            return; // our own
        }
        loop.execute(() -> {
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
        loop.execute(() -> {
            inFlight.clear();
            stats.servers().forEach((endpoint, s) -> inFlight.put(endpoint, s.inFlight()));
            if (drained != null && drainingEndpoint != null && inFlight.getOrDefault(drainingEndpoint, 0) == 0) {
                drained.complete(null);
            }
        });
    }

    public void pause(boolean value) {
        paused = value;
    }

    public void dryRun(boolean value) {
        dryRun = value;
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
            List<ReplicaView> views = replicas.values().stream()
                    .filter(r -> r.state() != ReplicaState.FAILED)
                    .map(r -> new ReplicaView(r.domain(), r.state())).toList();
            ScaleDecision decision = policy.decide(new PolicyInput(new ArrayList<>(samples), views, now, lastAction,
                    recommendations));
            if (policy instanceof TargetTracking) {
                recommendations.add(new PolicyInput.Recommendation(now, TargetTracking.recommendation(decision)));
            }
            boolean act = decision.action() != ScaleAction.HOLD && !paused && !dryRun;
            publish(paused && decision.action() != ScaleAction.HOLD ? withNote(decision, " (paused: not acted on)")
                    : dryRun && decision.action() != ScaleAction.HOLD ? withNote(decision, " (dry run: not acted on)")
                    : decision);
            if (!act) {
                return;
            }
            lastAction = now;
            if (decision.action() == ScaleAction.UP) {
                act(this::scaleUp);
            } else if (decision.action() == ScaleAction.DOWN) {
                act(this::scaleDown);
            }
        } catch (RuntimeException e) {
            log.error("scaler: tick failed, the next one tries again", e);
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
            } catch (RuntimeException e) {
                log.error("scaler: action failed: {}", e.getMessage());
            } finally {
                loop.execute(() -> acting = false);
            }
        });
    }

    private void announce(Tracked replica, ReplicaState state, String reason) {
        publish(new VmLifecycle(replica.domain(), host, replica.endpoint(), state, reason));
    }

    private void publish(Event event) {
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
            announce(replica, ReplicaState.STOPPED, "scale down");
        });
    }

    private void replace(Tracked failed) {
        stopQuietly(failed);
        onLoop(() -> replicas.remove(failed.domain()));
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
