package io.vmscale.scaler;

import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.scaler.policy.PolicyInput;
import io.vmscale.scaler.policy.ReplicaView;
import io.vmscale.scaler.policy.Sample;
import io.vmscale.scaler.policy.ScalingPolicy;
import io.vmscale.scaler.provision.Hypervisor;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one decision step, shared by the live scaler and {@link Simulation} so that they cannot drift:
 * the policy sees only warm replicas' samples (a replica's samples count from {@code warmup} after it
 * became READY: boot and JIT CPU is not load), scale-in waits while a replica warms up, and a
 * scale-out that would run more vCPUs than the host has cores (times {@code maxVcpusPerCore}) is held.
 * Pure: no clock, no I/O.
 *
 * @param maxVcpusPerCore 0 turns the host guard off
 */
record Decider(ScalingPolicy policy, Duration warmup, double maxVcpusPerCore) {

    /**
     * What the host runs, for the saturation guard.
     *
     * @param replicaVcpus the vCPUs one more replica would add
     */
    record HostView(String uri, Hypervisor.Host host, int replicaVcpus) {
    }

    Decider withPolicy(ScalingPolicy next) {
        return new Decider(next, warmup, maxVcpusPerCore);
    }

    /**
     * @param replicas the replicas with {@code warmSince} already set (see {@link Fleet#views})
     * @param samples  every recent sample of the replicas, warm or not
     * @param host     the host's figures, or null when not known (a simulation)
     */
    ScaleDecision decide(List<ReplicaView> replicas, List<Sample> samples, Instant now, Instant lastAction,
                         List<PolicyInput.Recommendation> recommendations, HostView host) {
        Map<String, Instant> warmSince = new LinkedHashMap<>();
        replicas.stream().filter(r -> r.warm(now)).forEach(r -> warmSince.put(r.domain(), r.warmSince()));
        List<Sample> counted = samples.stream()
                .filter(s -> warmSince.containsKey(s.domain()) && !s.at().isBefore(warmSince.get(s.domain())))
                .toList();
        PolicyInput input = new PolicyInput(counted, replicas, now, lastAction, recommendations);
        ScaleDecision decision = ScalingPolicy.blockScaleInWhileWarming(policy.decide(input), input);
        return saturated(decision, host);
    }

    private ScaleDecision saturated(ScaleDecision decision, HostView view) {
        if (decision.action() != ScaleAction.UP || view == null || view.host() == null || maxVcpusPerCore <= 0
                || decision.reasonCode().equals("BelowMinReplicas")) {
            return decision;
        }
        Hypervisor.Host host = view.host();
        double allowed = host.cpus() * maxVcpusPerCore;
        int after = host.activeVcpus() + view.replicaVcpus();
        if (after <= allowed + 1e-9) {
            return decision;
        }
        Map<String, Double> inputs = new LinkedHashMap<>(decision.inputs());
        inputs.put("hostCpus", (double) host.cpus());
        inputs.put("hostActiveVcpus", (double) host.activeVcpus());
        inputs.put("maxVcpusPerCore", maxVcpusPerCore);
        return new ScaleDecision(ScaleAction.HOLD, decision.fromReplicas(), decision.fromReplicas(), decision.policy(),
                "HostSaturated", decision.reason() + ", but " + view.uri() + " runs " + host.activeVcpus()
                + " vCPU(s) on " + host.cpus() + " CPU(s): one more replica would make " + after + ", above "
                + String.format(java.util.Locale.ROOT, "%.1f", allowed) + " (scaler.maxVcpusPerCore "
                + maxVcpusPerCore + ")", inputs, null);
    }
}
