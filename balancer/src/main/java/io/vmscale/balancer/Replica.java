package io.vmscale.balancer;

import io.vmscale.broker.event.Endpoint;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/** One replica as the balancer sees it: its sockets, its counts, its health. The balancer's thread only. */
final class Replica implements Dispatch.Candidate {
    final Endpoint endpoint;
    final InetSocketAddress address;
    /** Sockets with nothing in flight, the most recently used first. */
    final Deque<Slot> idle = new ArrayDeque<>();
    /** Sockets with a request in flight, in the order they were sent (so the oldest first). */
    final List<Slot> busy = new ArrayList<>();
    long sent;
    long answered;
    long timedOut;
    long wrong;
    /** Correct answers to the calibration's own requests (not in {@link #answered}). */
    long filled;
    OutlierDetector.Health health;
    /** When it (last) joined, for slow start. */
    long joinedAt;
    /** Slow start: its weight (0.1..1) as of the last pick it was a candidate in. */
    double weight = 1;
    /** Slow start: picks it was taken for are paid from this, credited its relative weight per pick. */
    double rampCredit;
    /** Being live-migrated: sent a request only when no other member can take it. */
    boolean migrating;
    /**
     * Requests that went unanswered while it was being migrated (its QEMU stopped for the switch-over), kept to be
     * sent again where it answers next; at most {@link Traffic#MAX_HELD}.
     */
    final List<Held> held = new ArrayList<>();

    /** A request held for a migrating replica. */
    record Held(long n, InetSocketAddress client, int retries) {
    }
    /** Out of the membership: sent nothing new, reported with its requests in flight until retired. */
    boolean removed;
    /** Stats it will still be reported in once removed with nothing in flight; then forgotten. */
    int idleReportsLeft;

    Replica(Endpoint endpoint) {
        this.endpoint = endpoint;
        this.address = new InetSocketAddress(endpoint.ip(), endpoint.port());
    }

    @Override
    public int inFlight() {
        return busy.size();
    }

    @Override
    public String toString() {
        return endpoint.toString();
    }

    /** A socket connected to one replica, with at most one request in flight. */
    static final class Slot {
        final Replica replica;
        final DatagramChannel channel;
        boolean inFlight;
        long n;
        long sentAt;
        /** The outside client a front-door request came from, null for the generator's own. */
        InetSocketAddress client;
        /** Further replicas a front-door request may be tried on after a timeout. */
        int retries;
        /** A request of the calibration's own, counted apart from the real ones. */
        boolean filler;
        /** Sent again to the replica's new endpoint after a live migration: this copy no longer counts. */
        boolean moved;

        Slot(Replica replica, DatagramChannel channel) {
            this.replica = replica;
            this.channel = channel;
        }
    }
}
