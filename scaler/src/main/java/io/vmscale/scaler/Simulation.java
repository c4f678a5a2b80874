package io.vmscale.scaler;

import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.Envelope;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.scaler.policy.ReplicaView;
import io.vmscale.scaler.policy.Sample;
import io.vmscale.scaler.policy.ScalingPolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A scaling policy run offline over a recorded event log: what it would have decided, and what that
 * would have cost. The load is taken from the log (the sum of the READY replicas' CPU, in percent of
 * one replica) and spread evenly over the simulated READY replicas; the k-th simulated scale-up is READY
 * as long after its decision as the k-th start of the log took from decision to READY (the median of
 * them once the log has no more), a scale-down stops serving at once and completes as long after its
 * decision as the log's k-th scale-down took to STOPPED. So the same policy over its own log takes the
 * same decisions at the same ticks, and another policy meets the same boot and drain times. Decisions go through
 * the live scaler's own {@link Decider} over the live scaler's own {@link SampleWindow} (warm-up, scale-in
 * blocked while warming, target tracking's recommendations), asked every tick in
 * step with the live scaler's ticks (its decisions in the log show them) and, as live, only when no
 * action is under way; the cooldown runs from when an action completed, as live.
 * A replica the balancer marks calibrating (it keeps it saturated to measure it) is not load, as live
 * ({@link CalibrationMarks}); it is taken to carry what the others carry on average.
 * Failures are not simulated: a REPLACE in the log is the hardware, not the policy.
 */
public final class Simulation {
    private static final Duration FRESH = Duration.ofSeconds(3);
    private static final Duration DEFAULT_BOOT = Duration.ofSeconds(5);
    private static final Duration DEFAULT_DRAIN = Duration.ofSeconds(1);

    /** A decision and when it was taken. */
    public record Step(Instant at, ScaleDecision decision) {
    }

    /**
     * @param decisions      the UP, DOWN and REPLACE decisions, in order
     * @param overloadSeconds time with the mean CPU of the serving replicas above HIGH (or load and none serving)
     * @param replicaSeconds  replicas running (booting included) times seconds
     */
    public record Outcome(List<Step> decisions, double overloadSeconds, double replicaSeconds) {
        public long count(ScaleAction action) {
            return decisions.stream().filter(s -> s.decision().action() == action).count();
        }
    }

    /** The recorded run and the simulated one, over the same span. */
    public record Report(Instant start, Instant end, int events, Duration bootTime, int bootsMeasured, Outcome recorded,
                         Outcome simulated) {
    }

    private Simulation() {
    }

    public static Report run(List<Envelope<? extends Event>> events, ScalingPolicy policy, ScalerConfig config,
                             double high) {
        Decider decider = new Decider(policy, config.warmup());
        List<Envelope<? extends Event>> ordered = new ArrayList<>(events);
        ordered.sort((a, b) -> a.ts().compareTo(b.ts())); // stable: equal times keep the log's order
        Duration tick = Duration.ofMillis(config.tickMs());
        List<Duration> bootsInOrder = fromDecision(ordered, ScaleAction.UP, ReplicaState.STARTING, ReplicaState.READY);
        List<Boolean> warmStarts = warmStarts(ordered);
        List<Duration> drainsInOrder = fromDecision(ordered, ScaleAction.DOWN, ReplicaState.DRAINING, ReplicaState.STOPPED);
        List<Duration> boots = sorted(bootsInOrder);
        Duration boot = boots.isEmpty() ? DEFAULT_BOOT : boots.get(boots.size() / 2);
        List<Duration> drains = sorted(drainsInOrder);
        Duration drain = drains.isEmpty() ? DEFAULT_DRAIN : drains.get(drains.size() / 2);
        int ups = 0;
        int downs = 0;
        if (ordered.isEmpty()) {
            Outcome none = new Outcome(List.of(), 0, 0);
            return new Report(Instant.EPOCH, Instant.EPOCH, 0, boot, 0, none, none);
        }
        Instant start = ordered.get(0).ts();
        Instant end = ordered.get(ordered.size() - 1).ts();

        // the log, as time passes
        Set<String> before = runningBefore(ordered);
        Set<String> liveReady = new HashSet<>(before);
        Set<String> liveAlive = new HashSet<>(before);
        Map<String, Sample> lastCpu = new HashMap<>();
        Map<String, String> domainAt = new HashMap<>(); // endpoint -> domain, from the lifecycle events
        CalibrationMarks calibrations = new CalibrationMarks(); // as live: the balancer's measurement is not load
        List<Step> recordedDecisions = new ArrayList<>();
        double recordedOverload = 0;
        double recordedReplicaSeconds = 0;

        // the simulated fleet
        List<Instant> fleet = new ArrayList<>(); // when each simulated replica is (or was) READY, oldest first
        List<Duration> warmups = new ArrayList<>(); // its warm-up: none when it came from the warm pool
        for (int i = 0; i < before.size(); i++) {
            fleet.add(start.minus(config.warmup())); // serving (and warm) when the log began: the simulated fleet too
            warmups.add(config.warmup());
        }
        Instant busyUntil = null; // an action under way: the policy is not asked, as live
        Instant sampledAt = null;
        SampleWindow window = new SampleWindow(SampleWindow.HISTORY);
        List<Step> simulatedDecisions = new ArrayList<>();
        Instant lastAction = null;
        double simulatedOverload = 0;
        double simulatedReplicaSeconds = 0;

        int next = 0;
        double dt = tick.toNanos() / 1e9;
        // tick when the live scaler ticked (its decisions carry the times), else from the first event
        Instant phase = ordered.stream().filter(e -> e.body() instanceof ScaleDecision).map(Envelope::ts).findFirst()
                .orElse(start);
        Instant first = phase.minus(tick.multipliedBy(Duration.between(start, phase).toNanos() / tick.toNanos()));
        for (Instant now = first; !now.isAfter(end.plus(tick)); now = now.plus(tick)) {
            while (next < ordered.size() && !ordered.get(next).ts().isAfter(now)) {
                Envelope<? extends Event> e = ordered.get(next++);
                if (e.body() instanceof VmLifecycle v) {
                    if (v.endpoint() != null) {
                        domainAt.put(v.endpoint().toString(), v.domain());
                    }
                    switch (v.state()) {
                        case READY -> {
                            liveReady.add(v.domain());
                            liveAlive.add(v.domain());
                        }
                        case STARTING, RUNNING -> liveAlive.add(v.domain());
                        case DRAINING -> liveReady.remove(v.domain());
                        case STOPPING, STOPPED, FAILED, UNDEFINED, POOLED -> {
                            liveReady.remove(v.domain());
                            liveAlive.remove(v.domain());
                        }
                        default -> {
                        }
                    }
                } else if (e.body() instanceof CpuSample s) {
                    if (calibrations.isLoad(s.domain(), e.ts(), s.intervalMs())) {
                        lastCpu.put(s.domain(), new Sample(s.domain(), e.ts(), s.cpuPercent()));
                    } else {
                        lastCpu.remove(s.domain());
                    }
                } else if (e.body() instanceof LbStats stats) {
                    calibrations.stats(e.ts(), stats, domainAt::get);
                } else if (e.body() instanceof ScaleDecision d && d.action() != ScaleAction.HOLD) {
                    recordedDecisions.add(new Step(e.ts(), d));
                }
            }
            // the load: the serving replicas' CPU, fresh samples only (a missing sample is not a zero)
            double load = 0;
            int measured = 0;
            Instant latest = null;
            for (String domain : liveReady) {
                Sample last = lastCpu.get(domain);
                if (last != null && Duration.between(last.at(), now).compareTo(FRESH) <= 0) {
                    load += last.cpu();
                    measured++;
                    latest = latest == null || last.at().isAfter(latest) ? last.at() : latest;
                }
            }
            boolean known = measured > 0;
            // a replica being measured carries, as far as the log can tell, what the others carry on average
            long calibrating = liveReady.stream().filter(calibrations::calibrating).count();
            double clients = known ? load * (measured + calibrating) / measured : 0;
            recordedReplicaSeconds += liveAlive.size() * dt;
            if (known && load / measured > high) {
                recordedOverload += dt;
            }

            Instant t = now;
            int ready = (int) fleet.stream().filter(r -> !r.isAfter(t)).count();
            simulatedReplicaSeconds += fleet.size() * dt;
            if (known && (ready == 0 ? clients > 0 : clients / ready > high)) {
                simulatedOverload += dt;
            }
            // the simulated replicas are sampled when the live ones were (the monitor's instants, not the ticks)
            boolean fresh = known && (sampledAt == null || latest.isAfter(sampledAt));
            List<ReplicaView> views = new ArrayList<>();
            for (int i = 0; i < fleet.size(); i++) {
                String name = "sim-" + i;
                boolean isReady = !fleet.get(i).isAfter(now);
                views.add(new ReplicaView(name, isReady ? ReplicaState.READY : ReplicaState.STARTING,
                        isReady ? fleet.get(i).plus(warmups.get(i)) : null));
                if (isReady && fresh) {
                    window.add(new Sample(name, latest, Math.min(100, clients / ready)));
                }
            }
            if (fresh) {
                sampledAt = latest;
            }
            window.trim(now);
            if (busyUntil != null && now.isBefore(busyUntil)) {
                continue;
            }
            ScaleDecision decision = window.decide(decider, views, now, lastAction, null);
            if (decision.action() == ScaleAction.UP) {
                Duration took = ups < bootsInOrder.size() ? bootsInOrder.get(ups) : boot;
                warmups.add(ups < warmStarts.size() && warmStarts.get(ups) ? Duration.ZERO : config.warmup());
                ups++;
                fleet.add(now.plus(took));
                lastAction = now.plus(took); // the cooldown runs from READY
                busyUntil = lastAction;
                simulatedDecisions.add(new Step(now, decision));
            } else if (decision.action() == ScaleAction.DOWN && !fleet.isEmpty()) {
                fleet.remove(fleet.size() - 1);
                warmups.remove(warmups.size() - 1);
                String removed = "sim-" + fleet.size();
                window.forget(removed);
                Duration took = downs < drainsInOrder.size() ? drainsInOrder.get(downs) : drain;
                downs++;
                lastAction = now.plus(took); // ... and from STOPPED
                busyUntil = lastAction;
                simulatedDecisions.add(new Step(now, decision));
            }
        }
        return new Report(start, end, ordered.size(), boot, boots.size(),
                new Outcome(recordedDecisions, recordedOverload, recordedReplicaSeconds),
                new Outcome(simulatedDecisions, simulatedOverload, simulatedReplicaSeconds));
    }

    /** Domains serving before the log began: their first event is a sample, or a state after STARTING. */
    static Set<String> runningBefore(List<Envelope<? extends Event>> ordered) {
        Set<String> seen = new HashSet<>();
        Set<String> running = new HashSet<>();
        for (Envelope<? extends Event> e : ordered) {
            if (e.body() instanceof CpuSample s && seen.add(s.domain())) {
                running.add(s.domain());
            } else if (e.body() instanceof VmLifecycle v && seen.add(v.domain())
                    && (v.state() == ReplicaState.READY || v.state() == ReplicaState.DRAINING
                    || v.state() == ReplicaState.STOPPING || v.state() == ReplicaState.RUNNING)) {
                running.add(v.domain());
            }
        }
        return running;
    }

    /** Per start in the log's order (each STARTING): true when the replica came from the warm pool. */
    static List<Boolean> warmStarts(List<Envelope<? extends Event>> ordered) {
        return ordered.stream().filter(e -> e.body() instanceof VmLifecycle v && v.state() == ReplicaState.STARTING)
                .map(e -> ((VmLifecycle) e.body()).warmStart()).toList();
    }

    /** STARTING to READY per domain start, as the scaler reported them, shortest first. */
    static List<Duration> bootTimes(List<Envelope<? extends Event>> ordered) {
        return sorted(fromDecision(ordered, ScaleAction.UP, ReplicaState.STARTING, ReplicaState.READY));
    }

    private static List<Duration> sorted(List<Duration> durations) {
        List<Duration> copy = new ArrayList<>(durations);
        copy.sort(Duration::compareTo);
        return copy;
    }

    /**
     * In the log's order: from a decision (UP, or REPLACE counted with it; DOWN) to the state that ends its
     * action, for the domain the next {@code begins} state named: a start from its decision to READY, a
     * scale-down from its decision to STOPPED. A domain's begin state without a decision before it (a
     * replica taken back after a restart) counts from that state.
     */
    static List<Duration> fromDecision(List<Envelope<? extends Event>> ordered, ScaleAction action, ReplicaState begins,
                                       ReplicaState ends) {
        Map<String, Instant> since = new HashMap<>();
        Instant decided = null;
        List<Duration> spans = new ArrayList<>();
        for (Envelope<? extends Event> e : ordered) {
            if (e.body() instanceof ScaleDecision d && (d.action() == action
                    || action == ScaleAction.UP && d.action() == ScaleAction.REPLACE)) {
                decided = e.ts();
            } else if (e.body() instanceof VmLifecycle v) {
                if (v.state() == begins && !since.containsKey(v.domain())) {
                    since.put(v.domain(), decided != null ? decided : e.ts());
                    decided = null;
                } else if ((v.state() == ends || ends == ReplicaState.STOPPED && v.state() == ReplicaState.POOLED)
                        && since.containsKey(v.domain())) { // a scale-in ends stopped, or back in the warm pool
                    spans.add(Duration.between(since.remove(v.domain()), e.ts()));
                }
            }
        }
        return spans;
    }
}
