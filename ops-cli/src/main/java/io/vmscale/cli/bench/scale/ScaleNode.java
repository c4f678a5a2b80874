package io.vmscale.cli.bench.scale;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Role;
import io.vmscale.cli.common.BrokerClients;
import io.vmscale.cli.config.VmscaleConfig;
import io.vmscale.libvirt.HostConnection;
import io.vmscale.scaler.Scaler;
import io.vmscale.scaler.ScalerConfig;
import io.vmscale.scaler.provision.GuestImage;
import io.vmscale.scaler.provision.HostGroup;
import io.vmscale.scaler.provision.Provisioner;
import io.vmscale.scaler.provision.ReplicaNames;
import io.vmscale.scaler.provision.ReplicaProvisioner;
import io.vmscale.scaler.provision.ReplicaTemplate;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/**
 * The scaler's process of the scale bench: the real {@link Scaler} on the broker, over {@code hosts} simulated
 * hypervisors ({@link SimulatedHost}) that already run {@code replicas} replicas of its group, as a restarted scaler
 * finds them. Driven over stdin by {@link ScaleBench}: {@code report} prints one {@code report ...} line (ticks,
 * heap, the monitor's bulk call per host), {@code quit} removes every domain and exits.
 *
 * <p>Arguments: CONFIG HOSTS REPLICAS DIR (the bench's configuration file: broker, scaler section).
 */
public final class ScaleNode {
    static final String PREFIX = "scale";
    static final int PORT_BASE = 30000;

    private ScaleNode() {
    }

    /** The address the replicas of host {@code i} answer on: one loopback address per host. */
    static String address(int host) {
        return "127.0.0." + (host + 2);
    }

    public static void main(String[] args) throws Exception {
        VmscaleConfig config = io.vmscale.cli.config.ConfigLoader.load(Path.of(args[0]));
        int hostCount = Integer.parseInt(args[1]);
        int replicas = Integer.parseInt(args[2]);
        Path dir = Path.of(args[3]);
        Path template = dir.resolve("replica.xml");
        Files.writeString(template, """
                <domain type='${type}'><name>${name}</name><uuid>${uuid}</uuid>
                  <metadata><vmscale:replica xmlns:vmscale='https://vmscale.io/xmlns/replica/1' ip='${hostAddress}' port='${hostPort}'/></metadata>
                  <memory unit='MiB'>256</memory><vcpu>1</vcpu><os><type>hvm</type></os>
                </domain>
                """);
        int perHost = (replicas + hostCount - 1) / hostCount;
        try (Responders responders = new Responders()) {
            List<SimulatedHost> hosts = new ArrayList<>();
            List<ReplicaProvisioner> each = new ArrayList<>();
            for (int i = 0; i < hostCount; i++) {
                Path node = dir.resolve("host-" + i + ".xml");
                int cpus = Math.max(8, perHost * 2 + 8); // room to scale up, as a real fleet has
                Files.writeString(node, "<node><cpu><mhz>2000</mhz><model>x86_64</model><active>" + cpus
                        + "</active><nodes>1</nodes><sockets>1</sockets><cores>" + cpus
                        + "</cores><threads>1</threads></cpu><memory>" + (cpus * 1048576L) + "</memory></node>\n");
                HostConnection connection = HostConnection.open("test+unix://" + node.toAbsolutePath());
                if (!connection.connected()) {
                    throw new IllegalStateException(connection.uri() + " does not answer: is libvirtd running?");
                }
                SimulatedHost host = new SimulatedHost(connection, responders);
                hosts.add(host);
                each.add(ReplicaProvisioner.template(new ReplicaProvisioner.Settings(host, new ReplicaNames(PREFIX, 4),
                        true, 21001, PORT_BASE, true, ReplicaTemplate.load(template),
                        new GuestImage(dir.resolve("vmlinuz"), dir.resolve("initrd")), "test", address(i), -1)));
            }
            long t0 = System.nanoTime();
            Instant created = Instant.now().minusSeconds(3600); // running long before this scaler: warm at once
            for (int n = 0; n < replicas; n++) {
                int i = n % hostCount;
                String name = String.format(Locale.ROOT, "%s-%04d", PREFIX, n);
                hosts.get(i).define("<domain type='test'><name>" + name + "</name><uuid>" + UUID.randomUUID()
                        + "</uuid><metadata><vmscale:replica xmlns:vmscale='https://vmscale.io/xmlns/replica/1' ip='"
                        + address(i) + "' port='" + (PORT_BASE + n) + "' group='" + PREFIX + "' number='" + n
                        + "' created='" + created + "'/></metadata><memory unit='MiB'>256</memory><vcpu>1</vcpu>"
                        + "<os><type>hvm</type></os></domain>");
                hosts.get(i).start(name);
            }
            System.out.printf(Locale.ROOT, "node: %d replicas running on %d simulated hosts in %d ms%n", replicas,
                    hostCount, (System.nanoTime() - t0) / 1_000_000);
            Provisioner provisioner = hostCount == 1 ? each.get(0) : new HostGroup(each);
            ScalerConfig s = config.scaler();
            try (BrokerConnection connection = BrokerClients.connect(config.broker(), Role.COMPONENT, "scaler")) {
                Scaler scaler = Scaler.start(s, provisioner, connection::publish, hosts.get(0).uri(),
                        connection.source(), Scaler.Settings.of(s, config.balancer().work())
                                .withApplication(config.application()), Clock.systemUTC());
                scaler.listenTo(connection);
                System.out.println("node: scaler started");
                System.out.flush();
                BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                for (String line; (line = in.readLine()) != null && !line.equals("quit"); ) {
                    if (line.equals("report")) {
                        System.out.println(report(scaler, hosts));
                        System.out.flush();
                    }
                }
                scaler.close();
            } finally {
                for (SimulatedHost host : hosts) {
                    for (var d : host.domains(name -> name.startsWith(PREFIX + "-"))) {
                        try {
                            host.destroy(d.name());
                            host.undefine(d.name());
                        } catch (RuntimeException e) {
                            // gone already
                        }
                    }
                    host.connection().close();
                }
            }
        }
        System.out.println("node: done");
        System.out.flush();
        System.exit(0);
    }

    /**
     * {@code report ticks=N wallP50=NS wallP99=NS wallMax=NS cpuP50=NS cpuP99=NS heapMB=X bulkMs=X}: the ticks since
     * the last report, the heap in use after a collection, the monitor's bulk stats call per host (median).
     */
    private static String report(Scaler scaler, List<SimulatedHost> hosts) {
        Scaler.Ticks t = scaler.ticks();
        List<Long> bulk = new ArrayList<>();
        for (SimulatedHost host : hosts) {
            long b0 = System.nanoTime();
            host.connection().stats().domains(name -> name.startsWith(PREFIX + "-")); // what the monitor calls
            bulk.add(System.nanoTime() - b0);
        }
        bulk.sort(null);
        System.gc();
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        return String.format(Locale.ROOT, "report ticks=%d wallP50=%d wallP99=%d wallMax=%d cpuP50=%d cpuP99=%d "
                        + "heapMB=%.1f bulkMs=%.3f", t.count(), t.wallP50(), t.wallP99(), t.wallMax(), t.cpuP50(),
                t.cpuP99(), heap / 1e6, bulk.get(bulk.size() / 2) / 1e6);
    }
}
