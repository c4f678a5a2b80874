package io.vmscale.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.BrokerConfig;
import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.EmbeddedBroker;
import io.vmscale.broker.Role;
import io.vmscale.broker.Subscription;
import io.vmscale.broker.TestBrokers;
import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.VmLifecycle;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The membership is right after the broker restarts, although lifecycle events published before the
 * balancer subscribed again are not heard: it is resynced from the scaler's listing, and a replica
 * the listing shows draining or stopped is never taken back.
 */
class ResyncTest extends BalancerOnGuests {
    private static final Balancer.Settings SETTINGS = new Balancer.Settings(0, 1000,
            Map.of("low", 0.3, "mid", 0.5, "high", 0.85), new LoadMode("low", 0.3), "round-robin", 8,
            Duration.ofSeconds(1), 3, Duration.ofSeconds(2), Duration.ofMillis(200));
    @TempDir
    Path dataDir;
    private EmbeddedBroker broker;

    @AfterEach
    void stopBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    /**
     * Stands in for the scaler on the broker: publishes its replicas' lifecycle and answers
     * {@code status} with them ({@code data.replicas}: domain, state, endpoint), as {@code Scaler} does.
     */
    private static final class ScalerStandIn implements AutoCloseable {
        private final Map<String, VmLifecycle> replicas = new LinkedHashMap<>();
        private final Subscription commands;

        ScalerStandIn(BrokerConnection connection) {
            commands = connection.subscribe(AdminCommand.class, e -> {
                if (e.body().target().equals("scaler") && e.body().command().equals("status")) {
                    connection.publish(e.body().replyTo(), new AdminResult(e.body().requestId(), "scaler@test", true,
                            "status", Map.of("replicas", listing())));
                }
            });
        }

        private synchronized List<Map<String, Object>> listing() {
            return replicas.values().stream().map(r -> {
                Map<String, Object> replica = new LinkedHashMap<>();
                replica.put("domain", r.domain());
                replica.put("state", r.state().name());
                replica.put("endpoint", r.endpoint() == null ? null : r.endpoint().toString());
                return replica;
            }).toList();
        }

        /** The replica's new state, published on {@code via}; {@code listed} false: it is gone from the listing. */
        synchronized void set(BrokerConnection via, String domain, Endpoint endpoint, ReplicaState state, boolean listed) {
            VmLifecycle event = new VmLifecycle(domain, "qemu:///system", endpoint, state, "test");
            if (listed) {
                replicas.put(domain, event);
            } else {
                replicas.remove(domain);
            }
            via.publish(event);
        }

        @Override
        public void close() {
            commands.close();
        }
    }

    @Test
    void eventsMissedWhileTheBrokerRestartedAreMadeUpFromTheScalersListing() throws Exception {
        BrokerConfig config = TestBrokers.config(dataDir, TestBrokers.USERS);
        broker = EmbeddedBroker.start(config);
        Endpoint a = guests.start();
        Endpoint b = guests.start();
        Endpoint c = guests.start();
        Endpoint d = guests.start();
        // the balancer's connection retries first after 3 s: the events below go out while it is surely still away
        try (BrokerConnection balancerConnection = BrokerConnection.open(broker.tcpUrl(), "monitor", "monitor-secret",
                "balancer@test", java.time.Clock.systemUTC(), Duration.ofSeconds(3));
             BrokerConnection scalerConnection = BrokerConnection.open(broker.tcpUrl(), "monitor", "monitor-secret",
                     "scaler@test");
             ScalerStandIn scaler = new ScalerStandIn(scalerConnection);
             BalancerService service = BalancerService.start(balancerConnection, SETTINGS, List::of, null)) {
            scaler.set(scalerConnection, "vmscale-0000", a, ReplicaState.READY, true);
            scaler.set(scalerConnection, "vmscale-0001", b, ReplicaState.READY, true);
            scaler.set(scalerConnection, "vmscale-0003", d, ReplicaState.READY, true);
            await().atMost(Duration.ofSeconds(10)).until(() -> service.balancer().members().equals(List.of(a, b, d)));

            broker.close();
            await().atMost(Duration.ofSeconds(10)).until(balancerConnection::brokerAway);
            broker = EmbeddedBroker.start(config);
            // at once, in the broker's JVM, before the balancer's connection is back: events it cannot hear
            try (BrokerConnection inVm = broker.connect(Role.COMPONENT, "scaler@test")) {
                scaler.set(inVm, "vmscale-0001", b, ReplicaState.DRAINING, true);
                scaler.set(inVm, "vmscale-0002", c, ReplicaState.READY, true);
                scaler.set(inVm, "vmscale-0003", null, ReplicaState.STOPPED, false);
                await().atMost(Duration.ofSeconds(5)).until(() -> inVm.pending() == 0);
                assertThat(balancerConnection.brokerAway()).as("the balancer's connection still away when they went out")
                        .isTrue();
            }

            await().atMost(Duration.ofSeconds(20)).until(() -> service.resyncs() == 1);
            assertThat(service.balancer().members()).as("B draining, D stopped and gone, C ready").containsExactly(a, c);
            long answered = service.balancer().answered(c);
            await().atMost(Duration.ofSeconds(10)).until(() -> service.balancer().answered(c) > answered);
            assertThat(service.balancer().members()).containsExactly(a, c);
        }
    }

