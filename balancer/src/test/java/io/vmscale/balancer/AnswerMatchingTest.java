package io.vmscale.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.event.Endpoint;
import io.vmscale.guest.Wire;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Answers come back on one socket per replica and are matched to requests by their value: in any order, and
 * one that comes after its request was given up is late, not wrong, and takes no other request's place. Both
 * ways of reading and writing: in batches and one datagram per call.
 */
class AnswerMatchingTest {
    private Balancer balancer;
    private DatagramSocket server;

    @AfterEach
    void stop() {
        if (balancer != null) {
            balancer.close();
        }
        if (server != null) {
            server.close();
        }
    }

    /** A replica that decides, for each request it reads, what to send: given the requests read so far. */
    private Endpoint replica(BiConsumer<List<Request>, DatagramSocket> onRequest) throws IOException {
        server = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        DatagramSocket socket = server;
        Thread t = new Thread(() -> {
            List<Request> read = new ArrayList<>();
            byte[] in = new byte[16];
            try {
                while (true) {
                    DatagramPacket p = new DatagramPacket(in, in.length);
                    socket.receive(p);
                    read.add(new Request(Integer.toUnsignedLong(ByteBuffer.wrap(in, 0, 4).getInt()), p.getSocketAddress()));
                    onRequest.accept(read, socket);
                }
            } catch (IOException closed) {
                // done
            }
        }, "replica");
        t.setDaemon(true);
        t.start();
        return new Endpoint("127.0.0.1", socket.getLocalPort());
    }

    private record Request(long n, SocketAddress from) {
        void answer(DatagramSocket socket) {
            byte[] out = ByteBuffer.allocate(8).putLong(Wire.expected(n)).array();
            try {
                socket.send(new DatagramPacket(out, 8, from));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    private InetSocketAddress start(Endpoint replica, Duration timeout, boolean batched) {
        Balancer.Settings settings = new Balancer.Settings(0, 1000, Map.of("low", 0.3, "mid", 0.5, "high", 0.85),
                LoadMode.OFF, "least-outstanding", 16, timeout, 3, Duration.ofSeconds(5), Duration.ofMillis(100));
        balancer = Balancer.start(settings, e -> { }, List::of, "balancer@test",
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), batched);
        balancer.addServer(replica);
        assertThat(balancer.members()).containsExactly(replica);
        return balancer.frontAddress();
    }

    private static DatagramSocket client() throws IOException {
        DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        socket.setSoTimeout(5000);
        return socket;
    }

    private static void ask(DatagramSocket client, InetSocketAddress front, long n) throws IOException {
        client.send(new DatagramPacket(Wire.request(n).array(), 4, front));
    }

    private static long answer(DatagramSocket client) throws IOException {
        DatagramPacket packet = new DatagramPacket(new byte[16], 16);
        client.receive(packet);
        assertThat(packet.getLength()).isEqualTo(8);
        return ByteBuffer.wrap(packet.getData()).getLong();
    }

    @ParameterizedTest(name = "batched {0}")
    @ValueSource(booleans = {true, false})
    void answersInReverseOrderReachTheirOwnClients(boolean batched) throws Exception {
        InetSocketAddress front = start(replica((read, socket) -> {
            if (read.size() == 3) { // all three in flight: answered last first
                for (int i = 2; i >= 0; i--) {
                    read.get(i).answer(socket);
                }
                read.clear();
            }
        }), Duration.ofSeconds(5), batched);
        try (DatagramSocket a = client(); DatagramSocket b = client(); DatagramSocket c = client()) {
            ask(a, front, 3);
            ask(b, front, 4);
            ask(c, front, 5);
            assertThat(answer(a)).isEqualTo(Wire.expected(3));
            assertThat(answer(b)).isEqualTo(Wire.expected(4));
            assertThat(answer(c)).isEqualTo(Wire.expected(5));
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> balancer.totals().answered() == 3);
        assertThat(balancer.totals().wrong()).isZero();
    }

    @ParameterizedTest(name = "batched {0}")
    @ValueSource(booleans = {true, false})
    void anAnswerAfterItsRequestWasGivenUpIsLateNotWrongAndTakesNoOtherRequestsPlace(boolean batched)
            throws Exception {
        // the first request is left unanswered until the second arrives: then its answer (late: it timed out) goes
        // first, the second's after it, so the late one arrives while the second is in flight
        InetSocketAddress front = start(replica((read, socket) -> {
            if (read.size() >= 2) {
                read.forEach(r -> r.answer(socket));
                read.clear();
            }
        }), Duration.ofMillis(300), batched);
        try (DatagramSocket client = client()) {
            ask(client, front, 5);
            await().atMost(Duration.ofSeconds(5)).until(() -> balancer.totals().timedOut() == 1);
            ask(client, front, 6);
            assertThat(answer(client)).as("the second question's answer, not the first's").isEqualTo(Wire.expected(6));
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> balancer.stray() == 1);
        assertThat(balancer.totals().wrong()).isZero();
        assertThat(balancer.totals().answered()).isEqualTo(1);
        assertThat(balancer.frontCounters().answered()).isEqualTo(1);
    }
}
