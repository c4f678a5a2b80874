package io.vmscale.balancer;

import io.vmscale.guest.Wire;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The balancer's UDP: one selector, and for each replica a pool of sockets connected to it with one
 * request in flight each, so that an answer is matched to its request by the socket it arrives on.
 * A socket whose request failed is closed: a late answer then finds no socket and cannot be taken
 * for the next request. A readable socket gives one datagram per readiness, and the selector, being
 * level-triggered, reports it again while anything is left: a datagram on a socket with nothing in
 * flight, or a second one after the answer, is read, counted as stray and dropped, so nothing is left
 * unread to spin on. Touched by the balancer's thread only.
 */
final class Transport implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Transport.class);

    /** What happens to requests; called on the balancer's thread, never from inside {@link #send}. */
    interface Receiver {
        /** The first datagram back for the slot's request: {@code length} bytes, the first eight as {@code value}. */
        void answered(Replica.Slot slot, int length, long value, long now);

        /** The slot's request will get no answer (refused, an I/O error, or timed out); its socket is closed. */
        void failed(Replica.Slot slot, long now);
    }

    /** Something else registered on the selector (the front door). */
    interface Readable {
        void readable(long now);
    }

    private final Selector selector;
    private final Receiver receiver;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(64);
    /** One request at a time, direct: a heap buffer is copied into a temporary direct one on every send. */
    private final ByteBuffer request = ByteBuffer.allocateDirect(Wire.REQUEST_BYTES);
    private final List<Replica.Slot> refused = new ArrayList<>();
    private long stray;
    private final Consumer<SelectionKey> onReady = this::ready;
    /** The clock of the select in progress, and when its first datagram was ready (0: none yet). */
    private LongSupplier clock;
    private long readyAt;

    Transport(Receiver receiver) throws IOException {
        this.selector = Selector.open();
        this.receiver = receiver;
    }

    /**
     * A datagram socket of the address's own family: an IPv4 socket for an IPv4 address. A dual-stack IPv6
     * socket (what {@code DatagramChannel.open()} gives) sends to an IPv4 address as a v4-mapped one, and
     * Linux then passes the address with every send, connected or not: a route lookup per datagram.
     */
    static DatagramChannel open(InetSocketAddress address) throws IOException {
        return DatagramChannel.open(address.getAddress() instanceof Inet4Address ? StandardProtocolFamily.INET
                : StandardProtocolFamily.INET6);
    }

    /** Registers a channel whose readiness is handed to {@code readable}. */
    void register(DatagramChannel channel, Readable readable) throws IOException {
        channel.configureBlocking(false);
        channel.register(selector, SelectionKey.OP_READ, readable);
    }

    /** Wakes a {@link #select} in progress. */
    void wakeup() {
        selector.wakeup();
    }

    /** Datagrams that arrived with nothing in flight to match them, since start. */
    long stray() {
        return stray;
    }

    /**
     * Sends request {@code n} to the replica on an idle socket (or a new one).
     *
     * @return the slot, in flight; null when it could not be sent (an I/O error, logged)
     */
    Replica.Slot send(Replica replica, long n, long now) {
        Replica.Slot slot = replica.idle.poll();
        try {
            if (slot == null) {
                DatagramChannel channel = open(replica.address);
                try {
                    channel.configureBlocking(false);
                    channel.connect(replica.address);
                    slot = new Replica.Slot(replica, channel);
                    channel.register(selector, SelectionKey.OP_READ, slot);
                } catch (IOException e) {
                    channel.close();
                    throw e;
                }
            }
            slot.n = n;
            slot.sentAt = now;
            slot.inFlight = true;
            replica.busy.add(slot);
            try {
                slot.channel.write(Wire.putRequest(request.clear(), n).flip());
            } catch (PortUnreachableException e) {
                refused.add(slot); // nobody listens there: it fails at the next turn rather than at its timeout
            }
            return slot;
        } catch (IOException e) {
            log.warn("balancer: cannot send to {}: {}", replica.endpoint, e.toString());
            if (slot != null) {
                if (slot.inFlight) {
                    slot.inFlight = false;
                    replica.busy.remove(slot);
                }
                close(slot);
            }
            return null;
        }
    }

    /** Waits up to {@code millis} for datagrams and hands each to the receiver or the readable it belongs to. */
    void select(long millis, LongSupplier clock) throws IOException {
        if (!refused.isEmpty()) {
            failRefused(clock.getAsLong());
        }
        this.clock = clock;
        readyAt = 0;
        selector.select(onReady, millis); // no selected-key set to fill and clear, nothing allocated per turn
        if (!refused.isEmpty()) {
            failRefused(readyAt == 0 ? clock.getAsLong() : readyAt);
        }
    }

    private void ready(SelectionKey key) {
        if (readyAt == 0) {
            readyAt = clock.getAsLong();
        }
        if (!key.isValid()) {
            return;
        }
        if (key.attachment() instanceof Replica.Slot slot) {
            read(slot, readyAt);
        } else {
            ((Readable) key.attachment()).readable(readyAt);
        }
    }

    private void failRefused(long now) {
        if (refused.isEmpty()) {
            return;
        }
        List<Replica.Slot> failing = new ArrayList<>(refused);
        refused.clear();
        for (Replica.Slot slot : failing) {
            if (slot.inFlight) {
                fail(slot, now);
            }
        }
    }

    /**
     * Reads one datagram: the answer to the socket's request, or a stray one (nothing in flight) that
     * is counted and dropped. Either way it is consumed, so a level-triggered selector reports the
     * socket again only while something is left: it cannot spin on a datagram nobody reads. One read
     * per readiness, not a drain: an empty read costs a system call per answer.
     */
    private void read(Replica.Slot slot, long now) {
        int length;
        try {
            length = slot.channel.read(buffer.clear());
        } catch (IOException e) { // PortUnreachableException above all: ICMP said nobody listens
            if (slot.inFlight) {
                fail(slot, now);
            } else {
                discard(slot);
            }
            return;
        }
        if (length <= 0) {
            return; // nothing (or an empty datagram, consumed)
        }
        if (!slot.inFlight) {
            stray++;
            return;
        }
        long value = length >= Long.BYTES ? buffer.getLong(0) : -1;
        Replica replica = slot.replica;
        slot.inFlight = false;
        replica.busy.remove(slot);
        replica.idle.push(slot);
        receiver.answered(slot, length, value, now);
    }

    /** Fails every request in flight for longer than {@code timeoutNanos}. */
    void expire(Iterable<Replica> replicas, long now, long timeoutNanos) {
        List<Replica.Slot> expired = new ArrayList<>();
        for (Replica replica : replicas) {
            for (Replica.Slot slot : replica.busy) {
                if (now - slot.sentAt <= timeoutNanos) {
                    break; // sent in order: the rest are younger
                }
                expired.add(slot);
            }
        }
        for (Replica.Slot slot : expired) {
            if (slot.inFlight) {
                fail(slot, now);
            }
        }
    }

    /** The slot's request will get no answer: its socket is closed and the receiver told. */
    void fail(Replica.Slot slot, long now) {
        slot.inFlight = false;
        slot.replica.busy.remove(slot);
        close(slot);
        receiver.failed(slot, now);
    }

    /** An idle socket that reported an error: closed and out of its pool. */
    private void discard(Replica.Slot slot) {
        slot.replica.idle.remove(slot);
        close(slot);
    }

    /** Closes the sockets of a replica with nothing in flight. */
    void closeIdle(Replica replica) {
        for (Replica.Slot slot : replica.idle) {
            close(slot);
        }
        replica.idle.clear();
    }

    void close(Replica.Slot slot) {
        try {
            slot.channel.close(); // a late answer now finds no socket: it cannot be taken for the next one
        } catch (IOException e) {
            log.debug("close: {}", e.toString());
        }
    }

    @Override
    public void close() {
        for (SelectionKey key : selector.keys()) {
            try {
                key.channel().close();
            } catch (IOException e) {
                log.debug("close: {}", e.toString());
            }
        }
        try {
            selector.close();
        } catch (IOException e) {
            log.debug("selector close: {}", e.toString());
        }
    }
}
