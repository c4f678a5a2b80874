package io.vmscale.balancer;

import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which replicas requests may go to, and the ones just taken out. A replica joins on {@code READY}
 * with its endpoint, or by an operator's {@code add}; it leaves on {@code DRAINING}, {@code STOPPING}, {@code PAUSED}, {@code POOLED},
 * {@code FAILED}, {@code STOPPED} or {@code UNDEFINED}, or by {@code remove}. Any other state (the
 * ones before serving, and any state this balancer does not know, such as a warm pool's paused or
 * saved replicas) changes nothing: only READY makes a member. A replica that left is kept, marked
 * removed, while it has requests in flight and for {@link #REMOVED_IDLE_REPORTS} stats after, then
 * forgotten. Touched by the balancer's thread only.
 */
final class Membership {
    /**
     * Stats a removed replica is still reported in, marked removed, once nothing of it is in flight:
     * the acknowledgement a drain waits for survives a lost stats message or two.
     */
    static final int REMOVED_IDLE_REPORTS = 3;

    /** What a lifecycle state does to the membership. */
    enum Change {
        JOIN, LEAVE, MIGRATE, NONE
    }

    /** READY joins; the states of a replica that stops serving leave; every other state, known or not, does nothing. */
    static Change change(ReplicaState state) {
        if (state == null) {
            return Change.NONE;
        }
        return switch (state) {
            case READY -> Change.JOIN;
            case DRAINING, STOPPING, FAILED, STOPPED, UNDEFINED, PAUSED, POOLED -> Change.LEAVE;
            case MIGRATING -> Change.MIGRATE;
            default -> Change.NONE;
        };
    }

    private final Map<Endpoint, Replica> replicas = new LinkedHashMap<>();
    /** The same replicas in the same order, walked by index on the hot path (an iterator is an object per walk). */
    private final List<Replica> order = new ArrayList<>();
    /** The endpoint each domain joined with, so that the monitor's events (domain only) can remove it. */
    private final Map<String, Endpoint> domains = new HashMap<>();
    private final OutlierDetector detector;
    private final Dispatch dispatch;
    private final int maxInFlight;
    private final SlowStart slowStart;
    private final List<Replica> candidates = new ArrayList<>();
    /** The replica being calibrated: it gets every request it has room for. */
    private Replica preferred;

    Membership(OutlierDetector detector, Dispatch dispatch, int maxInFlight, SlowStart slowStart) {
        this.detector = detector;
        this.dispatch = dispatch;
        this.maxInFlight = maxInFlight;
        this.slowStart = slowStart;
    }

    OutlierDetector detector() {
        return detector;
    }

    boolean isMember(Endpoint endpoint) {
        Replica replica = replicas.get(endpoint);
        return replica != null && !replica.removed;
    }

    /** Every replica known: the members and the removed ones still reported. */
    List<Replica> all() {
        return order;
    }

    /** Adds a replica (or takes a removed one back, its counts carried on); null when it is a member already. */
    Replica add(Endpoint endpoint, long now) {
        return add(endpoint, now, false);
    }

    /** The same; a warm one (from the scaler's warm pool) gets its full share at once, without slow start. */
    Replica add(Endpoint endpoint, long now, boolean warm) {
        Replica existing = replicas.get(endpoint);
        if (existing != null && !existing.removed) {
            return null;
        }
        Replica replica = existing != null ? existing : new Replica(endpoint);
        replica.removed = false;
        replica.idleReportsLeft = 0;
        replica.health = detector.join();
        replica.joinedAt = warm ? now - slowStart.windowNanos() : now;
        replica.rampCredit = 0;
        if (replicas.put(endpoint, replica) == null) {
            order.add(replica);
        }
        return replica;
    }

    /** Takes a member out: nothing new goes to it; null when it is not a member. */
    Replica remove(Endpoint endpoint) {
        Replica replica = replicas.get(endpoint);
        if (replica == null || replica.removed) {
            return null;
        }
        replica.removed = true;
        replica.idleReportsLeft = REMOVED_IDLE_REPORTS;
        detector.leave(replica.health);
        return replica;
    }

    /**
     * Remembers the endpoint a domain joined with; a domain that had joined with it before no longer
     * speaks for it (an endpoint reused by a later replica is not removed by its predecessor's events).
     */
    void joined(String domain, Endpoint endpoint) {
        domains.values().remove(endpoint);
        domains.put(domain, endpoint);
    }

    /** The endpoint the domain joined with, or null. */
    Endpoint endpointOf(String domain) {
        return domains.get(domain);
    }

    /** The members that joined as a domain (READY), by domain. */
    Map<String, Endpoint> domainsJoined() {
        Map<String, Endpoint> members = new LinkedHashMap<>();
        domains.forEach((domain, endpoint) -> {
            if (isMember(endpoint)) {
                members.put(domain, endpoint);
            }
        });
        return members;
    }

    /** The replica at that endpoint, member or removed, or null. */
    Replica at(Endpoint endpoint) {
        return replicas.get(endpoint);
    }

    /** Members and their order, for refresh. */
    List<Endpoint> memberEndpoints() {
        List<Endpoint> members = new ArrayList<>();
        for (Replica replica : replicas.values()) {
            if (!replica.removed) {
                members.add(replica.endpoint);
            }
        }
        return members;
    }

    /** Members requests can go to now: neither removed nor ejected (a probing one counts). */
    List<Endpoint> serving(long now) {
        List<Endpoint> serving = new ArrayList<>();
        for (Replica replica : replicas.values()) {
            if (!replica.removed && detector.state(replica.health, now) != OutlierDetector.State.EJECTED) {
                serving.add(replica.endpoint);
            }
        }
        return serving;
    }

    /** Gives the replica every request it has room for, before the dispatch policy (null: none). */
    void prefer(Replica replica) {
        preferred = replica;
    }

    /** Is the replica's slow start over? */
    boolean rampedUp(Replica replica, long now) {
        return slowStart.weight(replica.joinedAt, now) >= 1;
    }

    /** When the replica's slow start is (or was) over. */
    long rampedUpAt(Replica replica) {
        return replica.joinedAt + slowStart.windowNanos();
    }

    /** Can the replica take one more request now? */
    boolean available(Replica replica, long now) {
        return !replica.removed && detector.mayTake(replica.health, now, replica.busy.size(), maxInFlight);
    }

    /**
     * A replica for one request, other than {@code not}; null when none can take it. The dispatch
     * policy picks; a replica in slow start is taken for the fraction of the picks that fall on it
     * that its weight is of the heaviest candidate's (deterministically: that fraction is credited per
     * pick, and a pick is paid with 1); the other picks go to the rest of the candidates by the same
     * policy. Replicas at the same weight (all joined together) share evenly; the last candidate
     * left is always taken: slow start shifts a share between replicas, it never leaves a request unsent.
     * A replica being calibrated ({@link #prefer}) comes before all of this while it has room.
     */
    Replica pick(long now, Replica not) {
        if (preferred != null && preferred != not && available(preferred, now)) {
            return preferred;
        }
        candidates.clear();
        double heaviest = 0;
        for (int pass = 0; pass < 2 && candidates.isEmpty(); pass++) { // a migrating replica only when no other can
            for (int i = 0; i < order.size(); i++) {
                Replica replica = order.get(i);
                if (replica != not && (pass == 1 || !replica.migrating) && available(replica, now)) {
                    candidates.add(replica);
                    replica.weight = slowStart.weight(replica.joinedAt, now);
                    heaviest = Math.max(heaviest, replica.weight);
                }
            }
        }
        while (!candidates.isEmpty()) {
            Replica chosen = dispatch.pick(candidates);
            if (candidates.size() == 1 || chosen.weight >= heaviest) {
                return chosen;
            }
            chosen.rampCredit += chosen.weight / heaviest;
            if (chosen.rampCredit >= 1) {
                chosen.rampCredit -= 1;
                return chosen;
            }
            candidates.remove(chosen);
        }
        return null;
    }

    /**
     * Every replica's counts for {@code lb.stats}; a removed one with nothing in flight is counted
     * down and forgotten after its last report.
     */
    Map<String, LbStats.ServerStats> report(long now) {
        Map<String, LbStats.ServerStats> perReplica = new LinkedHashMap<>();
        var it = replicas.values().iterator();
        while (it.hasNext()) {
            Replica r = it.next();
            boolean ejected = !r.removed && detector.state(r.health, now) == OutlierDetector.State.EJECTED;
            perReplica.put(r.endpoint.toString(), new LbStats.ServerStats(r.sent, r.answered, r.timedOut, r.wrong,
                    r.busy.size(), ejected, r.removed, r == preferred));
            if (r.removed && r.busy.isEmpty() && --r.idleReportsLeft <= 0) {
                it.remove();
                order.remove(r); // reported removed with nothing in flight a few times, then forgotten
            }
        }
        return perReplica;
    }
}
