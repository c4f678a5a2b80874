package io.vmscale.broker.event;

/** The body of an event: one immutable record per event type. */
public sealed interface Event permits CpuSample, VmLifecycle, ScaleDecision, AdminCommand, AdminResult, LbStats,
        HostStatus, GroupChange {

    /** The wire name of this event's type, such as {@code cpu.sample}. */
    default EventType type() {
        return EventType.of(getClass());
    }
}
