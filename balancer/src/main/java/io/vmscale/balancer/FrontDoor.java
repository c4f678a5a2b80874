package io.vmscale.balancer;

import io.vmscale.guest.Wire;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The front door: a UDP address where outside clients send the same 4-byte requests. Each is handed
 * to the balancer's dispatch (which tries it once more on another replica if it times out), and a
 * correct answer goes back to the client that asked. Anything that is not 4 bytes is counted and
 * dropped. Touched by the balancer's thread only.
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
    private final Forward forward;
    private final ByteBuffer in = ByteBuffer.allocateDirect(Wire.REQUEST_BYTES + 1);
    private final ByteBuffer out = ByteBuffer.allocateDirect(Wire.REPLY_BYTES);
    private long received;
    private long garbage;
    private long answered;
    private long retried;
    private long dropped;

    private FrontDoor(DatagramChannel channel, Forward forward) {
        this.channel = channel;
        this.forward = forward;
    }

    /** Binds the front door's address and registers it with the transport. */
    static FrontDoor open(InetSocketAddress address, Transport transport, Forward forward) throws IOException {
        // an IPv4 socket for an IPv4 address (see Transport.open); the wildcard keeps a dual-stack one, which
        // takes IPv6 clients too
        DatagramChannel channel = address.getAddress() != null && address.getAddress().isAnyLocalAddress()
                ? DatagramChannel.open() : Transport.open(address);
        FrontDoor door = new FrontDoor(channel, forward);
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
            }
        }
    }

    /** A correct answer for a client. */
    void answer(InetSocketAddress client, long value) {
        try {
            out.clear().putLong(value).flip();
            if (channel.send(out, client) > 0) {
                answered++;
            } else {
                dropped++; // the socket's send buffer is full
            }
        } catch (IOException e) {
            dropped++;
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
        return new Balancer.FrontCounters(received, garbage, answered, retried, dropped);
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
