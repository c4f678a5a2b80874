package io.vmscale.monitor;

import io.vmscale.broker.event.ReplicaState;
import io.vmscale.libvirt.DomainLifecycle;
import io.vmscale.libvirt.DomainState;
import java.util.Locale;

/** What a libvirt lifecycle callback means for a replica. Pure. */
final class LifecycleStates {
    private LifecycleStates() {
    }

    static ReplicaState state(DomainLifecycle event) {
        return switch (event.event()) {
            case "DEFINED" -> ReplicaState.DEFINED;
            case "UNDEFINED" -> ReplicaState.UNDEFINED;
            case "STARTED", "RESUMED" -> ReplicaState.RUNNING;
            case "SHUTDOWN" -> ReplicaState.STOPPING; // the guest began shutting down
            case "STOPPED" -> switch (event.detail()) {
                case "CRASHED", "FAILED" -> ReplicaState.FAILED;
                default -> ReplicaState.STOPPED; // SHUTDOWN, DESTROYED, MIGRATED, SAVED, FROM_SNAPSHOT
            };
            // paused: a warm pool's replica, or one an operator paused; either way it serves nobody
            case "SUSPENDED" -> ReplicaState.PAUSED;
            // a guest that suspended or crashed itself serves nobody: out of the balancer until it runs again
            case "PMSUSPENDED", "CRASHED" -> ReplicaState.FAILED;
            default -> null; // UNKNOWN: nothing to say
        };
    }

    /**
     * What a domain found in a listing (at start, after a reconnection) means for a replica: the
     * state its last lifecycle callback would have given, had we heard it.
     */
    static ReplicaState listed(DomainState state) {
        return switch (state) {
            case RUNNING, BLOCKED -> ReplicaState.RUNNING;
            case SHUTDOWN -> ReplicaState.STOPPING; // the guest is shutting down
            case PAUSED -> ReplicaState.PAUSED; // as SUSPENDED
            case PMSUSPENDED, CRASHED -> ReplicaState.FAILED; // as PMSUSPENDED, CRASHED
            case SHUTOFF, NOSTATE -> ReplicaState.STOPPED;
        };
    }

    /** libvirt's words, made readable: "stopped: destroyed". */
    static String reason(DomainLifecycle event) {
        String what = event.event().toLowerCase(Locale.ROOT);
        String detail = event.detail().toLowerCase(Locale.ROOT).replace('_', ' ');
        return detail.isEmpty() ? what : what + ": " + detail;
    }
}
