package io.vmscale.broker.event;

import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;

/**
 * {@code vm.lifecycle}: a replica changed state.
 *
 * @param domain    the domain's name
 * @param host      the libvirt URI or host name
 * @param endpoint  where its service answers, or null when not known (yet)
 * @param state     the new state
 * @param reason    why, in words (a libvirt event detail, "probe answered", "scale down", ...)
 * @param warmStart a replica that came from the warm pool (booted and warmed before) or was live-migrated (the
 *                  same warm guest at a new endpoint): no slow start or warm-up needed. A log written before this
 *                  field existed has none: read as false
 */
public record VmLifecycle(String domain, String host, Endpoint endpoint, ReplicaState state, String reason,
                          @JsonSetter(nulls = Nulls.AS_EMPTY) boolean warmStart) implements Event {
    /** What the reason of a replica taken from the scaler's warm pool begins with (STARTING, READY). */
    public static final String FROM_WARM_POOL = "from the warm pool";
    /** What the reason of a READY after a live migration begins with: the same warm replica at a new endpoint. */
    public static final String MOVED = "moved from";

    public VmLifecycle {
        Fields.text("domain", domain);
        Fields.text("host", host);
        Fields.present("state", state);
        reason = reason == null ? "" : reason;
    }

    /** A change of a replica that starts cold (or of one where warmth does not apply: stops, failures). */
    public VmLifecycle(String domain, String host, Endpoint endpoint, ReplicaState state, String reason) {
        this(domain, host, endpoint, state, reason, false);
    }
}
