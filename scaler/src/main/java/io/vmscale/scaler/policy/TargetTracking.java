package io.vmscale.scaler.policy;

import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Like the Kubernetes HPA: desired = ceil(ready x mean utilisation / target), no change while the
 * ratio is inside the tolerance band, scale-down stabilisation (a DOWN acts on the highest
 * recommendation of the last S seconds, so a dip does not undo a scale-up), and at most
 * {@code maxUp} replicas added or {@code maxDown} removed by one decision. The mean is over the
 * ready replicas' samples of the last {@code metricWindow}; a ready replica with none makes it wait.
 */
public record TargetTracking(double target, double tolerance, Duration metricWindow, Duration stabilisation,
                             int maxUp, int maxDown, Limits limits) implements ScalingPolicy {
    public static final String NAME = "target-tracking";

    public TargetTracking {
        if (!(target > 0 && target <= 100) || !(tolerance >= 0 && tolerance < 1) || maxUp < 1 || maxDown < 1) {
            throw new IllegalArgumentException("need 0 < target <= 100, 0 <= tolerance < 1, maxUp and maxDown >= 1");
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    /** The replica count this decision recommends, for the caller to keep in the history. */
    public static int recommendation(ScaleDecision decision) {
        return decision.inputs().getOrDefault("recommended", (double) decision.toReplicas()).intValue();
    }

    @Override
    public ScaleDecision decide(PolicyInput input) {
        int current = ScalingPolicy.current(input);
        Set<String> ready = ScalingPolicy.warm(input);
        Instant from = input.now().minus(metricWindow);
        Map<String, Double> perReplica = input.samples().stream()
                .filter(s -> ready.contains(s.domain()) && !s.at().isBefore(from) && !s.at().isAfter(input.now()))
                .collect(Collectors.groupingBy(Sample::domain, Collectors.averagingDouble(Sample::cpu)));
        Map<String, Double> inputs = new LinkedHashMap<>();
        inputs.put("target", target);
        inputs.put("tolerance", tolerance);
        inputs.put("ready", (double) ready.size());
        OptionalDouble mean = perReplica.values().stream().mapToDouble(Double::doubleValue).average();
        mean.ifPresent(m -> inputs.put("meanCpu", m));
        ScaleDecision guard = ScalingPolicy.guard(NAME, input, limits, inputs);
        if (guard != null) {
            return guard;
        }
        if (ready.isEmpty() || !perReplica.keySet().containsAll(ready)) {
            return ScalingPolicy.decision(ScaleAction.HOLD, current, current, NAME, "MissingSamples",
                    "no sample in the last " + metricWindow.toSeconds() + " s from "
                            + ready.stream().filter(d -> !perReplica.containsKey(d)).sorted().toList()
                            + ": a missing sample is not a zero", inputs);
        }
        double ratio = mean.getAsDouble() / target;
        inputs.put("ratio", ratio);
        int raw = Math.abs(ratio - 1) <= tolerance ? current : (int) Math.ceil(ready.size() * ratio - 1e-9);
        int recommended = Math.max(Math.max(1, limits.minReplicas()), Math.min(limits.maxReplicas(), raw));
        inputs.put("recommended", (double) recommended);
        if (recommended > current) {
            int to = Math.min(recommended, current + maxUp);
            return ScalingPolicy.decision(ScaleAction.UP, current, to, NAME,
                    to < recommended ? "ScaleUpLimit" : "AboveTarget",
                    String.format("mean CPU %.1f %% against a target of %.1f %%: %d replica(s) wanted%s",
                            mean.getAsDouble(), target, recommended, to < recommended ? ", " + maxUp + " at a time" : ""),
                    inputs);
        }
        // scale down only as far as the highest recommendation of the stabilisation window allows
        Instant since = input.now().minus(stabilisation);
        int stable = input.recommendations().stream().filter(r -> !r.at().isBefore(since))
                .mapToInt(PolicyInput.Recommendation::replicas).max().orElse(recommended);
        stable = Math.max(stable, recommended);
        inputs.put("stabilised", (double) stable);
        if (stable < current) {
            int to = Math.max(stable, current - maxDown);
            return ScalingPolicy.decision(ScaleAction.DOWN, current, to, NAME,
                    to > stable ? "ScaleDownLimit" : "BelowTarget",
                    String.format("mean CPU %.1f %% against a target of %.1f %%: %d replica(s) are enough%s",
                            mean.getAsDouble(), target, stable, to > stable ? ", " + maxDown + " at a time" : ""),
                    inputs);
        }
        String code = recommended < current ? "ScaleDownStabilised" : "WithinTolerance";
        String reason = recommended < current
                ? String.format("%d replica(s) would do, but %d were recommended in the last %d s", recommended, stable,
                stabilisation.toSeconds())
                : String.format("mean CPU %.1f %% is within %.0f %% of the target %.1f %%", mean.getAsDouble(),
                tolerance * 100, target);
        return ScalingPolicy.decision(ScaleAction.HOLD, current, current, NAME, code, reason, inputs);
    }
}
