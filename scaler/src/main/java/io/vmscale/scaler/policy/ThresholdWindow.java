package io.vmscale.scaler.policy;

import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The original assignment's policy: when every sample of every warm replica over the last W seconds
 * is above HIGH, one more replica; when every one is below LOW, one fewer. After an action completes,
 * and when a replica becomes warm, the window starts again, so W seconds of new samples of the
 * fleet as it is now are needed before the next decision. A replica with no
 * sample in the window makes the policy wait: a missing sample is not a zero.
 */
public record ThresholdWindow(double high, double low, Duration window, Limits limits) implements ScalingPolicy {
    public static final String NAME = "threshold-window";

    public ThresholdWindow {
        if (!(low >= 0 && low < high && high <= 100)) {
            throw new IllegalArgumentException("need 0 <= low < high <= 100, got low " + low + ", high " + high);
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ScaleDecision decide(PolicyInput input) {
        int current = ScalingPolicy.current(input);
        Instant start = input.now().minus(window);
        // the window starts again after an action and when the set of warm replicas changed
        boolean restarted = input.lastAction() != null && input.lastAction().isAfter(start);
        if (restarted) {
            start = input.lastAction();
        }
        Instant newestWarm = ScalingPolicy.lastWarm(input);
        boolean joined = newestWarm != null && newestWarm.isAfter(start);
        if (joined) {
            start = newestWarm;
        }
        Instant from = start;
        Set<String> ready = ScalingPolicy.warm(input);
        List<Sample> inWindow = input.samples().stream()
                .filter(s -> ready.contains(s.domain()) && !s.at().isBefore(from) && !s.at().isAfter(input.now()))
                .toList();
        Map<String, Double> inputs = new LinkedHashMap<>();
        inputs.put("high", high);
        inputs.put("low", low);
        inputs.put("windowSeconds", (double) window.toSeconds());
        inputs.put("samples", (double) inWindow.size());
        inWindow.stream().mapToDouble(Sample::cpu).min().ifPresent(v -> inputs.put("minCpu", v));
        inWindow.stream().mapToDouble(Sample::cpu).max().ifPresent(v -> inputs.put("maxCpu", v));
        ScaleDecision guard = ScalingPolicy.guard(NAME, input, limits, inputs);
        if (guard != null) {
            return guard;
        }
        if (restarted || joined || input.samples().stream().filter(s -> ready.contains(s.domain()))
                .noneMatch(s -> !s.at().isAfter(from.plusSeconds(1)))) {
            return ScalingPolicy.decision(ScaleAction.HOLD, current, current, NAME, "WindowNotFull",
                    "fewer than " + window.toSeconds() + " s of samples since " + (joined ? "a replica became warm"
                            : restarted ? "the last action completed" : "start"),
                    inputs);
        }
        Set<String> seen = inWindow.stream().map(Sample::domain).collect(Collectors.toSet());
        if (!seen.containsAll(ready)) {
            return ScalingPolicy.decision(ScaleAction.HOLD, current, current, NAME, "MissingSamples",
                    "no sample in the window from " + ready.stream().filter(d -> !seen.contains(d)).sorted().toList()
                            + ": a missing sample is not a zero", inputs);
        }
        if (inWindow.stream().allMatch(s -> s.cpu() > high)) {
            if (current >= limits.maxReplicas()) {
                return ScalingPolicy.decision(ScaleAction.HOLD, current, current, NAME, "AtMaxReplicas",
                        "every sample of the last " + window.toSeconds() + " s above " + high + " %, but already at the "
                                + "maximum of " + limits.maxReplicas(), inputs);
            }
            return ScalingPolicy.decision(ScaleAction.UP, current, current + 1, NAME, "AboveHighThreshold",
                    "every sample of the last " + window.toSeconds() + " s above " + high + " %", inputs);
        }
        if (inWindow.stream().allMatch(s -> s.cpu() < low)) {
            if (current <= Math.max(1, limits.minReplicas())) {
                return ScalingPolicy.decision(ScaleAction.HOLD, current, current, NAME, "AtMinReplicas",
                        "every sample of the last " + window.toSeconds() + " s below " + low + " %, but already at the "
                                + "minimum of " + Math.max(1, limits.minReplicas()), inputs);
            }
            return ScalingPolicy.decision(ScaleAction.DOWN, current, current - 1, NAME, "BelowLowThreshold",
                    "every sample of the last " + window.toSeconds() + " s below " + low + " %", inputs);
        }
        return ScalingPolicy.decision(ScaleAction.HOLD, current, current, NAME, "WithinThresholds",
                "samples between " + low + " % and " + high + " % or on both sides", inputs);
    }
}
