package io.vmscale.scaler.policy;

import io.vmscale.broker.event.ReplicaState;

/** A replica as the policy sees it: its name and state. */
public record ReplicaView(String domain, ReplicaState state) {

    /** Counted as capacity: serving, or on its way to serving. */
    public boolean counted() {
        return state == ReplicaState.READY || state == ReplicaState.STARTING || state == ReplicaState.RUNNING
                || state == ReplicaState.DEFINED;
    }
}
