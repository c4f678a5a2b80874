package io.vmscale.scaler;

import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.scaler.provision.Provisioner;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one door through which the scaler speaks: its decisions (a HOLD like the last one published goes out again
 * only as a heartbeat; the last {@value #KEPT} are kept for {@code status}) and its replicas' lifecycle changes.
 * Used on the loop thread.
 */
final class DecisionLog {
    private static final Logger log = LoggerFactory.getLogger(DecisionLog.class);
    /** A HOLD like the last one published is published again only this long after it: a heartbeat, not a stream. */
    static final Duration HOLD_HEARTBEAT = Duration.ofSeconds(30);
    static final int KEPT = 20;

    private final Loop loop;
    private final Consumer<Event> publish;
    /** The host a replica of unknown host is announced on. */
    private final String host;
    private final Deque<Map<String, Object>> kept = new ArrayDeque<>();
    private ScaleDecision lastPublished;
    private Instant lastPublishedAt;

    DecisionLog(Loop loop, Consumer<Event> publish, String host) {
        this.loop = loop;
        this.publish = publish;
        this.host = host;
    }

    /** A decision of the reconciler's own (REPLACE, ActionFailed, ForeignDomain, ...). */
    void say(ScaleAction action, String code, String reason, String domain) {
        int current = loop.fleet.counted();
        int to = action == ScaleAction.REPLACE ? current + 1 : current;
        publish(new ScaleDecision(action, current, to, ScaleDecision.RECONCILER, code,
                reason + (action == ScaleAction.REPLACE ? poolNote() : ""), Map.of(), domain));
    }

    void announce(Fleet.Member replica, ReplicaState state, String reason) {
        announce(replica, state, reason, false);
    }

    /** @param warmStart the replica comes back warm (from the warm pool, or live-migrated): no slow start */
    void announce(Fleet.Member replica, ReplicaState state, String reason, boolean warmStart) {
        publish(new VmLifecycle(replica.domain(), replica.host() == null ? host : replica.host(), replica.endpoint(),
                state, reason, warmStart));
    }

    /** Where the next replica comes from, for a decision's reason: nothing without a warm pool. */
    String poolNote() {
        if (loop.config.warmPool().size() == 0) {
            return "";
        }
        return loop.parked().map(m -> "; " + VmLifecycle.FROM_WARM_POOL + ": " + m.domain() + " ("
                        + Provisioner.Tier.of(loop.power(m.domain())).word() + ")")
                .orElse("; cold boot: the warm pool is empty");
    }

    static ScaleDecision withNote(ScaleDecision d, String note) {
        return new ScaleDecision(d.action(), d.fromReplicas(), d.toReplicas(), d.policy(), d.reasonCode(),
                d.reason() + note, d.inputs(), d.domain());
    }

    void publish(Event event) {
        if (event instanceof ScaleDecision said && !loop.settings.group().isEmpty()) {
            event = said.forGroup(loop.settings.group());
        }
        if (event instanceof ScaleDecision decision) {
            Instant now = loop.now();
            if (repeats(decision) && Duration.between(lastPublishedAt, now).compareTo(HOLD_HEARTBEAT) < 0) {
                return; // the same HOLD as the last decision: said already
            }
            lastPublished = decision;
            lastPublishedAt = now;
            keep(decision, now);
        }
        try {
            publish.accept(event);
        } catch (RuntimeException e) {
            log.warn("scaler: could not publish {}: {}", event.type(), e.getMessage());
        }
    }

    /** The last decisions published, oldest first, a run of like HOLDs once. */
    List<Map<String, Object>> recent() {
        return new ArrayList<>(kept);
    }

    private void keep(ScaleDecision decision, Instant now) {
        if (decision.action() == ScaleAction.HOLD && !kept.isEmpty()
                && kept.peekLast().get("reasonCode").equals(decision.reasonCode())) {
            return; // a run of like holds is remembered once
        }
        Map<String, Object> remembered = new LinkedHashMap<>();
        remembered.put("at", now.toString());
        remembered.put("action", decision.action().name());
        remembered.put("fromReplicas", decision.fromReplicas());
        remembered.put("toReplicas", decision.toReplicas());
        remembered.put("policy", decision.policy());
        remembered.put("reasonCode", decision.reasonCode());
        remembered.put("reason", decision.reason());
        remembered.put("domain", decision.domain());
        kept.addLast(remembered);
        while (kept.size() > KEPT) {
            kept.pollFirst();
        }
    }

    /** A HOLD with the code and counts of the last decision published (its sentence may differ: "3 s ago"). */
    private boolean repeats(ScaleDecision decision) {
        return decision.action() == ScaleAction.HOLD && lastPublished != null
                && lastPublished.action() == ScaleAction.HOLD && lastPublished.reasonCode().equals(decision.reasonCode())
                && lastPublished.fromReplicas() == decision.fromReplicas()
                && lastPublished.toReplicas() == decision.toReplicas();
    }
}
