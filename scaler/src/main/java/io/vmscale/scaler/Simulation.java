package io.vmscale.scaler;

import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.Envelope;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.config.ScalerConfig;
import io.vmscale.scaler.policy.PolicyInput;
import io.vmscale.scaler.policy.ReplicaView;
import io.vmscale.scaler.policy.Sample;
import io.vmscale.scaler.policy.ScalingPolicy;
import io.vmscale.scaler.policy.TargetTracking;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A scaling policy run offline over a recorded event log: what it would have decided, and what that
 * would have cost. The load is taken from the log (the sum of the READY replicas' CPU, in percent of
 * one replica) and spread evenly over the simulated replicas; a simulated scale-up is READY after the
 * boot time the log shows (the median STARTING to READY); a scale-down takes effect at once (the drain
 * is short). The policy is asked every tick (in step with the live scaler's ticks, which its
 * decisions in the log show), as the live scaler asks it, with the same inputs: the
 * READY replicas' samples, the replicas' states, the time of the last action, the recommendations.
 * Failures are not simulated: a REPLACE in the log is the hardware, not the policy.
 */
public final class Simulation {
    private static final Duration FRESH = Duration.ofSeconds(3);
    private static final Duration DEFAULT_BOOT = Duration.ofSeconds(5);

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
        List<Envelope<? extends Event>> ordered = new ArrayList<>(events);
        ordered.sort((a, b) -> a.ts().compareTo(b.ts())); // stable: equal times keep the log's order
        Duration tick = Duration.ofMillis(config.tickMs());
        List<Duration> boots = bootTimes(ordered);
        Duration boot = boots.isEmpty() ? DEFAULT_BOOT : boots.get(boots.size() / 2);
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
        List<Step> recordedDecisions = new ArrayList<>();
        double recordedOverload = 0;
        double recordedReplicaSeconds = 0;

        // the simulated fleet
        List<Instant> fleet = new ArrayList<>(); // when each simulated replica is (or was) READY, oldest first
        for (int i = 0; i < before.size(); i++) {
            fleet.add(start); // serving when the log began: the simulated fleet starts with them too
        }
        Deque<Sample> samples = new ArrayDeque<>();
        List<PolicyInput.Recommendation> recommendations = new ArrayList<>();
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
                    switch (v.state()) {
                        case READY -> {
                            liveReady.add(v.domain());
                            liveAlive.add(v.domain());
                        }
                        case STARTING, RUNNING -> liveAlive.add(v.domain());
                        case DRAINING -> liveReady.remove(v.domain());
                        case STOPPING, STOPPED, FAILED, UNDEFINED -> {
                            liveReady.remove(v.domain());
                            liveAlive.remove(v.domain());
                        }
                        default -> {
                        }
                    }
                } else if (e.body() instanceof CpuSample s) {
                    lastCpu.put(s.domain(), new Sample(s.domain(), e.ts(), s.cpuPercent()));
                } else if (e.body() instanceof ScaleDecision d && d.action() != ScaleAction.HOLD) {
                    recordedDecisions.add(new Step(e.ts(), d));
                }
            }
            // the load: the serving replicas' CPU, fresh samples only (a missing sample is not a zero)
            double load = 0;
            int measured = 0;
            for (String domain : liveReady) {
                Sample last = lastCpu.get(domain);
                if (last != null && Duration.between(last.at(), now).compareTo(FRESH) <= 0) {
                    load += last.cpu();
                    measured++;
                }
            }
            boolean known = measured > 0;
            recordedReplicaSeconds += liveAlive.size() * dt;
            if (known && load / measured > high) {
                recordedOverload += dt;
            }

            Instant t = now;
            int ready = (int) fleet.stream().filter(r -> !r.isAfter(t)).count();
            simulatedReplicaSeconds += fleet.size() * dt;
            if (known && (ready == 0 ? load > 0 : load / ready > high)) {
                simulatedOverload += dt;
            }
            List<ReplicaView> views = new ArrayList<>();
            for (int i = 0; i < fleet.size(); i++) {
                String name = "sim-" + i;
                boolean isReady = !fleet.get(i).isAfter(now);
                views.add(new ReplicaView(name, isReady ? ReplicaState.READY : ReplicaState.STARTING));
                if (isReady && known) {
                    samples.add(new Sample(name, now, Math.min(100, load / ready)));
                }
            }
            Instant oldest = now.minus(Duration.ofMinutes(10));
            while (!samples.isEmpty() && samples.peekFirst().at().isBefore(oldest)) {
                samples.pollFirst();
            }
            recommendations.removeIf(r -> r.at().isBefore(oldest));
            ScaleDecision decision = policy.decide(new PolicyInput(new ArrayList<>(samples), views, now, lastAction,
                    recommendations));
            if (policy instanceof TargetTracking) {
                recommendations.add(new PolicyInput.Recommendation(now, TargetTracking.recommendation(decision)));
            }
            if (decision.action() == ScaleAction.UP) {
                fleet.add(now.plus(boot));
                lastAction = now;
                simulatedDecisions.add(new Step(now, decision));
            } else if (decision.action() == ScaleAction.DOWN && !fleet.isEmpty()) {
                fleet.remove(fleet.size() - 1);
                String removed = "sim-" + fleet.size();
                samples.removeIf(s -> s.domain().equals(removed));
                lastAction = now;
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

    /** STARTING to READY per domain start, as the scaler reported them, shortest first. */
    static List<Duration> bootTimes(List<Envelope<? extends Event>> ordered) {
        Map<String, Instant> starting = new HashMap<>();
        List<Duration> boots = new ArrayList<>();
        for (Envelope<? extends Event> e : ordered) {
            if (e.body() instanceof VmLifecycle v) {
                if (v.state() == ReplicaState.STARTING) {
                    starting.put(v.domain(), e.ts());
                } else if (v.state() == ReplicaState.READY && starting.containsKey(v.domain())) {
                    boots.add(Duration.between(starting.remove(v.domain()), e.ts()));
                }
            }
        }
        boots.sort(Duration::compareTo);
        return boots;
    }
}
