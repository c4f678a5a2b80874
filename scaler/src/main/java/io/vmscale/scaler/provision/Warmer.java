package io.vmscale.scaler.provision;

import io.vmscale.broker.event.Endpoint;
import io.vmscale.guest.Wire;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Warms a replica before it is parked in the warm pool: real requests of the clients' work, one at a
 * time, so that the guest's JIT has compiled the work when the replica gets its first share. Bounded in
 * count and in time.
 */
public final class Warmer {
    private static final Duration PER_REQUEST = Duration.ofSeconds(1);

    private Warmer() {
    }

    /** How the warming went. */
    public record Result(int asked, int answered, long millis) {
        @Override
        public String toString() {
            return answered + " of " + asked + " real requests answered in " + millis + " ms";
        }
    }

    /**
     * Sends {@code count} requests of work {@code n}, each waited for up to a second; stops at the deadline or
     * once {@code keepGoing} says no. Only correct answers count.
     */
    public static Result warm(Endpoint endpoint, int count, long n, Duration deadline, BooleanSupplier keepGoing) {
        long t0 = System.nanoTime();
        long end = t0 + deadline.toNanos();
        InetSocketAddress target = new InetSocketAddress(endpoint.ip(), endpoint.port());
        long expected = Wire.expected(n);
        int asked = 0;
        int answered = 0;
        byte[] reply = new byte[16];
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.setSoTimeout((int) PER_REQUEST.toMillis());
            while (asked < count && System.nanoTime() < end && keepGoing.getAsBoolean()) {
                byte[] request = Wire.request(n).array();
                socket.send(new DatagramPacket(request, request.length, target));
                asked++;
                try {
                    DatagramPacket packet = new DatagramPacket(reply, reply.length);
                    socket.receive(packet);
                    if (packet.getLength() == Wire.REPLY_BYTES && ByteBuffer.wrap(reply).getLong() == expected) {
                        answered++;
                    }
                } catch (SocketTimeoutException | PortUnreachableException e) {
                    // not answered: the next one is asked
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("warming " + endpoint + " failed: " + e.getMessage(), e);
        }
        return new Result(asked, answered, (System.nanoTime() - t0) / 1_000_000);
    }
}
