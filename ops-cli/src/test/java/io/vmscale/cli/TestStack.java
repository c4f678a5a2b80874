package io.vmscale.cli;

import static org.awaitility.Awaitility.await;

import io.vmscale.balancer.Balancer;
import io.vmscale.balancer.BalancerService;
import io.vmscale.broker.BrokerConfig;
import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.EmbeddedBroker;
import io.vmscale.broker.Role;
import io.vmscale.broker.TestBrokers;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.cli.config.ConfigLoader;
import io.vmscale.cli.config.VmscaleConfig;
import io.vmscale.guest.GuestServer;
import io.vmscale.libvirt.HostConnection;
import io.vmscale.scaler.Scaler;
import io.vmscale.scaler.provision.LibvirtHypervisor;
import io.vmscale.scaler.provision.Replica;
import io.vmscale.scaler.provision.ReplicaNames;
import io.vmscale.scaler.provision.ReplicaProvisioner;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Broker, balancer and scaler in this JVM, for operator tests; the scaler starts with {@link #startScaler}. The scaler works a pool of domains
 * on libvirt's test driver whose metadata points at real guest servers on loopback: scale-ups are
 * probed with real requests, scale-downs drain through real balancer stats. No CPU monitor: the
 * test driver's domains burn no CPU, so tests publish the samples.
 */
public final class TestStack implements AutoCloseable {
    public static final String URI = "test:///default";

    public final Path config;
    public final VmscaleConfig loaded;
    public final EmbeddedBroker broker;
    public Scaler scaler;
    private ReplicaProvisioner provisioner;
    private BrokerConnection scalerConnection;
    public final Balancer balancer;
    private final List<AutoCloseable> running = new ArrayList<>();

    /**
     * @param scaler the {@code scaler} section of the configuration, as JSON
     */
    public TestStack(Path dir, String prefix, int pool, String scaler) throws IOException {
        BrokerConfig brokerConfig = TestBrokers.config(dir.resolve("broker"));
        config = dir.resolve("vmscale.json");
        Files.writeString(config, """
                {"broker": {"port": %d, "dataDir": "%s", "users": [
                   {"name": "comp", "password": "comp-secret", "role": "component"},
                   {"name": "op", "password": "op-secret", "role": "operator"},
                   {"name": "view", "password": "view-secret", "role": "viewer"}]},
                 "libvirt": {"uris": ["test:///default"], "prefix": "%s"},
                 "provisioning": {"mode": "pool"},
                 "balancer": {"statsIntervalMs": 200},
                 "scaler": %s}
                """.formatted(brokerConfig.port(), brokerConfig.dataDir(), prefix, scaler));
        loaded = ConfigLoader.load(config);
        try {
            broker = EmbeddedBroker.start(loaded.broker());
            running.add(broker);
            HostConnection host = HostConnection.open(URI);
            running.add(host);
            for (int i = 0; i < pool; i++) {
                GuestServer guest = GuestServer.start(GuestServer.Options.defaults(
                        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)));
                running.add(guest);
                host.domains().define(poolDomain(prefix + "-000" + i, guest.address().getPort()));
            }
            ReplicaProvisioner provisioner = ReplicaProvisioner.pool(new ReplicaProvisioner.Settings(new LibvirtHypervisor(host),
                    new ReplicaNames(prefix, 4), true, 0, 0, false, null, null, null));
            BrokerConnection balancerConnection = broker.connect(Role.COMPONENT, BrokerConnection.source("balancer"));
            BrokerConnection scalerConnection = broker.connect(Role.COMPONENT, BrokerConnection.source("scaler"));
            running.add(balancerConnection);
            running.add(scalerConnection);
            BalancerService service = BalancerService.start(balancerConnection, Balancer.settings(loaded.balancer()),
                    () -> provisioner.running().stream().map(Replica::endpoint).toList(), null);
            running.add(service);
            this.balancer = service.balancer();
            this.provisioner = provisioner;
            this.scalerConnection = scalerConnection;
        } catch (RuntimeException | IOException e) {
            close();
            throw e;
        }
    }

    /** Starts the scaler: its first decision comes at once, so subscribe before. */
    public TestStack startScaler() {
        scaler = Scaler.start(loaded.scaler(), provisioner, scalerConnection::publish, URI, scalerConnection.source(),
                Scaler.Settings.of(loaded.scaler()), Clock.systemUTC());
        running.add(scaler);
        scaler.listenTo(scalerConnection);
        return this;
    }

    /** A pool domain of 1 MiB: the test driver says 3 MiB are free, and a scale-up needs room for one replica. */
    public static String poolDomain(String name, int port) {
        return "<domain type='test'><name>" + name + "</name><memory unit='KiB'>1024</memory><vcpu>1</vcpu>"
                + "<os><type>hvm</type></os><metadata><vmscale:replica xmlns:vmscale='https://vmscale.io/xmlns/replica/1'"
                + " ip='127.0.0.1' port='" + port + "'/></metadata></domain>";
    }

    public long ready() {
        return scaler.replicas().values().stream().filter(s -> s == ReplicaState.READY).count();
    }

    public List<String> readyDomains() {
        return scaler.replicas().entrySet().stream().filter(e -> e.getValue() == ReplicaState.READY)
                .map(Map.Entry::getKey).toList();
    }

    public void awaitReady(int n) {
        await().atMost(Duration.ofSeconds(20)).until(() -> ready() == n && scaler.replicas().size() == n);
    }

    @Override
    public void close() {
        for (int i = running.size() - 1; i >= 0; i--) {
            try {
                running.get(i).close();
            } catch (Exception e) {
                // going anyway
            }
        }
        // the test driver is shared by the whole JVM: leave no domain of ours behind
        try (HostConnection host = HostConnection.open(URI)) {
            for (var d : host.stats().perDomain(name -> true)) {
                if (config != null && d.name().startsWith(loaded.libvirt().prefix() + "-")) {
                    if (d.state().active()) {
                        host.domains().destroy(d.name());
                    }
                    host.domains().undefine(d.name());
                }
            }
        } catch (RuntimeException e) {
            // best effort
        }
    }
}
