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
 * What one unit of work costs on a replica: requests one at a time, with n = work and with n = 0;
 * the difference of the median round trips is the service time of one request, and a replica
 * with V vCPUs (one guest-server worker each) serves V / service time requests per second.
 */
public final class Calibration {

    /**
     * @param serviceMillis     CPU time of one request of {@code work} on the replica
     * @param baseMillis        round trip of a request with n = 0 (the network and the server's overhead)
     * @param capacityPerSecond requests per second one replica serves at that work
     */
    public record Result(long work, double serviceMillis, double baseMillis, double capacityPerSecond) {
    }

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
            roundTrip(socket, target, work);
            roundTrip(socket, target, 0);
            List<Long> base = new ArrayList<>();
            List<Long> loaded = new ArrayList<>();
            for (int i = 0; i < samples; i++) {
                base.add(roundTrip(socket, target, 0));
                loaded.add(roundTrip(socket, target, work));
            }
            double baseMillis = median(base) / 1e6;
            double serviceMillis = Math.max(0.001, (median(loaded) - median(base)) / 1e6);
            return new Result(work, serviceMillis, baseMillis, vcpus * 1000.0 / serviceMillis);
        }
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
