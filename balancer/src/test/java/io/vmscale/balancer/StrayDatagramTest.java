package io.vmscale.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.event.Endpoint;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A datagram the balancer did not ask for (a replica answering twice) arrives on a socket with
 * nothing in flight. With a level-triggered selector it must be read and dropped, or the socket
 * stays readable and the balancer's thread spins.
 */
class StrayDatagramTest {
    private Balancer balancer;
    private DatagramSocket twice;

    @AfterEach
    void stop() {
        if (balancer != null) {
            balancer.close();
        }
        if (twice != null) {
            twice.close();
        }
    }

    /** A server that gives every correct answer twice. */
    private Endpoint answeringTwice() throws IOException {
        twice = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        DatagramSocket socket = twice;
        Thread t = new Thread(() -> {
            byte[] in = new byte[16];
            try {
                while (true) {
                    DatagramPacket p = new DatagramPacket(in, in.length);
                    socket.receive(p);
                    long n = Integer.toUnsignedLong(ByteBuffer.wrap(in, 0, 4).getInt());
                    byte[] out = ByteBuffer.allocate(8).putLong(io.vmscale.guest.Wire.expected(n)).array();
                    socket.send(new DatagramPacket(out, 8, p.getSocketAddress()));
                    socket.send(new DatagramPacket(out, 8, p.getSocketAddress()));
                }
            } catch (IOException closed) {
                // done
            }
        }, "answers-twice");
        t.setDaemon(true);
        t.start();
        return new Endpoint("127.0.0.1", socket.getLocalPort());
    }

    private static long balancerThreadCpuNanos() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long total = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals("balancer") && t.isAlive()) {
                total += Math.max(0, threads.getThreadCpuTime(t.getId()));
            }
        }
        return total;
    }

    @Test
    void aDatagramNobodyAskedForIsReadAndDroppedAndTheLoopStaysIdle() throws Exception {
        Endpoint replica = answeringTwice();
        Balancer.Settings settings = new Balancer.Settings(0, 1000, Map.of("low", 0.3, "mid", 0.5, "high", 0.85),
                LoadMode.custom(0.02), "round-robin", 8, Duration.ofSeconds(1), 3, Duration.ofSeconds(5),
                Duration.ofMillis(100));
        balancer = Balancer.start(settings, e -> { }, List::of, "balancer@test");
        balancer.addServer(replica);
        await().atMost(Duration.ofSeconds(10)).until(() -> balancer.totals().answered() >= 5);
        balancer.setMode(LoadMode.OFF);
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            var s = balancer.lastStats();
            return s != null && s.mode().equals("off") && s.servers().values().stream().allMatch(v -> v.inFlight() == 0);
        });
        // load off, nothing in flight: the thread should sleep in select, not spin on the extra answers
        long cpuBefore = balancerThreadCpuNanos();
        long wallBefore = System.nanoTime();
        // a measuring window, not a wait for an event: what the thread burns over half a second of nothing
        await().pollDelay(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> true);
        long cpu = balancerThreadCpuNanos() - cpuBefore;
        long wall = System.nanoTime() - wallBefore;
        assertThat(cpu).as("balancer thread CPU over %d ms of idle", wall / 1_000_000).isLessThan(wall / 10);
        assertThat(balancer.totals().wrong()).isZero();
        await().atMost(Duration.ofSeconds(5)).until(() -> balancer.stray() >= 5); // counted at the next stats
        assertThat(balancer.stray()).isLessThanOrEqualTo(balancer.totals().answered());
    }
}
