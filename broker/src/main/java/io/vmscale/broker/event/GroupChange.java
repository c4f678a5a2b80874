package io.vmscale.broker.event;

/**
 * {@code group.change}: a group of replicas was created, changed or deleted at run time (an operator's
 * {@code group create}, {@code group change} or {@code group delete}), said by the scaler so that the monitor reads the
 * new group's domains (or no longer reads a deleted one's) and whatever carries traffic drives the new group's (drives
 * a changed one's as its spec now says, stops driving a deleted one's). Published on {@code vmscale.vm}, kept like
 * lifecycle events.
 *
 * @param group  the group's name, its {@code libvirt.prefix}
 * @param change {@code created} (its scaler runs: replicas start), {@code changed} (its scaler was started again with
 *               the new spec, its replicas taken back) or {@code deleted} (its replicas are gone, its volumes removed)
 * @param spec   the group as created or changed: its configuration element, JSON, the keys it gives over the top level
 *               (as an element of the configuration's {@code groups}); "" when deleted
 * @param reason why, in words
 */
public record GroupChange(String group, String change, String spec, String reason) implements Event {
    public static final String CREATED = "created";
    public static final String CHANGED = "changed";
    public static final String DELETED = "deleted";

    public GroupChange {
        Fields.text("group", group);
        Fields.text("change", change);
        if (!change.equals(CREATED) && !change.equals(CHANGED) && !change.equals(DELETED)) {
            throw new IllegalArgumentException("change must be " + CREATED + ", " + CHANGED + " or " + DELETED
                    + ", got " + change);
        }
        spec = spec == null ? "" : spec;
        if (!change.equals(DELETED) && spec.isBlank()) {
            throw new IllegalArgumentException("a " + change + " group's spec must not be empty");
        }
        reason = reason == null ? "" : reason;
    }
}
