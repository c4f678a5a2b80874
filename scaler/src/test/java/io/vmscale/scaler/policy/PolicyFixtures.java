package io.vmscale.scaler.policy;

import io.vmscale.broker.event.ReplicaState;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Builds policy inputs: replicas sampled once a second with CPU figures given in order. */
final class PolicyFixtures {
    static final Instant T0 = Instant.parse("2026-11-24T10:00:00Z");

    private PolicyFixtures() {
    }

    /** Samples at T0+0s, T0+1s, ... for one replica. */
    static List<Sample> series(String domain, double... cpu) {
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < cpu.length; i++) {
            samples.add(new Sample(domain, T0.plusSeconds(i), cpu[i]));
        }
        return samples;
    }

    static double[] constant(int seconds, double cpu) {
        double[] values = new double[seconds];
        java.util.Arrays.fill(values, cpu);
        return values;
    }

    static ReplicaView ready(String domain) {
        return new ReplicaView(domain, ReplicaState.READY);
    }

    static ReplicaView state(String domain, ReplicaState state) {
        return new ReplicaView(domain, state);
    }
}
