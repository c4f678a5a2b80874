package io.vmscale.balancer;

import io.vmscale.guest.Wire;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The front door: a UDP address where outside clients send the same 4-byte requests. Each is handed
 * to the balancer's dispatch (which tries it once more on another replica if it times out), and a
 * correct answer goes back to the client that asked. Anything that is not 4 bytes is counted and
 * dropped. Where the transport batches, requests are read up to {@link Transport#BATCH} per system call
 * and answers sent the same way before the next select. Touched by the balancer's thread only.
 */
final class FrontDoor implements Transport.Readable, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(FrontDoor.class);
    /** Datagrams read per readiness, so that a flood cannot starve the answers. */
    private static final int BATCH = 1024;

    /** Where a request goes: false when no replica can take it. */
    interface Forward {
        boolean forward(long n, InetSocketAddress client, long now);
    }

    private final DatagramChannel channel;
    private final boolean ipv6;
    private final Forward forward;
    /** Batches (null: one datagram per call). */
    private final Datagrams requests;
    private final Datagrams replies;
    private final int fd;
    private final ByteBuffer in = ByteBuffer.allocateDirect(Wire.REQUEST_BYTES + 1);
    private final ByteBuffer out = ByteBuffer.allocateDirect(Wire.REPLY_BYTES);
    private long received;
    private long garbage;
    private long answered;
    private long retried;
    private long dropped;
    private long reads;
    private long answerSends;
    private long noRoom;
    private long unsentAnswers;

    private FrontDoor(DatagramChannel channel, boolean ipv6, Forward forward, boolean batched) {
        this.channel = channel;
        this.ipv6 = ipv6;
        this.forward = forward;
        this.requests = batched ? new Datagrams(Transport.BATCH, Wire.REQUEST_BYTES + 1) : null;
        this.replies = batched ? new Datagrams(Transport.BATCH, Wire.REPLY_BYTES) : null;
        this.fd = batched ? Datagrams.fd(channel) : -1;
    }

    /** Binds the front door's address and registers it with the transport. */
    static FrontDoor open(InetSocketAddress address, Transport transport, Forward forward) throws IOException {
        // an IPv4 socket for an IPv4 address (see Transport.open); the wildcard keeps a dual-stack one, which
        // takes IPv6 clients too, where there is IPv6
        DatagramChannel channel;
        boolean ipv6;
        if (address.getAddress() == null || address.getAddress().isAnyLocalAddress()) {
            DatagramChannel dual;
            try {
                dual = DatagramChannel.open(StandardProtocolFamily.INET6);
            } catch (UnsupportedOperationException | IOException e) {
                dual = null;
            }
            ipv6 = dual != null;
            channel = dual != null ? dual : DatagramChannel.open(StandardProtocolFamily.INET);
        } else {
            ipv6 = !(address.getAddress() instanceof java.net.Inet4Address);
            channel = Transport.open(address);
        }
        FrontDoor door = new FrontDoor(channel, ipv6, forward, transport.batched());
        try {
            channel.bind(address);
            transport.register(channel, door);
        } catch (IOException e) {
            channel.close();
            throw new IOException("cannot open the front door on udp " + address + ": " + e.getMessage(), e);
        }
        return door;
    }

    InetSocketAddress address() throws IOException {
        return (InetSocketAddress) channel.getLocalAddress();
    }

    @Override
    public void readable(long now) {
        reads++;
        if (requests != null) {
            readBatches(now);
            return;
        }
        for (int i = 0; i < BATCH; i++) {
            SocketAddress client;
            try {
                client = channel.receive(in.clear());
            } catch (IOException e) {
                log.debug("front door receive: {}", e.toString());
                return;
            }
            if (client == null) {
                return;
            }
            received++;
            in.flip();
            if (in.remaining() != Wire.REQUEST_BYTES) {
                garbage++;
                continue;
            }
            long n = Integer.toUnsignedLong(in.getInt(0));
            if (!forward.forward(n, (InetSocketAddress) client, now)) {
                dropped++; // no replica can take it: the client's own timeout tells it
                noRoom++;
            }
        }
    }

    private void readBatches(long now) {
        for (int read = 0; read < BATCH; ) {
            int got;
            try {
                got = requests.receive(fd, true);
            } catch (IOException e) {
                log.debug("front door receive: {}", e.toString());
                return;
            }
            for (int i = 0; i < got; i++) {
                received++;
                InetSocketAddress client = requests.length(i) == Wire.REQUEST_BYTES ? requests.address(i) : null;
                if (client == null) {
                    garbage++;
                    continue;
                }
                if (!forward.forward(Integer.toUnsignedLong(requests.getInt(i)), client, now)) {
                    dropped++;
                    noRoom++;
                }
            }
            read += got;
            if (got < requests.capacity()) {
                return; // nothing more waiting: no empty read to find that out
            }
        }
    }

    @Override
    public void flush() {
        if (replies == null || replies.count() == 0) {
            return;
        }
        int written = replies.count();
        answerSends++;
        int sent;
        try {
            sent = replies.send(fd);
        } catch (IOException e) {
            log.debug("front door send: {}", e.toString());
            sent = 0;
        }
        answered += sent;
        dropped += written - sent;
        unsentAnswers += written - sent;
    }

    /** A correct answer for a client. */
    void answer(InetSocketAddress client, long value) {
        if (replies != null) {
            replies.addLong(value, client, ipv6);
            if (replies.full()) {
                flush();
            }
            return;
        }
        try {
            out.clear().putLong(value).flip();
            answerSends++;
            if (channel.send(out, client) > 0) {
                answered++;
            } else {
                dropped++; // the socket's send buffer is full
                unsentAnswers++;
            }
        } catch (IOException e) {
            dropped++;
            unsentAnswers++;
        }
    }

    /** A client's request tried on another replica. */
    void retried() {
        retried++;
    }

    /** A client's request given up (no answer, a wrong one, or nowhere to send it). */
    void dropped() {
        dropped++;
    }

    Balancer.FrontCounters counters() {
        return new Balancer.FrontCounters(received, garbage, answered, retried, dropped, reads, answerSends,
                noRoom, unsentAnswers);
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            log.debug("front door close: {}", e.toString());
        }
    }
}
