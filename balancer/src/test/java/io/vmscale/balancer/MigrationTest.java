package io.vmscale.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.guest.Wire;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A replica live-migrated under load, as the balancer sees it (real guest servers and a real silent socket
 * on loopback): while MIGRATING it gets requests only when no other replica can take them; when its QEMU
 * stops at the old endpoint (a socket that reads nothing: the paused source) and the scaler's READY names
 * the new one, what was in flight at the old endpoint is sent there again and answered; the monitor's
 * "stopped: migrated" from the old host does not take the replica out.
 */
class MigrationTest extends BalancerOnGuests {
    private static final String ONE = "qemu:///system";
    private static final String TWO = "qemu+tcp://127.0.0.2:16509/system";

    private void start(LoadMode mode) {
        start(mode, Duration.ofSeconds(2));
    }

    private void start(LoadMode mode, Duration timeout) {
        Balancer.Settings settings = new Balancer.Settings(0, 1000, Map.of("low", 0.3, "mid", 0.5, "high", 0.85),
                mode, "least-outstanding", 8, timeout, 3, Duration.ofSeconds(5), Duration.ofMillis(100))
                .withSlowStart(Duration.ZERO);
        balancer = Balancer.start(settings, e -> { }, List::of, "balancer@test");
    }

    private void lifecycle(String domain, String host, Endpoint endpoint, ReplicaState state, String reason) {
        balancer.onLifecycle(new VmLifecycle(domain, host, endpoint, state, reason));
    }

    private LbStats.ServerStats of(Endpoint endpoint) {
        LbStats stats = balancer.lastStats();
        return stats == null ? null : stats.servers().get(endpoint.toString());
    }

    @Test
    void aMigratingReplicaGetsNothingNewWhileAnotherCanTakeIt() throws Exception {
        Endpoint moving = guests.start();
        Endpoint staying = guests.start();
        start(LoadMode.custom(0.3));
        lifecycle("vmscale-0000", ONE, moving, ReplicaState.READY, "probe");
        lifecycle("vmscale-0001", ONE, staying, ReplicaState.READY, "probe");
        await().atMost(Duration.ofSeconds(10)).until(() -> of(moving) != null && of(moving).answered() > 30);
        lifecycle("vmscale-0000", ONE, moving, ReplicaState.MIGRATING, "to " + TWO);
        LbStats heard = balancer.onLoop(balancer::lastStats); // stats built before or as MIGRATING was handled
        await().atMost(Duration.ofSeconds(5)).until(() -> balancer.lastStats() != heard);
        long sentBefore = of(moving).sent();
        long staying0 = of(staying).answered();
        await().atMost(Duration.ofSeconds(10)).until(() -> of(staying).answered() > staying0 + 100);
        assertThat(of(moving).sent()).as("requests sent to it after MIGRATING").isEqualTo(sentBefore);
        assertThat(balancer.members()).contains(moving, staying);
    }

    /** A guest that answers until it is paused, like a QEMU at the switch-over: then it reads and answers nothing. */
    private static final class PausableGuest implements AutoCloseable {
        final DatagramSocket socket;
        volatile boolean paused;
        private final Thread thread;

        PausableGuest() throws java.io.IOException {
            socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            thread = new Thread(() -> {
                byte[] in = new byte[64];
                while (!socket.isClosed()) {
                    try {
                        java.net.DatagramPacket request = new java.net.DatagramPacket(in, in.length);
                        socket.receive(request);
                        if (paused || request.getLength() != Wire.REQUEST_BYTES) {
                            continue;
                        }
                        long n = Wire.getRequest(java.nio.ByteBuffer.wrap(in, 0, Wire.REQUEST_BYTES));
                        byte[] reply = java.nio.ByteBuffer.allocate(Wire.REPLY_BYTES).putLong(Wire.expected(n)).array();
                        socket.send(new java.net.DatagramPacket(reply, reply.length, request.getSocketAddress()));
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            }, "pausable-guest");
            thread.setDaemon(true);
            thread.start();
        }

        Endpoint endpoint() {
            return new Endpoint("127.0.0.1", socket.getLocalPort());
        }

        @Override
        public void close() {
            socket.close();
        }
    }

    @ParameterizedTest(name = "switch-over longer than the timeout: {0}")
    @ValueSource(booleans = {false, true})
    void whatWasInFlightAtTheOldEndpointIsAnsweredAtTheNewOneAndNothingIsLost(boolean longSwitchOver) throws Exception {
        Endpoint destination = guests.start();
        try (PausableGuest sourceGuest = new PausableGuest()) {
            Endpoint source = sourceGuest.endpoint();
            // 200 requests/s, one replica: it keeps getting them while it moves
            start(LoadMode.custom(0.2), longSwitchOver ? Duration.ofMillis(200) : Duration.ofSeconds(2));
            lifecycle("vmscale-0000", ONE, source, ReplicaState.READY, "probe");
            await().atMost(Duration.ofSeconds(10)).until(() -> of(source) != null && of(source).answered() > 50);
            lifecycle("vmscale-0000", ONE, source, ReplicaState.MIGRATING, "to " + TWO);
            sourceGuest.paused = true; // the switch-over: the source's QEMU stops; requests still reach it
            lifecycle("vmscale-0000", ONE, null, ReplicaState.PAUSED, "suspended: migrated"); // the monitor, source host
            await().atMost(Duration.ofSeconds(5)).until(() -> of(source) != null && of(source).inFlight() >= 8
                    && (!longSwitchOver || balancer.held(source) >= 16)); // timed out, held rather than lost
            assertThat(balancer.members()).as("still sent to while nothing else can take it").contains(source);
            lifecycle("vmscale-0000", TWO, destination, ReplicaState.READY, "moved from " + ONE + " (live migration)");
            lifecycle("vmscale-0000", ONE, null, ReplicaState.STOPPED, "stopped: migrated"); // the monitor, source host
            long answered = balancer.totals().answered();
            await().atMost(Duration.ofSeconds(10)).until(() -> balancer.totals().answered() > answered + 200
                    && of(source) == null); // the old endpoint retired: nothing of it left in flight
        }
        Balancer.Totals totals = balancer.totals();
        assertThat(totals.timedOut()).as("lost").isZero();
        assertThat(totals.wrong()).isZero();
        assertThat(balancer.members()).containsExactly(destination);
    }
}
