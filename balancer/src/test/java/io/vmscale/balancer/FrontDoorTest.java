package io.vmscale.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.event.Endpoint;
import io.vmscale.guest.GuestServer;
import io.vmscale.guest.Wire;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Outside clients through the front door, to guest servers and to a server that is not ours. */
class FrontDoorTest extends BalancerOnGuests {

    /** Datagrams in batches (recvmmsg, sendmmsg); {@link FrontDoorPerDatagramTest} runs the same one per call. */
    boolean batched() {
        return true;
    }

    private Endpoint guest() throws IOException {
        return guests.startWithDefaults();
    }

    private InetSocketAddress startFrontDoor(List<Endpoint> servers) {
        return startFrontDoor(servers, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    private InetSocketAddress startFrontDoor(List<Endpoint> servers, InetSocketAddress bind) {
        // a request gets two tries of 2 s each at most, inside the clients' 5 s: a replica stalled for over a second
        // on a busy machine (load average 7-10 here) must not be what decides whether a client gets its answer
        Balancer.Settings settings = new Balancer.Settings(0, 1000, Map.of("low", 0.3, "mid", 0.5, "high", 0.85),
                LoadMode.OFF, "least-outstanding", 16, Duration.ofMillis(2000), 3, Duration.ofSeconds(5),
                Duration.ofMillis(100));
        balancer = Balancer.start(settings, e -> { }, List::of, "balancer@test", bind, batched());
        servers.forEach(balancer::addServer);
        assertThat(balancer.members()).containsExactlyElementsOf(servers); // the additions have taken effect
        return balancer.frontAddress();
    }

    private static long ask(DatagramSocket client, InetSocketAddress front, long n) throws IOException {
        byte[] request = Wire.request(n).array();
        client.send(new DatagramPacket(request, 4, front));
        byte[] reply = new byte[16];
        DatagramPacket packet = new DatagramPacket(reply, reply.length);
        client.receive(packet);
        assertThat(packet.getLength()).isEqualTo(8);
        return ByteBuffer.wrap(reply).getLong();
    }

    private static DatagramSocket client() throws IOException {
        DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        socket.setSoTimeout(5000);
        return socket;
    }

    @Test
    void answersEachClientItsOwnQuestion() throws Exception {
        InetSocketAddress front = startFrontDoor(List.of(guest(), guest()));
        try (DatagramSocket a = client(); DatagramSocket b = client()) {
            Random random = new Random(3);
            for (int i = 0; i < 200; i++) {
                long n = random.nextInt(50_000);
                long m = random.nextInt(50_000);
                byte[] ra = Wire.request(n).array();
                byte[] rb = Wire.request(m).array();
                a.send(new DatagramPacket(ra, 4, front)); // both in flight at once
                b.send(new DatagramPacket(rb, 4, front));
                byte[] reply = new byte[16];
                DatagramPacket pa = new DatagramPacket(reply, reply.length);
                a.receive(pa);
                assertThat(ByteBuffer.wrap(reply).getLong()).isEqualTo(Wire.expected(n));
                DatagramPacket pb = new DatagramPacket(reply, reply.length);
                b.receive(pb);
                assertThat(ByteBuffer.wrap(reply).getLong()).isEqualTo(Wire.expected(m));
            }
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> balancer.frontCounters().answered() == 400);
        assertThat(balancer.lastStats().servers().values()).allSatisfy(s -> assertThat(s.answered()).isPositive());
    }

    /** Sockets are opened in the address's own family (IPv4 for IPv4): IPv6 front door and replicas still work. */
    @Test
    void servesOverIpv6() throws Exception {
        InetAddress v6 = InetAddress.getByName("::1");
        GuestServer server = GuestServer.start(GuestServer.Options.defaults(new InetSocketAddress(v6, 0)));
        try (server; DatagramSocket client = new DatagramSocket(new InetSocketAddress(v6, 0))) {
            client.setSoTimeout(5000);
            InetSocketAddress front = startFrontDoor(List.of(new Endpoint("::1", server.address().getPort())),
                    new InetSocketAddress(v6, 0));
            for (long n : new long[] {0, 1, 1022, 77_777}) {
                assertThat(ask(client, front, n)).as("2^%d mod 1021", n).isEqualTo(Wire.expected(n));
            }
        }
    }

    /** A front door on the wildcard address keeps a dual-stack socket: IPv4 and IPv6 clients alike. */
    @Test
    void aWildcardFrontDoorTakesIpv4AndIpv6Clients() throws Exception {
        int port = startFrontDoor(List.of(guest()), new InetSocketAddress(InetAddress.getByName("0.0.0.0"), 0)).getPort();
        try (DatagramSocket v4 = client(); DatagramSocket v6 = new DatagramSocket(new InetSocketAddress("::1", 0))) {
            v6.setSoTimeout(5000);
            assertThat(ask(v4, new InetSocketAddress("127.0.0.1", port), 5)).isEqualTo(Wire.expected(5));
            assertThat(ask(v6, new InetSocketAddress("::1", port), 6)).isEqualTo(Wire.expected(6));
        }
    }

    @Test
    void survivesTenThousandGarbagePacketsAndStillAnswers() throws Exception {
        InetSocketAddress front = startFrontDoor(List.of(guest()));
        Random random = new Random(9);
        try (DatagramSocket client = client()) {
            for (int batch = 0; batch < 100; batch++) {
                for (int i = 0; i < 100; i++) {
                    int length;
                    do {
                        length = random.nextInt(i % 10 == 0 ? 1500 : 12);
                    } while (length == 4);
                    byte[] garbage = new byte[length];
                    random.nextBytes(garbage);
                    client.send(new DatagramPacket(garbage, length, front));
                }
                long expected = (batch + 1) * 100L;
                // paced on what the front door has read, so no datagram is lost in a full socket buffer
                await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(10))
                        .until(() -> balancer.frontCounters().garbage() >= expected);
            }
            assertThat(ask(client, front, 1022)).isEqualTo(4);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> balancer.frontCounters().answered() == 1);
        assertThat(balancer.frontCounters().garbage()).isEqualTo(10_000);
        assertThat(balancer.totals().wrong()).isZero();
    }

    @Test
    void triesAnotherReplicaWhenOneDoesNotAnswer() throws Exception {
        Endpoint alive = guest();
        Endpoint dead;
        try (DatagramSocket closedSoon = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            dead = new Endpoint("127.0.0.1", closedSoon.getLocalPort());
        }
        InetSocketAddress front = startFrontDoor(List.of(dead, alive));
        try (DatagramSocket client = client()) {
            for (int i = 0; i < 50; i++) {
                try {
                    assertThat(ask(client, front, 1000 + i)).isEqualTo(Wire.expected(1000 + i));
                } catch (java.net.SocketTimeoutException e) {
                    throw new AssertionError("request " + i + ": " + balancer.frontCounters() + " " + balancer.totals()
                            + " dead " + dead + " alive " + alive, e);
                }
            }
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> balancer.frontCounters().answered() == 50);
        assertThat(balancer.frontCounters().retried()).isPositive();
    }

    @Test
    void worksInFrontOfAServerThatIsNotOurs() throws Exception {
        String python = """
                import socket, struct, sys
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind(('127.0.0.1', 0))
                print(s.getsockname()[1], flush=True)
                s.settimeout(30)
                for _ in range(100000):
                    data, addr = s.recvfrom(64)
                    if len(data) == 4:
                        s.sendto(struct.pack('>Q', pow(2, struct.unpack('>I', data)[0], 1021)), addr)
                """;
        Process server = new ProcessBuilder("python3", "-c", python).redirectErrorStream(true).start();
        try {
            String port = server.inputReader(StandardCharsets.UTF_8).readLine();
            InetSocketAddress front = startFrontDoor(List.of(new Endpoint("127.0.0.1", Integer.parseInt(port.trim()))));
            try (DatagramSocket client = client()) {
                for (long n : new long[] {0, 1, 1020, 1021, 1022, 77_777}) {
                    assertThat(ask(client, front, n)).as("2^%d mod 1021", n).isEqualTo(Wire.expected(n));
                }
            }
        } finally {
            server.destroy();
            server.waitFor(5, TimeUnit.SECONDS);
        }
    }
}
