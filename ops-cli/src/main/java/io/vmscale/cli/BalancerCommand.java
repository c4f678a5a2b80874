package io.vmscale.cli;

import io.vmscale.balancer.Balancer;
import io.vmscale.cli.stack.Stack;
import io.vmscale.balancer.LoadMode;
import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Role;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.LbStats;
import io.vmscale.cli.common.BrokerClients;
import io.vmscale.cli.common.ConfigOption;
import io.vmscale.cli.common.Local;
import io.vmscale.cli.config.VmscaleConfig;
import io.vmscale.libvirt.HostConnection;
import io.vmscale.scaler.provision.LibvirtHypervisor;
import io.vmscale.scaler.provision.Replica;
import io.vmscale.scaler.provision.ReplicaNames;
import io.vmscale.scaler.provision.ReplicaProvisioner;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "balancer", mixinStandardHelpOptions = true,
        description = "Run the load generator and balancer alone. With --server, standalone: a static list of "
                + "servers, no broker, no libvirt, figures printed every interval. Without, on the broker over TCP: "
                + "membership from vm.lifecycle, commands from ops; with traffic.driver haproxy or exec, that driver "
                + "instead of the built-in balancer. Stops on SIGTERM.")
final class BalancerCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;
    @Mixin
    io.vmscale.cli.common.MetricsOption metricsOption;
    @Option(names = "--server", paramLabel = "HOST:PORT", description = "a server to balance over (repeatable)")
    List<String> servers = new ArrayList<>();
    @Option(names = "--front-port", paramLabel = "P", description = "UDP port of the front door (default: balancer.frontPort)")
    Integer frontPort;
    @Option(names = "--load", paramLabel = "R", description = "offered load in replicas' worth (default: balancer.initialMode)")
    Double load;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        VmscaleConfig loaded = config.load();
        Balancer.Settings settings = Balancer.settings(loaded.balancer());
        if (load != null) {
            settings = settings.withInitialMode(LoadMode.custom(load));
        }
        int port = frontPort != null ? frontPort : loaded.balancer().frontPort();
        InetSocketAddress front = port > 0 ? new InetSocketAddress(loaded.balancer().frontBind(), port) : null;
        PrintWriter out = spec.commandLine().getOut();
        AutoCloseable running;
        if (!servers.isEmpty()) {
            List<Endpoint> endpoints = new ArrayList<>();
            for (String server : servers) {
                endpoints.add(parse(server));
            }
            Balancer balancer = Balancer.start(settings, event -> {
                if (event instanceof LbStats s) {
                    out.printf("lb: sent=%d answered=%d timedOut=%d wrong=%d rate=%.0f/s p50=%.2fms p99=%.2fms mode=%s%n",
                            s.sent(), s.answered(), s.timedOut(), s.wrong(), s.throughput(), s.p50Ms(), s.p99Ms(),
                            s.mode());
                    out.flush();
                }
            }, () -> endpoints, BrokerConnection.source("balancer"), front);
            endpoints.forEach(balancer::addServer);
            running = balancer;
        } else {
            BrokerConnection connection = BrokerClients.connect(loaded.broker(), Role.COMPONENT, "balancer");
            List<AutoCloseable> services = new ArrayList<>();
            // the groups made at run time (kept by the broker) are driven too, and those made from now on
            VmscaleConfig effective = Stack.effective(loaded, connection, out, "balancer");
            if (Stack.traffic(effective, connection, settings, () -> refresh(loaded), front, services) == null) {
                front = null;
            }
            running = () -> {
                Stack.closeAll(services);
                connection.close();
            };
        }
        out.printf("balancer: %s%s%s%n", servers.isEmpty() ? "on " + BrokerClients.url(loaded.broker())
                : "standalone over " + servers, servers.isEmpty() && !loaded.traffic().builtin()
                ? ", traffic through " + Stack.describe(loaded.traffic()) : "", front == null ? ""
                : ", front door on udp " + front);
        out.flush();
        AutoCloseable metrics = metricsOption.serve("balancer", out);
        AutoCloseable balancing = running;
        Local.serveUntilStopped(() -> {
            metrics.close();
            balancing.close();
        }, "balancer");
        return 0;
    }

    /** The running replicas of the prefix on the first host, for the refresh command. */
    private static List<Endpoint> refresh(VmscaleConfig config) {
        try (HostConnection host = HostConnection.open(config.libvirt().uris().get(0))) {
            ReplicaProvisioner replicas = ReplicaProvisioner.pool(new ReplicaProvisioner.Settings(new LibvirtHypervisor(host),
                    new ReplicaNames(config.libvirt().prefix(), config.provisioning().digits()),
                    config.provisioning().network().equals("port-forward"), config.guest().port(),
                    config.provisioning().hostPortBase(), false, null, null, null));
            return replicas.running().stream().map(Replica::endpoint).toList();
        }
    }

    private static Endpoint parse(String server) {
        int colon = server.lastIndexOf(':');
        if (colon <= 0 || colon == server.length() - 1) {
            throw new IllegalArgumentException("--server expects HOST:PORT, got '" + server + "'");
        }
        try {
            return new Endpoint(server.substring(0, colon).replace("[", "").replace("]", ""),
                    Integer.parseInt(server.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--server expects HOST:PORT, got '" + server + "'");
        }
    }
}
