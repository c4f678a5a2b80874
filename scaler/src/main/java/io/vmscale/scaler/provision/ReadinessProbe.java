package io.vmscale.scaler.provision;

import io.vmscale.broker.event.Endpoint;
import io.vmscale.guest.Wire;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketTimeoutException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Asks a replica real questions until it answers one correctly: readiness is an answer checked
 * against {@code 2^n mod 1021}, not a fixed wait. Bounded: one request per {@code retry}, until
 * the deadline.
 */
public final class ReadinessProbe {
    private static final long N = 1022; // cheap, and its answer (4) is not 1, the answer to n = 0

    private ReadinessProbe() {
    }

    /** True when a correct answer came before the deadline. */
    public static boolean answers(Endpoint endpoint, Duration deadline, Duration retry) {
        return answers(endpoint, deadline, retry, () -> true);
    }

    /** True when a correct answer came before the deadline; gives up early once {@code keepTrying} says no. */
    public static boolean answers(Endpoint endpoint, Duration deadline, Duration retry, BooleanSupplier keepTrying) {
        long end = System.nanoTime() + deadline.toNanos();
        InetSocketAddress target = new InetSocketAddress(endpoint.ip(), endpoint.port());
        byte[] request = Wire.request(N).array();
        byte[] reply = new byte[16];
        try (DatagramSocket socket = new DatagramSocket()) {
            while (System.nanoTime() < end && keepTrying.getAsBoolean()) {
                long wait = Math.max(1, Math.min(retry.toMillis(), (end - System.nanoTime()) / 1_000_000));
                socket.setSoTimeout((int) wait);
                socket.send(new DatagramPacket(request, request.length, target));
                long waitEnd = System.nanoTime() + wait * 1_000_000;
                while (System.nanoTime() < waitEnd) {
                    DatagramPacket packet = new DatagramPacket(reply, reply.length);
                    try {
                        socket.receive(packet);
                    } catch (SocketTimeoutException | PortUnreachableException e) {
                        break;
                    }
                    if (packet.getLength() == Wire.REPLY_BYTES
                            && ByteBuffer.wrap(reply).getLong() == Wire.expected(N)) {
                        return true;
                    }
                }
            }
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException("probe of " + endpoint + " failed: " + e.getMessage(), e);
        }
    }
}
