package io.vmscale.monitor;

import io.vmscale.broker.event.ReplicaState;
import io.vmscale.monitor.libvirt.DomainLifecycle;
import io.vmscale.monitor.libvirt.DomainState;
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
            // a paused or crashed guest serves nobody: out of the balancer until it runs again
            case "SUSPENDED", "PMSUSPENDED", "CRASHED" -> ReplicaState.FAILED;
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
            case PAUSED, PMSUSPENDED, CRASHED -> ReplicaState.FAILED; // as SUSPENDED, PMSUSPENDED, CRASHED
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
