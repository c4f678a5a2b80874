package io.vmscale.balancer;

import io.vmscale.broker.event.Endpoint;
import io.vmscale.guest.Wire;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What one unit of work costs on a replica: requests one at a time, with a large n and with n = 0;
 * the difference of the median round trips, scaled to the configured work (the cost is linear in
 * n), is the service time of one request, and a replica with V vCPUs (one guest-server worker
 * each) serves V / service time requests per second. The n used grows until the work stands well
 * above the noise of a round trip (20 ms), and is asked a few times first so that the guest's JIT
 * has compiled the loop: right after boot, under emulation, the first answers are much slower.
 */
public final class Calibration {

    /**
     * @param serviceMillis     CPU time of one request of {@code work} on the replica
     * @param baseMillis        round trip of a request with n = 0 (the network and the server's overhead)
     * @param capacityPerSecond requests per second one replica serves at that work
     */
    public record Result(long work, double serviceMillis, double baseMillis, double capacityPerSecond) {
    }

    /** The work must stand this far above the round trip's noise. */
    private static final long TARGET_NANOS = 20_000_000L;
    private static final long MAX_CALIBRATION_N = 1L << 31;

    private Calibration() {
    }

    /**
     * Measures {@code samples} round trips of each kind (after two to warm up).
     *
     * @throws IOException when the replica does not answer within the timeout
     */
    public static Result measure(Endpoint replica, long work, int vcpus, int samples, Duration timeout)
            throws IOException {
        if (work < 1 || samples < 3 || vcpus < 1) {
            throw new IllegalArgumentException("calibration needs work >= 1, vcpus >= 1 and samples >= 3");
        }
        InetSocketAddress target = new InetSocketAddress(replica.ip(), replica.port());
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.setSoTimeout((int) timeout.toMillis());
            for (int i = 0; i < 5; i++) {
                roundTrip(socket, target, work);
                roundTrip(socket, target, 0);
            }
            long n = work;
            while (n < MAX_CALIBRATION_N && measure(socket, target, n, 5) < TARGET_NANOS) {
                n = Math.min(MAX_CALIBRATION_N, n * 4);
            }
            List<Long> base = new ArrayList<>();
            List<Long> loaded = new ArrayList<>();
            for (int i = 0; i < samples; i++) {
                base.add(roundTrip(socket, target, 0));
                loaded.add(roundTrip(socket, target, n));
            }
            double baseMillis = median(base) / 1e6;
            double perN = Math.max(1, median(loaded) - median(base)) / (double) n;
            double serviceMillis = Math.max(1e-6, perN * work / 1e6);
            return new Result(work, serviceMillis, baseMillis, vcpus * 1000.0 / serviceMillis);
        }
    }

    /** The work of n above a round trip of n = 0, in nanoseconds (medians of a few). */
    private static long measure(DatagramSocket socket, InetSocketAddress target, long n, int samples)
            throws IOException {
        List<Long> base = new ArrayList<>();
        List<Long> loaded = new ArrayList<>();
        for (int i = 0; i < samples; i++) {
            base.add(roundTrip(socket, target, 0));
            loaded.add(roundTrip(socket, target, n));
        }
        return median(loaded) - median(base);
    }

    private static long roundTrip(DatagramSocket socket, InetSocketAddress target, long n) throws IOException {
        byte[] request = Wire.request(n).array();
        byte[] reply = new byte[16];
        long t0 = System.nanoTime();
        socket.send(new DatagramPacket(request, request.length, target));
        DatagramPacket packet = new DatagramPacket(reply, reply.length);
        try {
            socket.receive(packet);
        } catch (SocketTimeoutException e) {
            throw new IOException("calibration: no answer from " + target + " within the timeout", e);
        }
        long elapsed = System.nanoTime() - t0;
        if (packet.getLength() != Wire.REPLY_BYTES || ByteBuffer.wrap(reply).getLong() != Wire.expected(n)) {
            throw new IOException("calibration: a wrong answer from " + target);
        }
        return elapsed;
    }

    private static long median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }
}
