package io.vmscale.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmscale.guest.Wire;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The front door's hot path allocates nothing per request: the bytes the balancer's thread allocated (the JDK's
 * per-thread counter) around a burst of requests through a front door on loopback, after a warm-up that lets the
 * JIT compile it, are far fewer than one per request. A GC pause stops the front door with everything else in its
 * JVM; the fewer objects it makes, the rarer the pauses it causes.
 */
class FrontDoorAllocationTest extends BalancerOnGuests {
    private static final int WINDOW = 32;
    private static final int WARM_UP = 200_000;
    private static final int MEASURED = 100_000;

    @Test
    void theBalancersThreadAllocatesNothingPerRequest() throws Exception {
        // stats reported once in ten minutes (their events are made on the balancer's thread, not per request)
        Balancer.Settings settings = new Balancer.Settings(0, 1000, Map.of("low", 0.3, "mid", 0.5, "high", 0.85),
                LoadMode.OFF, "least-outstanding", 64, Duration.ofSeconds(2), 3, Duration.ofSeconds(5),
                Duration.ofMinutes(10));
        balancer = Balancer.start(settings, e -> { }, List::of, "balancer@test",
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), true);
        balancer.addServer(guests.startWithDefaults());
        balancer.addServer(guests.startWithDefaults());
        assertThat(balancer.members()).hasSize(2);
        InetSocketAddress front = balancer.frontAddress();
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("balancer"))
                .findFirst().orElseThrow().getId();

        try (DatagramChannel client = DatagramChannel.open(); Selector selector = Selector.open()) {
            client.connect(front);
            client.configureBlocking(false);
            client.register(selector, SelectionKey.OP_READ);
            assertThat(burst(client, selector, WARM_UP)).isEqualTo(WARM_UP);
            long before = threads.getThreadAllocatedBytes(id);
            assertThat(burst(client, selector, MEASURED)).isEqualTo(MEASURED);
            long allocated = threads.getThreadAllocatedBytes(id) - before;
            System.out.printf("front door: the balancer's thread allocated %d bytes over %d requests (%.3f per request)%n",
                    allocated, MEASURED, (double) allocated / MEASURED);
            assertThat(allocated).as("bytes the balancer's thread allocated over %d requests", MEASURED)
                    .isLessThan(MEASURED / 10);
        }
    }

    /** {@code count} requests, {@link #WINDOW} in flight, every answer checked; the answers counted. */
    private static int burst(DatagramChannel client, Selector selector, int count) throws Exception {
        ByteBuffer request = ByteBuffer.allocateDirect(Wire.REQUEST_BYTES);
        ByteBuffer reply = ByteBuffer.allocateDirect(16);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        int sent = 0;
        int answered = 0;
        // request i asks n = i mod 340: each answer names its request's n (2 has order 340 modulo 1021)
        while (answered < count && System.nanoTime() < deadline) {
            while (sent < count && sent - answered < WINDOW) {
                client.write(Wire.putRequest(request.clear(), sent % 340).flip());
                sent++;
            }
            selector.select(100);
            selector.selectedKeys().clear();
            while (client.read(reply.clear()) > 0) {
                assertThat(reply.position()).isEqualTo(Wire.REPLY_BYTES);
                assertThat(reply.getLong(0)).isBetween(1L, 1020L);
                answered++;
            }
        }
        return answered;
    }
}
