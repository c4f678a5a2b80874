package io.vmscale.scaler.provision;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** Whether a host port can take a replica's forward: held by any process here, no; on another host's address, yes. */
class HostPortTest {

    @Test
    void aPortAnySocketHoldsIsNotFreeAndIsOnceItIsClosed() throws Exception {
        int port;
        try (DatagramSocket held = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            port = held.getLocalPort();
            assertThat(ReplicaProvisioner.udpPortFree("127.0.0.1", port)).isFalse();
        }
        assertThat(ReplicaProvisioner.udpPortFree("127.0.0.1", port)).isTrue();
    }

    @Test
    void anAddressThisMachineDoesNotHaveCountsAsFree() {
        // TEST-NET-1 (RFC 5737): never a local address; binding to it fails at once, nothing is sent
        assertThat(ReplicaProvisioner.udpPortFree("192.0.2.1", 21100)).isTrue();
    }
}
