package io.vmscale.balancer;

import io.vmscale.guest.Wire;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The request path: the generator's requests and the front door's go to the replica the membership
 * picks, through the transport; answers are checked ({@code 2^n mod 1021}) and counted, a client's
 * answer goes back through the front door; a request that gets none is counted, tried once more on
 * another replica for a client, and told to the outlier detector. Touched by the balancer's thread only.
 */
final class Traffic implements Transport.Receiver {
    private static final Logger log = LoggerFactory.getLogger(Traffic.class);
    /** Requests held for one migrating replica at most; beyond, a timeout counts as usual. */
    static final int MAX_HELD = 10_000;

    /** 2 has order 340 modulo 1021: {@code 2^n mod 1021} is {@code 2^(n mod 340)}. */
    private static final int ORDER = 340;
    private static final long[] POWERS = new long[ORDER];

    static {
        for (int i = 0; i < ORDER; i++) {
            POWERS[i] = Wire.expected(i);
        }
        if (Wire.expected(ORDER) != 1) {
            throw new AssertionError("2^" + ORDER + " mod " + Wire.MODULUS + " is not 1");
        }
    }

    private final Membership membership;
    private final Stats stats;
    private final long work;
    private final int ejectAfter;
    private Transport transport;
    private FrontDoor front;

    Traffic(Membership membership, Stats stats, long work, int ejectAfter) {
        this.membership = membership;
        this.stats = stats;
        this.work = work;
        this.ejectAfter = ejectAfter;
    }

    /** The transport and the front door (null for none), which are built with this as their receiver. */
    void connect(Transport transport, FrontDoor front) {
        this.transport = transport;
        this.front = front;
    }

    /** Sends {@code due} generated requests; what no replica can take is counted unsent, never queued. */
    void offer(long due, long now) {
        for (long i = 0; i < due; i++) {
            Replica replica = membership.pick(now, null);
            if (replica == null) {
                stats.unsent += due - i;
                return;
            }
            if (!send(replica, work, null, 0, now)) {
                stats.unsent++;
            }
        }
    }

    /** A front-door request: to a replica, with one retry on another; false when none can take it. */
    boolean forward(long n, InetSocketAddress client, long now) {
        Replica replica = membership.pick(now, null);
        return replica != null && send(replica, n, client, 1, now);
    }

    /** A calibration request of {@code work} to the replica, counted apart; false when it has no room. */
    boolean fill(Replica replica, long now) {
        Replica.Slot slot = membership.available(replica, now) ? transport.send(replica, work, now) : null;
        if (slot == null) {
            return false;
        }
        slot.client = null;
        slot.retries = 0;
        slot.filler = true;
        slot.moved = false;
        return true;
    }

    /**
     * A replica live-migrated to a new endpoint: its requests still in flight at the old one (sent during the
     * switch-over, when the old QEMU had stopped) are sent again to the new one, which answers them; the old
     * copies no longer count, answered or not. Returns how many were sent again.
     */
    int moveInFlight(Replica from, Replica to, long now) {
        int moved = sendHeld(from, to, now);
        for (Replica.Slot slot : java.util.List.copyOf(from.busy)) {
            if (slot.filler || slot.moved) {
                continue;
            }
            Replica.Slot copy = transport.send(to, slot.n, now);
            if (copy == null) {
                continue; // no room there: it is left to answer or time out where it was
            }
            copy.client = slot.client;
            copy.retries = slot.retries;
            copy.filler = false;
            copy.moved = false;
            to.sent++;
            from.sent--;
            slot.moved = true;
            slot.client = null;
            moved++;
        }
        return moved;
    }

    /**
     * Sends the requests held for a migrating replica to where it answers now (its new endpoint, or its old one
     * when the migration failed); what finds no room there counts as timed out. Returns how many were sent.
     */
    int sendHeld(Replica from, Replica to, long now) {
        int sent = 0;
        for (Replica.Held held : from.held) {
            Replica.Slot copy = transport.send(to, held.n(), now);
            if (copy == null) {
                lost(held);
                continue;
            }
            copy.client = held.client();
            copy.retries = held.retries();
            copy.filler = false;
            copy.moved = false;
            to.sent++;
            sent++;
        }
        from.sent -= sent;
        from.held.clear();
        return sent;
    }

