package io.vmscale.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.math.BigInteger;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class GuestServerTest {
    private static final BigInteger TWO = BigInteger.TWO;
    private static final BigInteger MOD = BigInteger.valueOf(Wire.MODULUS);

    private GuestServer server;
    private DatagramSocket client;

    @BeforeEach
    void start() throws IOException {
        server = GuestServer.start(new GuestServer.Options(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 2, 256));
        client = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        client.setSoTimeout(5000);
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
    }

    private long ask(long n) throws IOException {
        byte[] request = Wire.request(n).array();
        client.send(new DatagramPacket(request, request.length, server.address()));
        byte[] reply = new byte[16];
        DatagramPacket packet = new DatagramPacket(reply, reply.length);
        client.receive(packet);
        assertThat(packet.getLength()).as("reply length").isEqualTo(Wire.REPLY_BYTES);
        return ByteBuffer.wrap(reply, 0, 8).getLong();
    }

    private static long modPow(long n) {
        return TWO.modPow(BigInteger.valueOf(n), MOD).longValueExact();
    }

    @Test
    void answersTheEdgeCases() throws IOException {
        for (long n : new long[] {0, 1, 2, 9, 10, 1019, 1020, 1021, 1022, 2042, 100_000}) {
            assertThat(ask(n)).as("2^%d mod 1021", n).isEqualTo(modPow(n));
        }
        assertThat(ask(0)).isEqualTo(1);
        assertThat(ask(1021)).isEqualTo(2); // Fermat: 2^1020 = 1 mod the prime 1021
    }

    @Test
    void answersRandomValues() throws IOException {
        Random random = new Random(42);
        for (int i = 0; i < 200; i++) {
            long n = random.nextInt(2_000_000);
            assertThat(ask(n)).as("2^%d mod 1021", n).isEqualTo(modPow(n));
        }
        // the server counts an answer just after sending it: wait for the count, with a deadline
        await().atMost(Duration.ofSeconds(5)).until(() -> server.counters().answered() == 200);
    }

    @Test
    void readsTheRequestAsUnsigned() throws IOException {
        // 0x80000000 is negative as a Java int; the wire says unsigned. Checked through expected(),
        // the server's full computation would take seconds.
        long n = 0x8000_0000L;
        assertThat(Wire.getRequest(Wire.request(n))).isEqualTo(n);
        assertThat(Wire.expected(n)).isEqualTo(modPow(n));
        assertThat(Wire.expected(Wire.MAX_N)).isEqualTo(modPow(Wire.MAX_N));
    }

    @Test
    void expectedAgreesWithWorkAndWithBigInteger() {
        Random random = new Random(7);
        for (int i = 0; i < 1000; i++) {
            long n = random.nextInt(5000);
            assertThat(Wire.work(n)).isEqualTo(modPow(n));
            long big = random.nextLong() & Wire.MAX_N;
            assertThat(Wire.expected(big)).isEqualTo(modPow(big));
        }
    }

    @Test
    void survivesTenThousandGarbagePacketsAndStillAnswers() throws IOException {
        Random random = new Random(1);
        InetSocketAddress target = server.address();
        int sent = 0;
        for (int batch = 0; batch < 100; batch++) {
            for (int i = 0; i < 100; i++) {
                int length;
                do {
                    length = random.nextInt(i % 10 == 0 ? 2000 : 16);
                } while (length == Wire.REQUEST_BYTES);
                byte[] garbage = new byte[length];
                random.nextBytes(garbage);
                client.send(new DatagramPacket(garbage, length, target));
                sent++;
            }
            // pace the sender on what the server has read, so the kernel never drops on a full buffer
            int expected = sent;
            await().pollInterval(Duration.ofMillis(2)).atMost(Duration.ofSeconds(10))
                    .until(() -> server.counters().malformed() == expected);
        }
        GuestServer.Counters after = server.counters();
        assertThat(after.malformed()).isEqualTo(10_000);
        assertThat(after.answered()).isZero();
        assertThat(ask(1022)).isEqualTo(modPow(1022));
        client.setSoTimeout(200);
        // no answer was queued for any of the garbage: the next datagram in is nothing at all
        try {
            client.receive(new DatagramPacket(new byte[16], 16));
            throw new AssertionError("got a datagram nobody asked for");
        } catch (SocketTimeoutException expectedTimeout) {
            // nothing more arrived
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> server.counters().answered() == 1);
    }

    @Test
    void shedsLoadWhenTheQueueIsFullInsteadOfGrowing() throws IOException {
        try (GuestServer small = GuestServer.start(new GuestServer.Options(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1, 1))) {
            byte[] slow = Wire.request(200_000_000L).array(); // about a quarter of a second each
            for (int i = 0; i < 20; i++) {
                client.send(new DatagramPacket(slow, slow.length, small.address()));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> small.counters().received() == 20);
            assertThat(small.counters().rejected()).isGreaterThan(0);
            small.shutdown(Duration.ZERO);
        }
    }

    @Test
    void releasesThePortOnShutdown() throws IOException {
        InetSocketAddress address = server.address();
        server.shutdown(Duration.ofSeconds(1));
        try (GuestServer again = GuestServer.start(GuestServer.Options.defaults(address))) {
            assertThat(again.address()).isEqualTo(address);
        }
    }

    @Test
    void rejectsBadArguments() throws Exception {
        assertThat(GuestServerMain.run(new String[] {"--port", "abc"})).isEqualTo(2);
        assertThat(GuestServerMain.run(new String[] {"--port", "70000"})).isEqualTo(2);
        assertThat(GuestServerMain.run(new String[] {"--workers"})).isEqualTo(2);
        assertThat(GuestServerMain.run(new String[] {"--frobnicate"})).isEqualTo(2);
        assertThat(GuestServerMain.run(new String[] {"--help"})).isZero();
    }
}
