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
    public record Result(int asked, int answered, long millis, String what) {
        public Result(int asked, int answered, long millis) {
            this(asked, answered, millis, "real requests");
        }

        @Override
        public String toString() {
            return answered + " of " + asked + " " + what + " answered in " + millis + " ms";
        }
    }

    /** How long one HTTP warm-up request may take (the application's work may be CPU-heavy). */
    static final Duration HTTP_PER_REQUEST = Duration.ofSeconds(10);

    /**
     * An application's warm-up: {@code count} requests {@code GET path}, one at a time over one keep-alive connection,
     * each waited for up to {@link #HTTP_PER_REQUEST}; stops at the deadline or once {@code keepGoing} says no. Only
     * 2xx answers count; a refused connection or a timeout is one not answered.
     */
    public static Result warmHttp(Endpoint endpoint, String path, int count, Duration deadline,
                                  BooleanSupplier keepGoing) {
        long t0 = System.nanoTime();
        long end = t0 + deadline.toNanos();
        String host = endpoint.ip().contains(":") ? "[" + endpoint.ip() + "]" : endpoint.ip();
        java.net.URI uri = java.net.URI.create("http://" + host + ":" + endpoint.port() + path);
        java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder()
                .version(java.net.http.HttpClient.Version.HTTP_1_1)
                .followRedirects(java.net.http.HttpClient.Redirect.NEVER).build();
        int asked = 0;
        int answered = 0;
        while (asked < count && System.nanoTime() < end && keepGoing.getAsBoolean()) {
            Duration left = Duration.ofNanos(Math.max(1_000_000, end - System.nanoTime()));
            java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(uri)
                    .timeout(left.compareTo(HTTP_PER_REQUEST) < 0 ? left : HTTP_PER_REQUEST)
                    .header("User-Agent", "vmscale-warm-up").GET().build();
            asked++;
            try {
                int status = client.send(request, java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
                if (status >= 200 && status <= 299) {
                    answered++;
                }
            } catch (IOException e) {
                // not answered: the next one is asked
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return new Result(asked, answered, (System.nanoTime() - t0) / 1_000_000, "GET " + path);
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
