package io.vmscale.broker.event;

/**
 * Where a replica is in its life, as published on {@code vmscale.vm}. The monitor says what libvirt
 * says (DEFINED, RUNNING, PAUSED, STOPPING, STOPPED, FAILED, UNDEFINED); the scaler says what a replica
 * is for (STARTING, READY, DRAINING, STOPPING, STOPPED, FAILED, and for its warm pool WARMING: booting
 * and being warmed, POOLED: prepared, paused or saved; MIGRATING: READY and being live-migrated to another
 * host, serving at its old endpoint until a READY names the new one). READY serves; MIGRATING serves
 * while nothing else can.
 */
public enum ReplicaState {
    DEFINED, STARTING, RUNNING, READY, DRAINING, STOPPING, STOPPED, FAILED, UNDEFINED, PAUSED, WARMING, POOLED,
    MIGRATING
}
