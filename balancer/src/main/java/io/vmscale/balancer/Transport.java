package io.vmscale.balancer;

import io.vmscale.guest.Wire;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.StandardSocketOptions;
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
 * The balancer's UDP: one selector, and for each replica one socket connected to it. An answer is
 * matched to a request in flight to that replica by its value ({@code 2^n mod 1021}, the oldest such
 * request first): any request it matches gets the right answer, whichever it was sent for. A datagram
 * with nothing in flight is counted as stray and dropped; one that matches nothing in flight but a
 * request given up lately (timed out, refused) is late, and counted as stray too; any other is a
 * wrong answer, taken as the oldest request's. Every datagram is read, so a level-triggered selector
 * cannot spin on one nobody reads.
 *
 * <p>Where the JDK lets us ({@link Datagrams#available}), requests are written into a batch per
 * replica and sent in one system call before the next select, and answers are read up to
 * {@link #BATCH} at a time: under load a select turn carries many requests, and the replicas and the
 * clients are woken once for many. Elsewhere it is one datagram per call. Touched by the balancer's
 * thread only.
 */
final class Transport implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Transport.class);
    /** Datagrams per system call at most. */
    static final int BATCH = 64;

    /** What happens to requests; called on the balancer's thread, never from inside {@link #send}. */
    interface Receiver {
        /** The answer to the slot's request: {@code length} bytes, the first eight as {@code value}. */
        void answered(Replica.Slot slot, int length, long value, long now);

        /** The slot's request will get no answer (refused, an I/O error, or timed out). */
        void failed(Replica.Slot slot, long now);
    }

    /** Something else registered on the selector (the front door). */
    interface Readable {
        void readable(long now);

        /** Sends what it has written and not sent yet: called before each select. */
        default void flush() {
        }
    }

    private final Selector selector;
    private final Receiver receiver;
    private final boolean batched;
    /** Answers read from one replica at a time (batches). */
    private final Datagrams answers;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(64);
    /** One request at a time, direct: a heap buffer is copied into a temporary direct one on every send. */
    private final ByteBuffer request = ByteBuffer.allocateDirect(Wire.REQUEST_BYTES);
    /** Replicas with requests written and not sent. */
    private final List<Replica> queued = new ArrayList<>();
    /** Replicas an ICMP message said nobody listens at: their requests in flight fail at the next turn. */
    private final List<Replica> refused = new ArrayList<>();
    private final List<Readable> readables = new ArrayList<>();
    private long stray;
    private final Consumer<SelectionKey> onReady = this::ready;
    /** The clock of the select in progress, and when its first datagram was ready (0: none yet). */
    private LongSupplier clock;
    private long readyAt;

    Transport(Receiver receiver, boolean batched) throws IOException {
        this.selector = Selector.open();
        this.receiver = receiver;
        this.batched = batched;
        this.answers = batched ? new Datagrams(BATCH, 16) : null;
    }

    /** Whether datagrams go in batches. */
    boolean batched() {
        return batched;
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

    /** Registers a channel whose readiness is handed to {@code readable}, and whose writes are flushed. */
    void register(DatagramChannel channel, Readable readable) throws IOException {
        channel.configureBlocking(false);
        channel.register(selector, SelectionKey.OP_READ, readable);
        readables.add(readable);
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
     * Sends request {@code n} to the replica (in a batch: before the next select).
     *
     * @return the request, in flight; null when it could not be sent (an I/O error, logged)
     */
    Replica.Slot send(Replica replica, long n, long now) {
        if (replica.channel == null) {
            try {
                connect(replica);
            } catch (IOException e) {
                log.warn("balancer: cannot open a socket to {}: {}", replica.endpoint, e.toString());
                return null;
            }
        }
        Replica.Slot slot = replica.free.poll();
        if (slot == null) {
            slot = new Replica.Slot(replica);
        }
        slot.n = n;
        slot.expected = Traffic.expected(n);
        slot.sentAt = now;
        slot.inFlight = true;
        replica.busy.add(slot);
        if (replica.out != null) {
            replica.out.addInt((int) n);
            if (!replica.queued) {
                replica.queued = true;
                queued.add(replica);
            }
            if (replica.out.full()) {
                sendWritten(replica);
            }
            return slot;
        }
        try {
            replica.channel.write(Wire.putRequest(request.clear(), n).flip());
        } catch (PortUnreachableException e) {
            refuse(replica); // nobody listens there: it fails at the next turn rather than at its timeout
        } catch (IOException e) {
            log.warn("balancer: cannot send to {}: {}", replica.endpoint, e.toString());
            slot.inFlight = false;
            replica.busy.remove(replica.busy.size() - 1);
            replica.free.push(slot);
            return null;
        }
        return slot;
    }

    private void connect(Replica replica) throws IOException {
        DatagramChannel channel = open(replica.address);
        try {
            channel.setOption(StandardSocketOptions.SO_RCVBUF, 1 << 20); // answers to a full window and more
            channel.configureBlocking(false);
            channel.connect(replica.address);
            channel.register(selector, SelectionKey.OP_READ, replica);
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        replica.channel = channel;
        if (batched) {
            replica.fd = Datagrams.fd(channel);
            replica.out = new Datagrams(BATCH, Wire.REQUEST_BYTES);
        }
    }

    private void sendWritten(Replica replica) {
        try {
            replica.out.send(replica.fd);
        } catch (PortUnreachableException e) {
            refuse(replica);
        } catch (IOException e) {
            log.warn("balancer: cannot send to {}: {}", replica.endpoint, e.toString()); // they time out
        }
    }

    private void refuse(Replica replica) {
        if (!refused.contains(replica)) {
            refused.add(replica);
        }
    }

    /** Sends everything written and not sent yet: clients' answers first, as they end a request's wait. */
    void flush() {
        for (int i = 0; i < readables.size(); i++) { // by index: no iterator per turn
            readables.get(i).flush();
        }
        for (int i = 0; i < queued.size(); i++) {
            Replica replica = queued.get(i);
            replica.queued = false;
            if (replica.channel != null && replica.out.count() > 0) {
                sendWritten(replica);
            }
        }
        queued.clear();
    }

    /**
     * Sends what was written, then waits up to {@code millis} for datagrams and hands each to the receiver or
     * the readable it belongs to.
     */
    void select(long millis, LongSupplier clock) throws IOException {
        flush();
        if (!refused.isEmpty()) {
            failRefused(clock.getAsLong());
            flush(); // what was tried again elsewhere
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
        if (key.attachment() instanceof Replica replica) {
            read(replica, readyAt);
        } else {
            ((Readable) key.attachment()).readable(readyAt);
        }
    }

    private void failRefused(long now) {
        List<Replica> failing = new ArrayList<>(refused);
        refused.clear();
        for (Replica replica : failing) {
            for (Replica.Slot slot : List.copyOf(replica.busy)) {
                if (slot.inFlight) {
                    fail(slot, now);
                }
            }
        }
    }

    /**
     * Reads what the replica sent: a batch, or one datagram per readiness (an empty read would cost a system call
     * per answer; the level-triggered selector reports the socket again while anything is left).
     */
    private void read(Replica replica, long now) {
        if (replica.fd >= 0) {
            int got;
            try {
                got = answers.receive(replica.fd, false);
            } catch (IOException e) { // PortUnreachableException above all: ICMP said nobody listens
                refuse(replica);
                return;
            }
            for (int i = 0; i < got; i++) {
                int length = answers.length(i);
                match(replica, length, length >= Long.BYTES ? answers.getLong(i) : -1, now);
            }
            return;
        }
        int length;
        try {
            length = replica.channel.read(buffer.clear());
        } catch (IOException e) {
            refuse(replica);
            return;
        }
        if (length > 0) {
            match(replica, length, length >= Long.BYTES ? buffer.getLong(0) : -1, now);
        }
    }

    /** An answer from the replica: to the oldest request in flight it is the answer to; see the class comment. */
    private void match(Replica replica, int length, long value, long now) {
        List<Replica.Slot> busy = replica.busy;
        if (busy.isEmpty()) {
            stray++;
            return;
        }
        int index = -1;
        if (length == Wire.REPLY_BYTES) {
            for (int i = 0, size = busy.size(); i < size; i++) {
                if (busy.get(i).expected == value) {
                    index = i;
                    break;
                }
            }
            if (index < 0 && replica.takeLate(value)) {
                stray++; // the answer to a request given up: too late
                return;
            }
        }
        Replica.Slot slot = busy.remove(Math.max(index, 0)); // a wrong answer: the oldest request's
        slot.inFlight = false;
        receiver.answered(slot, length, value, now);
        replica.free.push(slot);
    }

    /** Fails every request in flight for longer than {@code timeoutNanos}. */
    void expire(List<Replica> replicas, long now, long timeoutNanos) {
        expired.clear();
        for (int r = 0; r < replicas.size(); r++) { // by index, into a list kept: nothing allocated per scan
            List<Replica.Slot> busy = replicas.get(r).busy;
            for (int i = 0; i < busy.size(); i++) {
                Replica.Slot slot = busy.get(i);
                if (now - slot.sentAt <= timeoutNanos) {
                    break; // sent in order: the rest are younger
                }
                expired.add(slot);
            }
        }
        for (int i = 0; i < expired.size(); i++) {
            Replica.Slot slot = expired.get(i);
            if (slot.inFlight) {
                fail(slot, now);
            }
        }
        expired.clear();
    }

    /** The requests an {@link #expire} scan found too old. */
    private final List<Replica.Slot> expired = new ArrayList<>();

    /** The slot's request will get no answer: the receiver is told, and an answer that comes after is late. */
    void fail(Replica.Slot slot, long now) {
        Replica replica = slot.replica;
        slot.inFlight = false;
        replica.busy.remove(slot);
        replica.expectLate(slot.expected);
        receiver.failed(slot, now);
        replica.free.push(slot);
    }

    /** Closes the socket of a replica with nothing in flight: an answer that comes after finds no socket. */
    void retire(Replica replica) {
        if (replica.channel == null) {
            return;
        }
        try {
            replica.channel.close();
        } catch (IOException e) {
            log.debug("close: {}", e.toString());
        }
        replica.channel = null;
        replica.fd = -1; // its number may be another socket's next
        if (replica.out != null) {
            replica.out.clear();
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
