package io.vmscale.broker.event;

/** Where a replica is in its life, as published on {@code vmscale.vm}. */
public enum ReplicaState {
    DEFINED, STARTING, RUNNING, READY, DRAINING, STOPPING, STOPPED, FAILED, UNDEFINED
}
