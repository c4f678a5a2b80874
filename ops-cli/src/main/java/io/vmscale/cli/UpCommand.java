package io.vmscale.cli;

import io.vmscale.balancer.Balancer;
import io.vmscale.balancer.BalancerService;
import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.EmbeddedBroker;
import io.vmscale.broker.Role;
import io.vmscale.config.ProvisioningConfig;
import io.vmscale.config.VmscaleConfig;
import io.vmscale.monitor.Monitor;
import io.vmscale.monitor.libvirt.HostConnection;
import io.vmscale.scaler.Scaler;
import io.vmscale.scaler.provision.DomainTypes;
import io.vmscale.scaler.provision.GuestImage;
import io.vmscale.scaler.provision.Replica;
import io.vmscale.scaler.provision.ReplicaNames;
import io.vmscale.scaler.provision.ReplicaProvisioner;
import io.vmscale.scaler.provision.ReplicaTemplate;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Broker, monitor, scaler and balancer in one JVM, from one configuration. */
@Command(name = "up", mixinStandardHelpOptions = true,
        description = "Run broker, monitor, scaler and balancer in one JVM with the configuration (the shipped one "
                + "works on a fresh machine: template mode, automatic domain type, loopback port forwards); "
                + "stops on SIGTERM, leaving the replica domains as they are.")
final class UpCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        VmscaleConfig c = config.load();
        PrintWriter out = spec.commandLine().getOut();
        List<AutoCloseable> running = Collections.synchronizedList(new ArrayList<>());
        try {
            String uri = c.libvirt().uris().get(0);
            HostConnection host = HostConnection.open(uri);
            running.add(host);
            if (!host.connected()) {
                throw new IllegalArgumentException(uri + " does not answer: is libvirtd running? (scripts/libvirt-daemons)");
            }
            ReplicaProvisioner provisioner = provisioner(c, host, out);
            EmbeddedBroker broker = EmbeddedBroker.start(c.broker());
            running.add(0, broker);
            BrokerConnection monitorConnection = broker.connect(Role.COMPONENT, BrokerConnection.source("monitor"));
            BrokerConnection scalerConnection = broker.connect(Role.COMPONENT, BrokerConnection.source("scaler"));
            BrokerConnection balancerConnection = broker.connect(Role.COMPONENT, BrokerConnection.source("balancer"));
            running.addAll(List.of(monitorConnection, scalerConnection, balancerConnection));
            running.add(Monitor.start(c.libvirt(), c.monitor(), monitorConnection::publish));
            Scaler scaler = Scaler.start(c.scaler(), provisioner, scalerConnection::publish, uri,
                    scalerConnection.source(), Scaler.Settings.of(c.scaler()), Clock.systemUTC());
            running.add(scaler);
            scaler.listenTo(scalerConnection);
            InetSocketAddress front = c.balancer().frontPort() > 0
                    ? new InetSocketAddress(c.balancer().frontBind(), c.balancer().frontPort()) : null;
            running.add(BalancerService.start(balancerConnection, Balancer.settings(c.balancer()),
                    () -> provisioner.running().stream().map(Replica::endpoint).toList(), front));
            out.printf("up: broker %s, monitor every %d ms, scaler %s (%d..%d replicas), balancer %s%s%n",
                    broker.tcpUrl(), c.monitor().intervalMs(), c.scaler().policy(), c.scaler().minReplicas(),
                    c.scaler().maxReplicas(), c.balancer().dispatch(), front == null ? "" : ", front door udp " + front);
            out.flush();
        } catch (RuntimeException e) {
            closeAll(running);
            throw e;
        }
        Local.serveUntilStopped(() -> closeAll(running), "up");
        return 0;
    }

    private static void closeAll(List<AutoCloseable> running) {
        List<AutoCloseable> reversed = new ArrayList<>(running);
        Collections.reverse(reversed);
        for (AutoCloseable closeable : reversed) {
            try {
                closeable.close();
            } catch (Exception e) {
                // stopping anyway
            }
        }
    }

    private static ReplicaProvisioner provisioner(VmscaleConfig c, HostConnection host, PrintWriter out) {
        ProvisioningConfig p = c.provisioning();
        ReplicaNames names = new ReplicaNames(c.libvirt().prefix(), p.digits());
        boolean portForward = p.network().equals("port-forward");
        if (p.mode().equals("pool")) {
            return ReplicaProvisioner.pool(new ReplicaProvisioner.Settings(host, names, portForward, c.guest().port(),
                    p.hostPortBase(), false, null, null, null));
        }
        GuestImage image = GuestImage.ensure(Home.dir(), Home.resolve(p.imageDir()), line -> { });
        ReplicaTemplate template = ReplicaTemplate.load(Home.resolve(p.template()));
        DomainTypes.Choice type = DomainTypes.choose(p.domainType(), host, template, image, c.guest().port(),
                c.libvirt().prefix() + "-kvm-probe");
        out.printf("up: replicas %s-NNNN from %s, domain type %s (%s)%n", c.libvirt().prefix(), template.file(),
                type.type(), type.why());
        return ReplicaProvisioner.template(new ReplicaProvisioner.Settings(host, names, portForward, c.guest().port(),
                p.hostPortBase(), p.undefineOnScaleDown(), template, image, type.type()));
    }
}