    /** A replica that left while requests were held for it: they count as timed out. */
    void dropHeld(Replica replica) {
        replica.held.forEach(this::lost);
        replica.held.clear();
    }

    private void lost(Replica.Held held) {
        stats.timedOut++;
        if (held.client() != null) {
            front.dropped();
        }
    }

    private boolean send(Replica replica, long n, InetSocketAddress client, int retries, long now) {
        Replica.Slot slot = transport.send(replica, n, now);
        if (slot == null) {
            return false;
        }
        slot.client = client;
        slot.retries = retries;
        slot.filler = false;
        slot.moved = false;
        replica.sent++;
        stats.sent++;
        return true;
    }

    @Override
    public void answered(Replica.Slot slot, int length, long value, long now) {
        Replica replica = slot.replica;
        InetSocketAddress client = slot.client;
        slot.client = null;
        if (slot.moved) {
            retireIfDone(replica); // its copy at the new endpoint is the one that counts
            return;
        }
        boolean correct = length == Wire.REPLY_BYTES && value == expected(slot.n);
        if (correct && slot.filler) {
            replica.filled++;
        } else if (correct) {
            replica.answered++;
            stats.answered(now - slot.sentAt);
            if (client != null) {
                front.answer(client, value);
            }
        } else {
            replica.wrong++;
            stats.wrong++;
            if (client != null) {
                front.dropped(); // a wrong answer is not passed on
            }
        }
        if (membership.detector().onAnswer(replica.health)) {
            log.info("balancer: {} answered its probe, back in", replica.endpoint);
        }
        retireIfDone(replica);
    }

    @Override
    public void failed(Replica.Slot slot, long now) {
        Replica replica = slot.replica;
        if (slot.moved) {
            retireIfDone(replica);
            return;
        }
        if (replica.migrating && !slot.filler && replica.held.size() < MAX_HELD) {
            // its QEMU stopped for the switch-over: kept for where it answers next, not a timeout, not an outlier
            replica.held.add(new Replica.Held(slot.n, slot.client, slot.retries));
            slot.client = null;
            return;
        }
        replica.timedOut++;
        if (!slot.filler) {
            stats.timedOut++;
        }
        if (!replica.removed) {
            OutlierDetector.Outcome outcome = membership.detector().onTimeout(replica.health, now);
            switch (outcome) {
                case EJECTED, PROBE_FAILED -> log.warn("balancer: {} ejected for {} ms ({})", replica.endpoint,
                        replica.health.lastPeriod() / 1_000_000, outcome == OutlierDetector.Outcome.PROBE_FAILED
                                ? "its probe failed" : ejectAfter + " timeouts in a row");
                case HELD_BY_MAX_EJECTED -> log.warn("balancer: {} not ejected after {} timeouts in a row: {} of {} "
                        + "replicas ejected already, the most allowed", replica.endpoint, ejectAfter,
                        membership.detector().ejectedCount(), membership.memberEndpoints().size());
                default -> {
                    // counted
                }
            }
        }
        if (slot.client != null) {
            Replica other = slot.retries > 0 ? membership.pick(now, replica) : null;
            if (other != null && send(other, slot.n, slot.client, slot.retries - 1, now)) {
                front.retried();
            } else {
                front.dropped();
            }
            slot.client = null;
        }
        retireIfDone(replica);
    }

    /** {@code 2^n mod 1021}, the answer to request n: a table look-up (a square-and-multiply is ~18 divisions). */
    static long expected(long n) {
        return POWERS[(int) (n % ORDER)];
    }

    /** A removed replica with nothing in flight: its socket is closed. */
    void retireIfDone(Replica replica) {
        if (replica.removed && replica.busy.isEmpty()) {
            transport.retire(replica);
        }
    }
}
