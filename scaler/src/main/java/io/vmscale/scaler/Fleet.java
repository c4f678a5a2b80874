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
 *   warm pool: (new) -> WARMING -> POOLED -> STARTING (taken: resumed or restored) -> READY
 *              DRAINING -> POOLED (returned on scale-in); POOLED -> STOPPING (pool trimmed)
 *              WARMING, POOLED -> FAILED
 *   many hosts: READY -> MIGRATING -> READY (at its new host and endpoint, or back where it was) | FAILED
 *              FAILED -> (forgotten) when its host cannot be reached to stop it
 * </pre>
 * Not thread-safe: the scaler's loop thread owns it.
 */
final class Fleet {
    private static final Map<ReplicaState, Set<ReplicaState>> LEGAL = Map.of(
            ReplicaState.STARTING, EnumSet.of(ReplicaState.READY, ReplicaState.FAILED),
            ReplicaState.READY, EnumSet.of(ReplicaState.DRAINING, ReplicaState.FAILED, ReplicaState.MIGRATING),
            ReplicaState.MIGRATING, EnumSet.of(ReplicaState.READY, ReplicaState.FAILED),
            ReplicaState.DRAINING, EnumSet.of(ReplicaState.STOPPING, ReplicaState.FAILED, ReplicaState.POOLED),
            ReplicaState.FAILED, EnumSet.of(ReplicaState.STOPPING),
            ReplicaState.STOPPING, EnumSet.noneOf(ReplicaState.class),
            ReplicaState.WARMING, EnumSet.of(ReplicaState.POOLED, ReplicaState.FAILED),
            ReplicaState.POOLED, EnumSet.of(ReplicaState.STARTING, ReplicaState.FAILED, ReplicaState.STOPPING));

    /**
     * One replica.
     *
     * @param host      the libvirt URI of the host it runs on
     * @param since     when it entered this state
     * @param readyAt   when it became READY, or null
     * @param cause     why it is in this state, in words
     * @param warmStart it came from the warm pool (its JIT is warm: no warm-up once READY)
     */
    record Member(String domain, String host, Endpoint endpoint, ReplicaState state, Instant since, Instant readyAt, String cause,
                  boolean warmStart) {
        /** Capacity: serving or on its way to serving. */
        boolean counted() {
            return state == ReplicaState.STARTING || state == ReplicaState.READY || state == ReplicaState.MIGRATING;
        }

        /** In the warm pool, or on its way there. */
        boolean pool() {
            return state == ReplicaState.WARMING || state == ReplicaState.POOLED;
        }
    }

    private final Map<String, Member> members = new TreeMap<>();

    /** True when the move from one state to the other is allowed. */
    static boolean legal(ReplicaState from, ReplicaState to) {
        return LEGAL.getOrDefault(from, Set.of()).contains(to);
    }

    /** A replica that was started (or found running): STARTING until it answers. */
    Member starting(String domain, String host, Endpoint endpoint, Instant now, String cause) {
        return starting(domain, host, endpoint, now, cause, false);
    }

    /** The same; {@code warm}: it has served long enough already (taken back after a restart) to need no warm-up. */
    Member starting(String domain, String host, Endpoint endpoint, Instant now, String cause, boolean warm) {
        return add(new Member(domain, host, endpoint, ReplicaState.STARTING, now, null, cause, warm));
    }

    /** A replica booted for the warm pool: WARMING until it is warmed and parked. */
    Member warming(String domain, String host, Endpoint endpoint, Instant now, String cause) {
        return add(new Member(domain, host, endpoint, ReplicaState.WARMING, now, null, cause, false));
    }

    /** A replica found parked (paused or saved) in libvirt: the warm pool's. */
    Member pooled(String domain, String host, Endpoint endpoint, Instant now, String cause) {
        return add(new Member(domain, host, endpoint, ReplicaState.POOLED, now, null, cause, false));
    }

    private Member add(Member member) {
        if (members.containsKey(member.domain())) {
            throw new IllegalStateException(member.domain() + " is already " + members.get(member.domain()).state());
        }
        members.put(member.domain(), member);
        return member;
    }

    /**
     * A replica on its way (STARTING, WARMING) whose address became known (NAT mode: its DHCP lease); null when it is
     * no longer on its way.
     */
    Member located(String domain, Endpoint endpoint) {
        Member member = members.get(domain);
        if (member == null || member.state() != ReplicaState.STARTING && member.state() != ReplicaState.WARMING) {
            return null;
        }
        Member next = new Member(domain, member.host(), endpoint, member.state(), member.since(), member.readyAt(),
                member.cause(), member.warmStart());
        members.put(domain, next);
        return next;
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
        boolean warmStart = to == ReplicaState.STARTING ? member.state() == ReplicaState.POOLED : member.warmStart();
        Member next = new Member(domain, member.host(), member.endpoint(), to, now,
                to == ReplicaState.READY ? now : to == ReplicaState.POOLED ? null : member.readyAt(), cause, warmStart);
        members.put(domain, next);
        return next;
    }

