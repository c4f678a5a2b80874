package io.vmscale.libvirt;

/** A domain's state as libvirt reports it (virDomainState). */
public enum DomainState {
    NOSTATE, RUNNING, BLOCKED, PAUSED, SHUTDOWN, SHUTOFF, CRASHED, PMSUSPENDED;

    public static DomainState of(int code) {
        DomainState[] all = values();
        return code >= 0 && code < all.length ? all[code] : NOSTATE;
    }

    /** True while the domain has a QEMU process and so consumes CPU time. */
    public boolean active() {
        return this == RUNNING || this == BLOCKED || this == PAUSED || this == SHUTDOWN || this == PMSUSPENDED;
    }
}
