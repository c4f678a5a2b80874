package io.vmscale.scaler.health;

import io.vmscale.broker.event.Endpoint;
import io.vmscale.guest.Wire;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;

/** The built-in service's own question: {@code n = 1022} must come back as {@code 2^1022 mod 1021}. */
final class UdpWireCheck implements HealthCheck {
    static final long N = 1022; // cheap, and its answer (4) is not 1, the answer to n = 0

    @Override
    public Result check(Endpoint target, Duration timeout) {
        return check(target, timeout, timeout);
    }

    @Override
    public Result check(Endpoint target, Duration timeout, Duration resend) {
        long t0 = System.nanoTime();
        long end = t0 + timeout.toNanos();
        long resendNanos = Math.max(1_000_000, resend.toNanos());
        byte[] request = Wire.request(N).array();
        byte[] reply = new byte[16];
        InetSocketAddress to = new InetSocketAddress(target.ip(), target.port());
        try (DatagramSocket socket = new DatagramSocket()) {
            String wrong = null;
            long nextSend = t0;
            while (true) {
                long now = System.nanoTime();
                if (now >= end) {
                    break;
                }
                if (now >= nextSend) {
                    socket.send(new DatagramPacket(request, request.length, to));
                    nextSend = now + resendNanos;
                }
                long wait = Math.max(1, (Math.min(end, nextSend) - now) / 1_000_000);
                socket.setSoTimeout((int) wait);
                DatagramPacket packet = new DatagramPacket(reply, reply.length);
                try {
                    socket.receive(packet);
                } catch (SocketTimeoutException e) {
                    continue;
                } catch (PortUnreachableException e) {
                    wrong = "port unreachable";
                    continue; // nobody listens yet: the next question may find it
                }
                if (packet.getLength() == Wire.REPLY_BYTES && ByteBuffer.wrap(reply).getLong() == Wire.expected(N)) {
                    return new Result(true, "answered correctly", HealthCheck.since(t0), Instant.now());
                }
                wrong = "a wrong answer (" + packet.getLength() + " bytes)";
            }
            return new Result(false, wrong != null ? wrong : "no answer in " + timeout.toMillis() + " ms",
                    HealthCheck.since(t0), Instant.now());
        } catch (IOException | RuntimeException e) {
            return new Result(false, String.valueOf(e.getMessage()), HealthCheck.since(t0), Instant.now());
        }
    }
}
