package io.vmscale.balancer;

import io.vmscale.broker.event.Endpoint;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/** One replica as the balancer sees it: its socket, its counts, its health. The balancer's thread only. */
final class Replica implements Dispatch.Candidate {
    final Endpoint endpoint;
    final InetSocketAddress address;
    /** Its socket, connected to it (null until the first request, and once retired). */
    DatagramChannel channel;
    /** The socket's descriptor, for batches (-1: one datagram per call). */
    int fd = -1;
    /** Requests written and not yet sent (null: one datagram per call). */
    Datagrams out;
    /** Whether it is in the transport's list of replicas with requests to send. */
    boolean queued;
    /** Request records to reuse. */
    final Deque<Slot> free = new ArrayDeque<>();
    /** Requests in flight, in the order they were sent (so the oldest first). */
    final List<Slot> busy = new ArrayList<>();
    /**
     * The answers expected to requests given up lately (timed out, refused), so that one arriving late is told from
     * a wrong one: a ring, {@code lateCount} of them, the newest at {@code lateNext - 1}.
     */
    final long[] late = new long[256];
    int lateNext;
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

    /** A late answer expected: kept among the last {@code late.length} given up. */
    void expectLate(long value) {
        late[lateNext] = value + 1; // 0: none
        lateNext = lateNext + 1 < late.length ? lateNext + 1 : 0;
    }

    /** Whether {@code value} is the answer to a request given up lately (and then no longer expected). */
    boolean takeLate(long value) {
        for (int i = 0; i < late.length; i++) {
            if (late[i] == value + 1) {
                late[i] = 0;
                return true;
            }
        }
        return false;
    }

    /** A request to the replica: in flight from send to its answer or its failure, then reused. */
    static final class Slot {
        final Replica replica;
        boolean inFlight;
        long n;
        /** Its answer, {@code 2^n mod 1021}: what an answer from the replica is matched by. */
        long expected;
        long sentAt;
        /** The outside client a front-door request came from, null for the generator's own. */
        InetSocketAddress client;
        /** Further replicas a front-door request may be tried on after a timeout. */
        int retries;
        /** A request of the calibration's own, counted apart from the real ones. */
        boolean filler;
        /** Sent again to the replica's new endpoint after a live migration: this copy no longer counts. */
        boolean moved;

        Slot(Replica replica) {
            this.replica = replica;
        }
    }
}
