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
import java.util.function.LongSupplier;

/**
 * What one replica serves at saturation: a closed loop keeps {@code window} requests of {@code work}
 * in flight (far more than a replica has workers, so the load offered is above its capacity and
 * its workers never wait), and counts correct answers per second once the queue has filled. Past
 * the knee more requests in flight only queue, so the answers per second there are the capacity.
 * The balancer's own traffic to the replica during the measurement is added (the replica served
 * that too), so a replica can be measured while it serves.
 *
 * <p>This replaces a latency-based estimate (round trips one at a time on an idle replica), which
 * was optimistic by about 40 % under load: an emulated replica does less work per second when busy.
 */
public final class Calibration {

    /**
     * @param replica           the replica measured
     * @param work              n of each request
     * @param capacityPerSecond answers per second it gave at saturation: the calibration's plus the balancer's
     * @param ownPerSecond      the calibration's own answers per second
     * @param othersPerSecond   the balancer's answers per second from it over the same time
     * @param window            requests the calibration kept in flight
     * @param seconds           how long the answers were counted (after the ramp)
     */
    public record Result(Endpoint replica, long work, double capacityPerSecond, double ownPerSecond,
                         double othersPerSecond, int window, double seconds) {
    }

    /** Requests kept in flight: well above any replica's workers. */
    static final int WINDOW = 32;
    /** Answers before this are not counted: the queue fills and a cold guest's JIT compiles. */
    static final Duration RAMP = Duration.ofMillis(700);

    private Calibration() {
    }

    /**
     * Saturates the replica for {@code RAMP + measure} and counts its answers.
     *
     * @param othersAnswers the replica's answers to the balancer so far (read at the start and the end
     *                      of the counted time; from the balancer's own thread), or {@code () -> 0}
     * @param timeout       no answer at all for this long: the replica is not serving, the measurement fails
     * @throws IOException when the replica does not answer within the timeout, or answers wrong
     */
    public static Result measure(Endpoint replica, long work, Duration measure, int window, Duration timeout,
                                 LongSupplier othersAnswers) throws IOException {
        if (work < 0 || window < 1 || measure.isNegative() || measure.isZero()) {
            throw new IllegalArgumentException("calibration needs work >= 0, window >= 1 and a time to measure");
        }
        InetSocketAddress target = new InetSocketAddress(replica.ip(), replica.port());
        byte[] request = Wire.request(work).array();
        long expected = Wire.expected(work);
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.connect(target);
            int slice = (int) Math.max(50, Math.min(timeout.toMillis(), 500));
            socket.setSoTimeout(slice);
            DatagramPacket out = new DatagramPacket(request, request.length);
            byte[] reply = new byte[16];
            DatagramPacket in = new DatagramPacket(reply, reply.length);
            for (int i = 0; i < window; i++) {
                socket.send(out);
            }
            long start = System.nanoTime();
            long countFrom = start + RAMP.toNanos();
            long end = countFrom + measure.toNanos();
            long lastAnswer = start;
            long answers = 0;
            long othersAtStart = -1;
            long othersAtEnd = 0;
            boolean counting = false;
            while (true) {
                long now = System.nanoTime();
                if (!counting && now >= countFrom) {
                    counting = true;
                    othersAtStart = othersAnswers.getAsLong();
                    countFrom = now;
                }
                if (now >= end) {
                    othersAtEnd = othersAnswers.getAsLong();
                    end = now;
                    break;
                }
                try {
                    socket.receive(in);
                } catch (SocketTimeoutException e) {
                    if (System.nanoTime() - lastAnswer > timeout.toNanos()) {
                        throw new IOException("calibration: no answer from " + target + " for " + timeout.toMillis()
                                + " ms", e);
                    }
                    for (int i = 0; i < window; i++) { // requests lost (a full queue drops): fill the window again
                        socket.send(out);
                    }
                    continue;
                }
                if (in.getLength() != Wire.REPLY_BYTES || ByteBuffer.wrap(reply).getLong() != expected) {
                    throw new IOException("calibration: a wrong answer from " + target);
                }
                lastAnswer = System.nanoTime();
                if (counting) {
                    answers++;
                }
                socket.send(out);
            }
            double seconds = (end - countFrom) / 1e9;
            double own = answers / seconds;
            double others = Math.max(0, othersAtEnd - othersAtStart) / seconds;
            return new Result(replica, work, own + others, own, others, window, seconds);
        }
    }
}
