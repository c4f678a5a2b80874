package io.vmscale.scaler.policy;

import io.vmscale.broker.event.ReplicaState;
import java.time.Instant;

/**
 * A replica as the policy sees it: its name, its state and, once READY, when its samples start to
 * count (READY plus the warm-up: a new replica's boot and JIT CPU is not load).
 *
 * @param warmSince null unless READY
 */
public record ReplicaView(String domain, ReplicaState state, Instant warmSince) {

    /** A replica that is warm already when READY. */
    public ReplicaView(String domain, ReplicaState state) {
        this(domain, state, state == ReplicaState.READY ? Instant.EPOCH : null);
    }

    /** Counted as capacity: serving, or on its way to serving. */
    public boolean counted() {
        return state == ReplicaState.READY || state == ReplicaState.STARTING || state == ReplicaState.RUNNING
                || state == ReplicaState.DEFINED;
    }

    /** READY, and its samples count. */
    public boolean warm(Instant now) {
        return state == ReplicaState.READY && warmSince != null && !warmSince.isAfter(now);
    }

    /** READY, but still warming up. */
    public boolean warming(Instant now) {
        return state == ReplicaState.READY && !warm(now);
    }
}
