package io.vmscale.cli.bench;

import io.vmscale.guest.Wire;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * A closed-loop load for benchmarks: {@code window} sockets, each with one request in flight, so
 * every reply is matched to its request and its latency is exact. One thread, one selector. Bounded
 * in time; a request that gets no answer within the timeout is counted lost and sent again.
 */
final class UdpLoad {

    /** What one run measured. */
    record Result(long answered, long wrong, long lost, double seconds, Histogram latencyNanos) {
        public double perSecond() {
            return answered / seconds;
        }

        public double percentileMillis(double percentile) {
            return latencyNanos.getTotalCount() == 0 ? 0 : latencyNanos.getValueAtPercentile(percentile) / 1e6;
        }
    }

    private static final class Slot {
        final DatagramChannel channel;
        long sentAt;

        Slot(DatagramChannel channel) {
            this.channel = channel;
        }
    }

    private UdpLoad() {
    }

    static Result run(InetSocketAddress target, long n, int window, Duration warmup, Duration measure,
                             Duration timeout) throws IOException {
        return run(List.of(target), n, window, warmup, measure, timeout);
    }

    /** The same over several targets: the sockets are spread over them in turn. */
    static Result run(List<InetSocketAddress> targets, long n, int window, Duration warmup, Duration measure,
                             Duration timeout) throws IOException {
        if (window < 1 || window > 1024) {
            throw new IllegalArgumentException("window must be 1..1024, got " + window);
        }
        long expected = Wire.expected(n);
        ByteBuffer request = Wire.request(n);
        ByteBuffer reply = ByteBuffer.allocate(64);
        Histogram latency = new Histogram(60_000_000_000L, 3);
        List<Slot> slots = new ArrayList<>();
        try (Selector selector = Selector.open()) {
            for (int i = 0; i < window; i++) {
                DatagramChannel channel = DatagramChannel.open();
                channel.connect(targets.get(i % targets.size()));
                channel.configureBlocking(false);
                Slot slot = new Slot(channel);
                channel.register(selector, SelectionKey.OP_READ, slot);
                slots.add(slot);
            }
            long start = System.nanoTime();
            long measureFrom = start + warmup.toNanos();
            long end = measureFrom + measure.toNanos();
            long timeoutNanos = timeout.toNanos();
            long answered = 0;
            long wrong = 0;
            long lost = 0;
            for (Slot slot : slots) {
                send(slot, request, start);
            }
            long now = start;
            long nextTimeoutScan = start + timeoutNanos;
            while (now < end) {
                selector.select(Math.max(1, Math.min(100, (end - now) / 1_000_000)));
                now = System.nanoTime();
                boolean measuring = now >= measureFrom;
                for (SelectionKey key : selector.selectedKeys()) {
                    Slot slot = (Slot) key.attachment();
                    reply.clear();
                    int read;
                    try {
                        read = slot.channel.read(reply);
                    } catch (PortUnreachableException e) {
                        continue; // nobody listens (yet): the timeout scan resends
                    }
                    if (read <= 0) {
                        continue;
                    }
                    reply.flip();
                    if (measuring) {
                        if (read == Wire.REPLY_BYTES && Wire.getReply(reply) == expected) {
                            answered++;
                            latency.recordValue(Math.min(now - slot.sentAt, latency.getHighestTrackableValue()));
                        } else {
                            wrong++;
                        }
                    }
                    send(slot, request, now);
                }
                selector.selectedKeys().clear();
                if (now >= nextTimeoutScan) {
                    for (Slot slot : slots) {
                        if (now - slot.sentAt > timeoutNanos) {
                            if (now >= measureFrom) {
                                lost++;
                            }
                            send(slot, request, now);
                        }
                    }
                    nextTimeoutScan = now + timeoutNanos / 4;
                }
            }
            return new Result(answered, wrong, lost, (end - measureFrom) / 1e9, latency);
        } finally {
            for (Slot slot : slots) {
                slot.channel.close();
            }
        }
    }

    /** 2 has order 340 modulo 1021: requests n = 0..339 have distinct answers, so an answer names its request. */
    static final int MAX_ONE_SOCKET_WINDOW = 340;

