package io.vmscale.scaler;

import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.ReplicaState;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The replicas the scaler is responsible for and where each is in its life: a pure state machine
 * with the legal transitions written down once. Nothing here talks to libvirt or the broker; the
 * scaler rebuilds it from what libvirt says exists whenever it is lost.
 *
 * <pre>
 *   (new) -> STARTING -> READY -> DRAINING -> STOPPING -> (gone)
 *   STARTING, READY, DRAINING -> FAILED -> STOPPING -> (gone)
 * </pre>
 * Not thread-safe: the scaler's loop thread owns it.
 */
final class Fleet {
    private static final Map<ReplicaState, Set<ReplicaState>> LEGAL = Map.of(
            ReplicaState.STARTING, EnumSet.of(ReplicaState.READY, ReplicaState.FAILED),
            ReplicaState.READY, EnumSet.of(ReplicaState.DRAINING, ReplicaState.FAILED),
            ReplicaState.DRAINING, EnumSet.of(ReplicaState.STOPPING, ReplicaState.FAILED),
            ReplicaState.FAILED, EnumSet.of(ReplicaState.STOPPING),
            ReplicaState.STOPPING, EnumSet.noneOf(ReplicaState.class));

    /**
     * One replica.
     *
     * @param since   when it entered this state
     * @param readyAt when it became READY, or null
     * @param cause   why it is in this state, in words
     */
    record Member(String domain, Endpoint endpoint, ReplicaState state, Instant since, Instant readyAt, String cause) {
        /** Capacity: serving or on its way to serving. */
        boolean counted() {
            return state == ReplicaState.STARTING || state == ReplicaState.READY;
        }
    }

    private final Map<String, Member> members = new TreeMap<>();

    /** True when the move from one state to the other is allowed. */
    static boolean legal(ReplicaState from, ReplicaState to) {
        return LEGAL.getOrDefault(from, Set.of()).contains(to);
    }

    /** A replica that was started (or found running): STARTING until it answers. */
    Member starting(String domain, Endpoint endpoint, Instant now, String cause) {
        if (members.containsKey(domain)) {
            throw new IllegalStateException(domain + " is already " + members.get(domain).state());
        }
        Member member = new Member(domain, endpoint, ReplicaState.STARTING, now, null, cause);
        members.put(domain, member);
        return member;
    }

    /** Moves a replica to the next state; an illegal move throws and changes nothing. */
    Member move(String domain, ReplicaState to, Instant now, String cause) {
        Member member = members.get(domain);
        if (member == null) {
            throw new IllegalStateException(domain + " is not in the fleet");
        }
        if (!legal(member.state(), to)) {
            throw new IllegalStateException(domain + ": " + member.state() + " -> " + to + " is not a legal move");
        }
        Member next = new Member(domain, member.endpoint(), to, now,
                to == ReplicaState.READY ? now : member.readyAt(), cause);
        members.put(domain, next);
        return next;
    }

    /** Forgets a replica that is stopped: only from STOPPING. */
    Member gone(String domain) {
        Member member = members.get(domain);
        if (member == null || member.state() != ReplicaState.STOPPING) {
            throw new IllegalStateException(domain + " is " + (member == null ? "not in the fleet" : member.state())
                    + ", not STOPPING");
        }
        return members.remove(domain);
    }

    Optional<Member> get(String domain) {
        return Optional.ofNullable(members.get(domain));
    }

    boolean contains(String domain) {
        return members.containsKey(domain);
    }

    Collection<Member> all() {
        return List.copyOf(members.values());
    }

    List<Member> in(ReplicaState state) {
        List<Member> list = new ArrayList<>();
        members.values().stream().filter(m -> m.state() == state).forEach(list::add);
        return list;
    }

    /** Replicas counted as capacity: STARTING and READY. */
    int counted() {
        return (int) members.values().stream().filter(Member::counted).count();
    }

    /** True when nothing is on its way in or out: every replica READY. */
    boolean settled() {
        return members.values().stream().allMatch(m -> m.state() == ReplicaState.READY);
    }

    /** The READY replica a scale-down takes: the newest (highest name), as the original assignment did. */
    Optional<Member> scaleDownCandidate() {
        return members.values().stream().filter(m -> m.state() == ReplicaState.READY)
                .reduce((a, b) -> b);
    }

    /** The replicas as a policy sees them: READY ones warm from {@code readyAt + warmup}. */
    List<io.vmscale.scaler.policy.ReplicaView> views(Duration warmup) {
        return members.values().stream().filter(m -> m.state() != ReplicaState.FAILED)
                .map(m -> new io.vmscale.scaler.policy.ReplicaView(m.domain(), m.state(),
                        m.state() == ReplicaState.READY ? m.readyAt().plus(warmup) : null))
                .toList();
    }

    int size() {
        return members.size();
    }
}
