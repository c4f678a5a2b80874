package io.vmscale.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Batches of datagrams through recvmmsg and sendmmsg on real loopback sockets. */
class DatagramsTest {

    @Test
    void batchesAreAvailableWhereTheTestsRun() {
        // the build exports sun.nio.ch to the tests, as the launcher's manifest does: without it every other test of
        // the balancer would quietly run the one-datagram-per-call path only
        assertThat(Datagrams.unavailable()).isNull();
        assertThat(Datagrams.available()).isTrue();
    }

    @Test
    void readsABatchWithLengthsValuesAndSenders() throws Exception {
        try (DatagramChannel server = bound(); DatagramChannel a = bound(); DatagramChannel b = bound()) {
            server.configureBlocking(false);
            InetSocketAddress to = (InetSocketAddress) server.getLocalAddress();
            Datagrams in = new Datagrams(4, 5);
            int fd = Datagrams.fd(server);
            assertThat(in.receive(fd, true)).as("nothing waiting").isZero();
            a.send(ByteBuffer.allocate(4).putInt(0, 7), to);
            b.send(ByteBuffer.allocate(4).putInt(0, -1), to);
            a.send(ByteBuffer.allocate(12), to); // longer than the buffer: cut to it
            List<Integer> lengths = new ArrayList<>();
            List<Integer> values = new ArrayList<>();
            List<InetSocketAddress> senders = new ArrayList<>();
            await().atMost(Duration.ofSeconds(5)).until(() -> {
                int got = in.receive(fd, true);
                for (int i = 0; i < got; i++) {
                    lengths.add(in.length(i));
                    values.add(in.getInt(i));
                    senders.add(in.address(i));
                }
                return lengths.size() == 3;
            });
            assertThat(lengths).containsExactly(4, 4, 5);
            assertThat(values).containsExactly(7, -1, 0);
            assertThat(senders).containsExactly((InetSocketAddress) a.getLocalAddress(),
                    (InetSocketAddress) b.getLocalAddress(), (InetSocketAddress) a.getLocalAddress());
        }
    }

    @Test
    void sendsABatchToSeveralAddressesInOneCall() throws Exception {
        try (DatagramChannel sender = bound(); DatagramChannel a = bound(); DatagramChannel b = bound()) {
            Datagrams out = new Datagrams(3, 8);
            out.addLong(1L, (InetSocketAddress) a.getLocalAddress(), false);
            out.addLong(Long.MIN_VALUE + 2, (InetSocketAddress) b.getLocalAddress(), false);
            out.addLong(3L, (InetSocketAddress) a.getLocalAddress(), false);
            assertThat(out.full()).isTrue();
            assertThat(out.send(Datagrams.fd(sender))).isEqualTo(3);
            assertThat(out.count()).isZero();
            assertThat(receiveLong(a)).isEqualTo(1L);
            assertThat(receiveLong(a)).isEqualTo(3L);
            assertThat(receiveLong(b)).isEqualTo(Long.MIN_VALUE + 2);
        }
    }

    @Test
    void anIpv4ClientOfADualStackSocketIsAnsweredAsV4Mapped() throws Exception {
        try (DatagramChannel dual = DatagramChannel.open(StandardProtocolFamily.INET6);
             DatagramChannel client = DatagramChannel.open(StandardProtocolFamily.INET)) {
            dual.bind(new InetSocketAddress(InetAddress.getByName("::"), 0));
            dual.configureBlocking(false);
            client.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            client.send(ByteBuffer.allocate(4).putInt(0, 42),
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), ((InetSocketAddress) dual.getLocalAddress()).getPort()));
            Datagrams in = new Datagrams(2, 5);
            int fd = Datagrams.fd(dual);
            await().atMost(Duration.ofSeconds(5)).until(() -> in.receive(fd, true) == 1);
            InetSocketAddress from = in.address(0);
            assertThat(from).as("as the JDK gives it: an IPv4 address").isEqualTo(client.getLocalAddress());
            Datagrams out = new Datagrams(1, 8);
            out.addLong(43L, from, true);
            assertThat(out.send(fd)).isEqualTo(1);
            assertThat(receiveLong(client)).isEqualTo(43L);
        }
    }

    @Test
    void aConnectedSocketHearsThatNobodyListens() throws Exception {
        InetSocketAddress nobody;
        try (DatagramChannel gone = DatagramChannel.open(StandardProtocolFamily.INET)) {
            gone.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            nobody = (InetSocketAddress) gone.getLocalAddress();
        }
        try (DatagramChannel channel = DatagramChannel.open(StandardProtocolFamily.INET)) {
            channel.configureBlocking(false);
            channel.connect(nobody);
            int fd = Datagrams.fd(channel);
            Datagrams out = new Datagrams(2, 4);
            out.addInt(1);
            out.send(fd);
            Datagrams in = new Datagrams(2, 16);
            // loopback's ICMP answer is reported at the next call on the socket
            assertThatThrownBy(() -> in.receive(fd, false)).isInstanceOf(PortUnreachableException.class);
        }
    }

    /** An IPv4 socket on loopback, on a port of its own. */
    private static DatagramChannel bound() throws IOException {
        DatagramChannel channel = DatagramChannel.open(StandardProtocolFamily.INET);
        channel.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        return channel;
    }

    private static long receiveLong(DatagramChannel channel) throws IOException {
        channel.configureBlocking(true);
        channel.socket().setSoTimeout(5000);
        java.net.DatagramPacket packet = new java.net.DatagramPacket(new byte[16], 16);
        channel.socket().receive(packet);
        assertThat(packet.getLength()).isEqualTo(8);
        return ByteBuffer.wrap(packet.getData()).getLong();
    }
}