    /**
     * A MIGRATING replica READY again: at its new host and endpoint, where its samples count again after a
     * warm-up (a new QEMU process: under software emulation it translates the guest's code afresh, seconds of
     * CPU that are not load); where it was, after a failed move, as it was.
     */
    Member moved(String domain, String host, Endpoint endpoint, Instant now, String cause) {
        Member member = members.get(domain);
        if (member == null || member.state() != ReplicaState.MIGRATING) {
            throw new IllegalStateException(domain + " is " + (member == null ? "not in the fleet" : member.state())
                    + ", not MIGRATING");
        }
        boolean there = !host.equals(member.host());
        Member next = new Member(domain, host, endpoint, ReplicaState.READY, now, there ? now : member.readyAt(), cause,
                !there && member.warmStart());
        members.put(domain, next);
        return next;
    }

    /** Forgets a FAILED replica that cannot be stopped: its host does not answer. */
    Member forget(String domain) {
        Member member = members.get(domain);
        if (member == null || member.state() != ReplicaState.FAILED) {
            throw new IllegalStateException(domain + " is " + (member == null ? "not in the fleet" : member.state())
                    + ", not FAILED");
        }
        return members.remove(domain);
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

    /** True when nothing is on its way in or out of service: every replica READY or in the warm pool. */
    boolean settled() {
        return members.values().stream().allMatch(m -> m.state() == ReplicaState.READY || m.pool());
    }

    /** Replicas in the warm pool or on their way there (WARMING, POOLED). */
    List<Member> pool() {
        return members.values().stream().filter(Member::pool).toList();
    }

    /** The READY replica a scale-down takes: the newest (highest name), as the original assignment did. */
    Optional<Member> scaleDownCandidate() {
        return scaleDownCandidate("newest", Set.of(), List.of());
    }

    /**
     * The READY replica a scale-down takes by {@code terminationPolicy} (see {@link ScalerConfig}), never a protected
     * one; empty when every READY replica is protected (or none is READY).
     *
     * @param hosts the group's hosts in {@code libvirt.uris} order: consolidation empties the last one that runs any
     */
    Optional<Member> scaleDownCandidate(String terminationPolicy, Set<String> protectedReplicas, List<String> hosts) {
        return scaleDownCandidate(terminationPolicy, protectedReplicas, hosts, domain -> false);
    }

    /**
     * The same, a replica booting another image than the group's ({@code outdated}) first: AWS Auto Scaling's
     * "oldest launch template" before the termination policy.
     */
    Optional<Member> scaleDownCandidate(String terminationPolicy, Set<String> protectedReplicas, List<String> hosts,
                                        java.util.function.Predicate<String> outdated) {
        List<Member> candidates = members.values().stream() // by name: the newest last
                .filter(m -> m.state() == ReplicaState.READY && !protectedReplicas.contains(m.domain())).toList();
        List<Member> old = candidates.stream().filter(m -> outdated.test(m.domain())).toList();
        List<Member> ready = old.isEmpty() ? candidates : old;
        java.util.Comparator<Member> newest = java.util.Comparator.comparing(Member::domain);
        return switch (terminationPolicy) {
            case "oldest" -> ready.stream().min(java.util.Comparator.comparing(Member::readyAt,
                    java.util.Comparator.nullsLast(java.util.Comparator.naturalOrder())).thenComparing(Member::domain));
            case "closest-to-consolidation" -> ready.stream().max(java.util.Comparator.<Member>comparingInt(
                    m -> hosts.indexOf(m.host())).thenComparing(newest));
            default -> ready.stream().max(newest);
        };
    }

    /**
     * The replicas as a policy sees them (the warm pool's are not load and not capacity): READY ones warm
     * from {@code readyAt + warmup} after a cold boot, from {@code readyAt} when they came from the pool.
     */
    List<io.vmscale.scaler.policy.ReplicaView> views(Duration warmup) {
        return members.values().stream().filter(m -> m.state() != ReplicaState.FAILED && !m.pool())
                .map(m -> new io.vmscale.scaler.policy.ReplicaView(m.domain(),
                        m.state() == ReplicaState.MIGRATING ? ReplicaState.READY : m.state(),
                        m.readyAt() != null && (m.state() == ReplicaState.READY || m.state() == ReplicaState.MIGRATING)
                                ? m.readyAt().plus(m.warmStart() ? Duration.ZERO : warmup) : null))
                .toList();
    }

    int size() {
        return members.size();
    }
}
