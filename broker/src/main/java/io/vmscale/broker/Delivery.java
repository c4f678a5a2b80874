package io.vmscale.broker;

import io.vmscale.broker.event.EventType;

/**
 * How an event travels, decided by its type and nowhere else: whether it is persistent, whether a
 * broker outage drops it or keeps it, whether the caller waits for the broker's confirmation.
 */
public enum Delivery {
    /**
     * Figures superseded at the next period ({@code cpu.sample}, {@code lb.stats}, the monitor's
     * {@code host.status} heartbeat): non-persistent, expiring; through the outbox, dropped and counted
     * while the broker is away or the outbox is full. A late one is worth less than the next one.
     */
    PERIODIC(false),
    /**
     * Facts that must arrive ({@code vm.lifecycle}, {@code scale.decision}, {@code admin.result}):
     * persistent; through the outbox, kept while the broker is away (bounded, the oldest dropped
     * first and counted) and sent in order once it is back.
     */
    KEPT(true),
    /**
     * Operators' commands ({@code admin.command}): persistent, sent on the caller's thread and
     * confirmed by the broker, so that a refusal or an absent broker is an error the operator sees at
     * once. No data path sends one.
     */
    CONFIRMED(true);

    private final boolean persistent;

    Delivery(boolean persistent) {
        this.persistent = persistent;
    }

    public boolean persistent() {
        return persistent;
    }

    /** The one rule. */
    public static Delivery of(EventType type) {
        return switch (type) {
            case CPU_SAMPLE, LB_STATS, HOST_STATUS -> PERIODIC;
            case VM_LIFECYCLE, SCALE_DECISION, ADMIN_RESULT, GROUP_CHANGE -> KEPT;
            case ADMIN_COMMAND -> CONFIRMED;
        };
    }
}