    /**
     * The other client shape: ONE socket (one client address) with {@code window} requests in flight,
     * request i asking n = i, so that its answer (distinct for n below 340) says which one it was and
     * its latency is exact. The work of n below 340 is negligible: this measures the path.
     */
    static Result runOneSocket(InetSocketAddress target, int window, Duration warmup, Duration measure,
                                      Duration timeout) throws IOException {
        if (window < 1 || window > MAX_ONE_SOCKET_WINDOW) {
            throw new IllegalArgumentException("window must be 1.." + MAX_ONE_SOCKET_WINDOW + ", got " + window);
        }
        java.util.Map<Long, Integer> byAnswer = new java.util.HashMap<>();
        ByteBuffer[] requests = new ByteBuffer[window];
        for (int i = 0; i < window; i++) {
            byAnswer.put(Wire.expected(i), i);
            requests[i] = Wire.request(i);
        }
        long[] sentAt = new long[window];
        boolean[] waiting = new boolean[window];
        ByteBuffer reply = ByteBuffer.allocateDirect(64);
        Histogram latency = new Histogram(60_000_000_000L, 3);
        try (Selector selector = Selector.open(); DatagramChannel channel = DatagramChannel.open()) {
            channel.connect(target);
            channel.configureBlocking(false);
            channel.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 1 << 20);
            channel.register(selector, SelectionKey.OP_READ);
            long start = System.nanoTime();
            long measureFrom = start + warmup.toNanos();
            long end = measureFrom + measure.toNanos();
            long timeoutNanos = timeout.toNanos();
            long answered = 0;
            long wrong = 0;
            long lost = 0;
            for (int i = 0; i < window; i++) {
                sendOne(channel, requests, sentAt, waiting, i, start);
            }
            long now = start;
            long nextTimeoutScan = start + timeoutNanos;
            while (now < end) {
                selector.select(Math.max(1, Math.min(100, (end - now) / 1_000_000)));
                selector.selectedKeys().clear();
                now = System.nanoTime();
                boolean measuring = now >= measureFrom;
                while (true) {
                    int read;
                    try {
                        read = channel.read(reply.clear());
                    } catch (PortUnreachableException e) {
                        break;
                    }
                    if (read <= 0) {
                        break;
                    }
                    Integer i = read == Wire.REPLY_BYTES ? byAnswer.get(reply.getLong(0)) : null;
                    if (i == null || !waiting[i]) {
                        if (measuring) {
                            wrong++; // not the answer to a request in flight
                        }
                        continue;
                    }
                    waiting[i] = false;
                    long at = System.nanoTime(); // an answer to a request sent in this same pass is read in it too
                    if (measuring) {
                        answered++;
                        latency.recordValue(Math.min(at - sentAt[i], latency.getHighestTrackableValue()));
                    }
                    sendOne(channel, requests, sentAt, waiting, i, at);
                }
                if (now >= nextTimeoutScan) {
                    for (int i = 0; i < window; i++) {
                        if (waiting[i] && now - sentAt[i] > timeoutNanos) {
                            if (now >= measureFrom) {
                                lost++;
                            }
                            sendOne(channel, requests, sentAt, waiting, i, now);
                        }
                    }
                    nextTimeoutScan = now + timeoutNanos / 4;
                }
            }
            return new Result(answered, wrong, lost, (end - measureFrom) / 1e9, latency);
        }
    }

    private static void sendOne(DatagramChannel channel, ByteBuffer[] requests, long[] sentAt, boolean[] waiting, int i,
                                long now) throws IOException {
        sentAt[i] = now;
        waiting[i] = true;
        try {
            channel.write(requests[i].duplicate());
        } catch (PortUnreachableException e) {
            // counted as lost by the timeout scan
        }
    }

    private static void send(Slot slot, ByteBuffer request, long now) throws IOException {
        slot.sentAt = now;
        try {
            slot.channel.write(request.duplicate());
        } catch (PortUnreachableException e) {
            // counted as lost by the timeout scan
        }
    }
}
