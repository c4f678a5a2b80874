package io.vmscale.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.VmLifecycle;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The balancer against real guest servers on loopback. */
class BalancerTest extends BalancerOnGuests {
    private final List<Event> published = new CopyOnWriteArrayList<>();
    private final AtomicReference<List<Endpoint>> running = new AtomicReference<>(List.of());
    private final AtomicInteger requestIds = new AtomicInteger();

    private Endpoint guest() throws IOException {
        return guest(0);
    }

    private Endpoint guest(int port) throws IOException {
        return guests.start(port);
    }

    private Balancer start(String dispatch, LoadMode mode, Duration ejectFor) {
        Balancer.Settings settings = new Balancer.Settings(0, 1000, Map.of("low", 0.3, "mid", 0.5, "high", 0.85),
                mode, dispatch, 8, Duration.ofMillis(200), 3, ejectFor, Duration.ofMillis(100));
        balancer = Balancer.start(settings, published::add, running::get, "balancer@test");
        return balancer;
    }

    private AdminResult command(String line) {
        return balancer.handle(new AdminCommand("r" + requestIds.incrementAndGet(), "vmscale.reply.t", "balancer",
                "line", List.of(line)));
    }

    private static LbStats.ServerStats of(LbStats stats, Endpoint endpoint) {
        return stats.servers().get(endpoint.toString());
    }