    @Test
    void eventsHeardAfterTheMarkWinOverTheListingAndOperatorsReplicasAreLeftAlone() throws Exception {
        Endpoint x = guests.start();
        Endpoint y = guests.start();
        Endpoint w = guests.start();
        Endpoint added = guests.start();
        balancer = Balancer.start(SETTINGS, e -> { }, List::of, "balancer@test");
        balancer.onLifecycle(new VmLifecycle("x", "h", x, ReplicaState.READY, "probe"));
        balancer.onLifecycle(new VmLifecycle("w", "h", w, ReplicaState.READY, "probe"));
        balancer.addServer(added);
        long mark = balancer.lifecycleMark();
        balancer.onLifecycle(new VmLifecycle("x", "h", null, ReplicaState.DRAINING, "scale down"));
        // a listing from before x drained, without w, with y ready
        balancer.resync(mark, List.of(new VmLifecycle("x", "h", x, ReplicaState.READY, "listed"),
                new VmLifecycle("y", "h", y, ReplicaState.READY, "listed")));
        assertThat(balancer.members()).as("x drained after the mark, w not listed, y listed, the operator's kept")
                .containsExactlyInAnyOrder(y, added);
    }

    /**
     * {@code refresh} takes the replicas the scaler lists READY: a draining one (still running in libvirt) gets no
     * request. Without a scaler to answer, it falls back to libvirt's running domains.
     */
    @Test
    void refreshTakesWhatTheScalerListsReadyAndLibvirtsRunningDomainsOnlyWithoutAScaler() throws Exception {
        broker = EmbeddedBroker.start(TestBrokers.config(dataDir, TestBrokers.USERS));
        Endpoint a = guests.start();
        Endpoint b = guests.start();
        Endpoint c = guests.start();
        AdminCommand refresh = new AdminCommand("r-1", "vmscale.reply.test", "balancer", "refresh", List.of());
        try (BrokerConnection balancerConnection = BrokerConnection.open(broker.tcpUrl(), "monitor", "monitor-secret",
                "balancer@test");
             BrokerConnection scalerConnection = BrokerConnection.open(broker.tcpUrl(), "monitor", "monitor-secret",
                     "scaler@test");
             BalancerService service = BalancerService.start(balancerConnection, SETTINGS, () -> List.of(a, b, c), null)) {
            try (ScalerStandIn scaler = new ScalerStandIn(scalerConnection)) {
                scaler.set(scalerConnection, "vmscale-0000", a, ReplicaState.READY, true);
                scaler.set(scalerConnection, "vmscale-0001", b, ReplicaState.READY, true);
                await().atMost(Duration.ofSeconds(10)).until(() -> service.balancer().members().equals(List.of(a, b)));
                scaler.set(scalerConnection, "vmscale-0001", b, ReplicaState.DRAINING, true);
                scaler.set(scalerConnection, "vmscale-0002", c, ReplicaState.POOLED, true);
                await().atMost(Duration.ofSeconds(10)).until(() -> service.balancer().members().equals(List.of(a)));

                AdminResult result = service.balancer().handle(refresh);
                assertThat(result.ok()).as(result.message()).isTrue();
                assertThat(service.balancer().members()).as("b drains, c is parked: both run in libvirt")
                        .containsExactly(a);
            }
            AdminResult result = service.balancer().handle(refresh); // no scaler any more
            assertThat(result.ok()).as(result.message()).isTrue();
            assertThat(service.balancer().members()).containsExactlyInAnyOrder(a, b, c);
        }
    }
}