    @Test
    void roundRobinSpreadsEvenlyAndEveryAnswerIsChecked() throws Exception {
        List<Endpoint> endpoints = List.of(guest(), guest(), guest());
        // 600 requests/s; all three join in one turn, and room for 64 in flight each, so that a guest server's
        // thread starved for a moment on a busy machine is not skipped by the rotation (which would be right)
        balancer = Balancer.start(new Balancer.Settings(0, 1000, Map.of("low", 0.3, "mid", 0.5, "high", 0.85),
                LoadMode.OFF, "round-robin", 64, Duration.ofSeconds(2), 3, Duration.ofSeconds(5), Duration.ofMillis(100)),
                published::add, running::get, "balancer@test");
        endpoints.forEach(balancer::addServer);
        balancer.setMode(LoadMode.custom(0.6));
        await().atMost(Duration.ofSeconds(20)).until(() -> balancer.totals().answered() >= 600);
        balancer.setMode(LoadMode.OFF);
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            LbStats s = balancer.lastStats();
            return s != null && s.mode().equals("off") && s.servers().values().stream().allMatch(v -> v.inFlight() == 0);
        });
        LbStats stats = balancer.lastStats();
        List<Long> sent = endpoints.stream().map(e -> of(stats, e).sent()).toList();
        assertThat(sent.stream().mapToLong(Long::longValue).max().getAsLong()
                - sent.stream().mapToLong(Long::longValue).min().getAsLong()).as("spread of %s", sent).isLessThanOrEqualTo(1);
        assertThat(stats.answered()).isEqualTo(stats.sent());
        assertThat(stats.wrong()).isZero();
        assertThat(stats.timedOut()).isZero();
        assertThat(published).filteredOn(LbStats.class::isInstance).isNotEmpty();
    }

    @Test
    void ejectsAKilledReplicaAfterKTimeoutsSendsItNothingMoreAndProbesItBackIn() throws Exception {
        Endpoint healthy = guest();
        Endpoint doomed = guest();
        start("round-robin", LoadMode.custom(0.2), Duration.ofMillis(1500));
        balancer.addServer(healthy);
        balancer.addServer(doomed);
        await().atMost(Duration.ofSeconds(10)).until(() -> balancer.lastStats() != null
                && of(balancer.lastStats(), doomed) != null && of(balancer.lastStats(), doomed).answered() > 10);
        guests.get(1).close(); // killed: nobody listens on its port any more
        await().atMost(Duration.ofSeconds(10)).until(() -> of(balancer.lastStats(), doomed).ejected());
        assertThat(balancer.members()).containsExactly(healthy);
        LbStats ejected = balancer.lastStats();
        long sentWhenEjected = of(ejected, doomed).sent();
        long healthyBefore = of(ejected, healthy).answered();
        assertThat(of(ejected, doomed).timedOut()).isGreaterThanOrEqualTo(3);
        // while ejected, the healthy one gets everything and the dead one nothing
        await().atMost(Duration.ofSeconds(10)).until(() -> of(balancer.lastStats(), healthy).answered() >= healthyBefore + 100);
        assertThat(of(balancer.lastStats(), doomed).sent()).isEqualTo(sentWhenEjected);
        assertThat(of(balancer.lastStats(), doomed).ejected()).isTrue();
        // back on the same port: the probe after the ejection period lets it in again
        guest(doomed.port());
        await().atMost(Duration.ofSeconds(15)).until(() -> of(balancer.lastStats(), doomed).answered()
                > of(ejected, doomed).answered() + 5);
        assertThat(balancer.members()).contains(doomed);
        assertThat(balancer.lastStats().wrong()).isZero();
    }

    @Test
    void readyAndDrainingChangeMembershipAtOnceAndRequestsInFlightAreAccounted() throws Exception {
        Endpoint a = guest();
        start("least-outstanding", LoadMode.custom(0.3), Duration.ofSeconds(5));
        balancer.onLifecycle(new VmLifecycle("vmscale-0000", "qemu:///system", a, ReplicaState.READY, "probe answered"));
        assertThat(balancer.members()).containsExactly(a);
        await().atMost(Duration.ofSeconds(10)).until(() -> balancer.totals().sent() > 20);
        balancer.onLifecycle(new VmLifecycle("vmscale-0001", "qemu:///system", null, ReplicaState.RUNNING, "started"));
        balancer.onLifecycle(new VmLifecycle("vmscale-0000", "qemu:///system", a, ReplicaState.DRAINING, "scale down"));
        assertThat(balancer.members()).isEmpty();
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            LbStats s = balancer.lastStats();
            return s != null && s.answered() + s.timedOut() + s.wrong() == s.sent();
        });
        long sentAtDrain = balancer.lastStats().sent();
        // nothing more is sent to it: the count holds for a while of several stats intervals
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(3))
                .until(() -> balancer.lastStats().sent() == sentAtDrain);
        assertThat(balancer.lastStats().timedOut()).isZero();
    }

    @Test
    void aReplicaStoppedFromOutsideLeavesAtOnceByItsDomainName() throws Exception {
        Endpoint a = guest();
        Endpoint b = guest();
        start("round-robin", LoadMode.OFF, Duration.ofSeconds(5));
        balancer.onLifecycle(new VmLifecycle("vmscale-0000", "qemu:///system", a, ReplicaState.READY, "probe answered"));
        balancer.onLifecycle(new VmLifecycle("vmscale-0001", "qemu:///system", b, ReplicaState.READY, "probe answered"));
        assertThat(balancer.members()).containsExactly(a, b);
        // what the monitor publishes on a virsh destroy: the domain, no endpoint
        balancer.onLifecycle(new VmLifecycle("vmscale-0000", "qemu:///system", null, ReplicaState.STOPPED,
                "stopped: destroyed"));
        assertThat(balancer.members()).containsExactly(b);
        balancer.onLifecycle(new VmLifecycle("vmscale-0009", "qemu:///system", null, ReplicaState.FAILED, "crashed"));
        assertThat(balancer.members()).containsExactly(b);
    }

    @Test
    void everyCommandOfTheOriginalSyntaxWorks() throws Exception {
        Endpoint a = guest();
        Endpoint b = guest();
        start("round-robin", LoadMode.OFF, Duration.ofSeconds(5));
        assertThat(command("+ 127.0.0.1 " + a.port())).extracting(AdminResult::ok, AdminResult::message)
                .containsExactly(true, "added 127.0.0.1:" + a.port());
        assertThat(command("+ 127.0.0.1 " + b.port()).ok()).isTrue();
        assertThat(balancer.members()).containsExactly(a, b);
        assertThat(command("- 127.0.0.1 " + a.port()).ok()).isTrue();
        assertThat(balancer.members()).containsExactly(b);
        assertThat(command("clear_servers").message()).isEqualTo("servers: 0 (0 added, 1 removed)");
        assertThat(balancer.members()).isEmpty();
        running.set(List.of(a, b));
        assertThat(command("refresh").message()).isEqualTo("servers: 2 (2 added, 0 removed)");
        assertThat(balancer.members()).containsExactly(a, b);
        assertThat(command("low").message()).isEqualTo("load low: 300.0 requests/s");
        assertThat(command("mid").message()).isEqualTo("load mid: 500.0 requests/s");
        assertThat(command("high").message()).isEqualTo("load high: 850.0 requests/s");
        assertThat(command("custom 0.3").message()).isEqualTo("load custom 0.3: 300.0 requests/s");
        await().atMost(Duration.ofSeconds(10)).until(() -> balancer.totals().answered() > 50);
        assertThat(balancer.lastStats().mode()).isEqualTo("custom 0.3");
    }

    @Test
    void aMalformedCommandGetsAClearErrorAndChangesNothing() throws Exception {
        Endpoint a = guest();
        start("round-robin", LoadMode.OFF, Duration.ofSeconds(5));
        command("+ 127.0.0.1 " + a.port());
        command("low");
        for (String bad : List.of("+ 1.2.3", "custom abc", "- 999.1.1.1 0", "", "x".repeat(10_000),
                "- 127.0.0.1 9", "+ 127.0.0.1 " + a.port())) {
            AdminResult result = command(bad);
            assertThat(result.ok()).as(bad.length() > 30 ? "10 kB of garbage" : bad).isFalse();
            assertThat(result.message()).isNotBlank();
        }
        assertThat(command("- 127.0.0.1 9").message()).isEqualTo("no server 127.0.0.1:9 in the list");
        assertThat(balancer.members()).containsExactly(a);
        await().atMost(Duration.ofSeconds(5)).until(() -> balancer.lastStats() != null);
        assertThat(balancer.lastStats().mode()).isEqualTo("low");
    }

    @Test
    void addIsRefusedOutsideTheAllowedNetworksAndCustomAboveTheCap() throws Exception {
        Endpoint a = guest();
        Balancer.Settings settings = new Balancer.Settings(0, 1000, Map.of("low", 0.3, "mid", 0.5, "high", 0.85),
                LoadMode.OFF, "round-robin", 8, Duration.ofMillis(200), 3, Duration.ofSeconds(5), Duration.ofMillis(100))
                .withLimits(List.of("127.0.0.0/8"), 2.5);
        balancer = Balancer.start(settings, published::add, running::get, "balancer@test");
        AdminResult refused = command("+ 10.9.8.7 21001");
        assertThat(refused.ok()).isFalse();
        assertThat(refused.message()).isEqualTo(
                "refused: 10.9.8.7 is outside the networks replicas may be added from (127.0.0.0/8)");
        assertThat(command("+ 127.0.0.1 " + a.port()).ok()).isTrue();
        assertThat(balancer.members()).containsExactly(a);
        AdminResult tooMuch = command("custom 2.6");
        assertThat(tooMuch.ok()).isFalse();
        assertThat(tooMuch.message()).isEqualTo("refused: custom 2.6 is above the most this balancer offers, "
                + "2.5 replicas' worth");
        assertThat(command("custom 2.5").ok()).isTrue();
        await().atMost(Duration.ofSeconds(5)).until(() -> balancer.lastStats() != null
                && balancer.lastStats().mode().equals("custom 2.5"));
        command("off");
    }

    @Test
    void playsAScheduledLoadProfileAndStaysOnItsLastStep() throws Exception {
        Endpoint a = guest();
        Balancer.Settings settings = new Balancer.Settings(0, 1000, Map.of("low", 0.3, "mid", 0.5, "high", 0.85),
                LoadMode.OFF, "round-robin", 8, Duration.ofSeconds(1), 3, Duration.ofSeconds(5), Duration.ofMillis(100),
                List.of(new Balancer.Step(new LoadMode("low", 0.3), Duration.ofMillis(600)),
                        new Balancer.Step(new LoadMode("high", 0.85), Duration.ofMillis(600)),
                        new Balancer.Step(LoadMode.OFF, Duration.ofMillis(100))));
        balancer = Balancer.start(settings, published::add, running::get, "balancer@test");
        balancer.addServer(a);
        List<String> modes = new CopyOnWriteArrayList<>();
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            LbStats s = balancer.lastStats();
            if (s != null && (modes.isEmpty() || !modes.get(modes.size() - 1).equals(s.mode()))) {
                modes.add(s.mode());
            }
            return modes.contains("off");
        });
        assertThat(modes).containsSubsequence("low", "high", "off");
        long sentWhenOff = balancer.lastStats().sent();
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(3))
                .until(() -> balancer.lastStats().sent() == sentWhenOff && balancer.lastStats().mode().equals("off"));
    }

    @Test
    void countsWrongAnswers() throws Exception {
        try (DatagramSocket liar = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            Thread t = new Thread(() -> {
                byte[] in = new byte[16];
                try {
                    while (true) {
                        DatagramPacket p = new DatagramPacket(in, in.length);
                        liar.receive(p);
                        byte[] out = ByteBuffer.allocate(8).putLong(42).array(); // 2^0 mod 1021 is 1, not 42
                        liar.send(new DatagramPacket(out, 8, p.getSocketAddress()));
                    }
                } catch (IOException closed) {
                    // done
                }
            });
            t.setDaemon(true);
            t.start();
            start("round-robin", LoadMode.custom(0.1), Duration.ofSeconds(5));
            balancer.addServer(new Endpoint("127.0.0.1", liar.getLocalPort()));
            await().atMost(Duration.ofSeconds(10)).until(() -> balancer.totals().wrong() >= 5);
            assertThat(balancer.totals().answered()).isZero();
        }
    }
}
