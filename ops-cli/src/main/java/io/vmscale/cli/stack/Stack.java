package io.vmscale.cli.stack;

import io.vmscale.balancer.Balancer;
import io.vmscale.balancer.BalancerService;
import io.vmscale.balancer.traffic.TrafficConfig;
import io.vmscale.balancer.traffic.TrafficDriver;
import io.vmscale.balancer.traffic.TrafficService;
import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.EmbeddedBroker;
import io.vmscale.broker.Role;
import io.vmscale.cli.common.Home;
import io.vmscale.cli.config.RuntimeGroups;
import io.vmscale.cli.config.VmscaleConfig;
import io.vmscale.libvirt.HostConnection;
import io.vmscale.monitor.Monitor;
import io.vmscale.scaler.RuntimeSettings;
import io.vmscale.scaler.Scaler;
import io.vmscale.scaler.ScalerGroups;
import io.vmscale.scaler.provision.DomainTypes;
import io.vmscale.scaler.provision.GuestImage;
import io.vmscale.scaler.provision.HostGroup;
import io.vmscale.scaler.provision.LibvirtHypervisor;
import io.vmscale.scaler.provision.Provisioner;
import io.vmscale.scaler.provision.ApplicationConfig;
import io.vmscale.scaler.provision.ProvisioningConfig;
import io.vmscale.scaler.provision.UserData;
import io.vmscale.scaler.provision.Replica;
import io.vmscale.scaler.provision.ReplicaNames;
import io.vmscale.scaler.provision.ReplicaProvisioner;
import io.vmscale.scaler.provision.ReplicaTemplate;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Broker, monitor, scaler and balancer in one JVM, from one configuration: {@code up} and the demo. */
public final class Stack implements AutoCloseable {
    private final VmscaleConfig config;
    private final List<HostConnection> hosts;
    private final Provisioner provisioner;
    private final EmbeddedBroker broker;
    private final Scaler scaler;
    private final ScalerGroups groups;
    private final Balancer balancer;
    private final Monitor monitor;
    private final InetSocketAddress front;
    private final List<AutoCloseable> running;

    private Stack(VmscaleConfig config, List<HostConnection> hosts, Provisioner provisioner, EmbeddedBroker broker,
                  Scaler scaler, ScalerGroups groups, Balancer balancer, Monitor monitor, InetSocketAddress front,
                  List<AutoCloseable> running) {
        this.groups = groups;
        this.config = config;
        this.hosts = hosts;
        this.provisioner = provisioner;
        this.broker = broker;
        this.scaler = scaler;
        this.balancer = balancer;
        this.monitor = monitor;
        this.front = front;
        this.running = running;
    }

    /** What starts and stops the replicas (over every host). */
    public Provisioner provisioner() {
        return provisioner;
    }

    /** The broker. */
    public EmbeddedBroker broker() {
        return broker;
    }

    /** The first group's scaler. */
    public Scaler scaler() {
        return scaler;
    }

    /** Every group's scaler. */
    public ScalerGroups groups() {
        return groups;
    }

    /** The monitor of this process: the hosts of {@code monitor.uris}. */
    public Monitor monitor() {
        return monitor;
    }

    /** The built-in balancer, or null when {@code traffic.driver} is another. */
    public Balancer balancer() {
        return balancer;
    }

    /** Starts everything, with nobody listening before the components start. */
    public static Stack start(VmscaleConfig c, PrintWriter out, String name) {
        return start(c, out, name, broker -> List.of());
    }

    /**
     * Starts everything; what it does is printed as {@code NAME: ...} lines (the guest image build
     * included). On failure, what was started is stopped again.
     *
     * @param watchers what listens from the first event on (a recording), attached once the broker runs and
     *                 before any component starts; closed after the components, before the broker
     */
    public static Stack start(VmscaleConfig c, PrintWriter out, String name,
                       java.util.function.Function<EmbeddedBroker, List<AutoCloseable>> watchers) {
        List<AutoCloseable> running = Collections.synchronizedList(new ArrayList<>());
        VmscaleConfig file = c;
        try {
            String uri = c.libvirt().uris().get(0);
            List<HostConnection> hosts = openHosts(c, running);
            EmbeddedBroker broker = EmbeddedBroker.start(c.broker());
            running.add(0, broker);
            running.addAll(1, watchers.apply(broker));
            BrokerConnection monitorConnection = broker.connect(Role.COMPONENT, BrokerConnection.source("monitor"));
            BrokerConnection scalerConnection = broker.connect(Role.COMPONENT, BrokerConnection.source("scaler"));
            BrokerConnection balancerConnection = broker.connect(Role.COMPONENT, BrokerConnection.source("balancer"));
            running.addAll(List.of(monitorConnection, scalerConnection, balancerConnection));
            // the groups made at run time before (kept by the broker), over the file's
            RuntimeGroups kept = RunTimeGroupsWiring.kept(scalerConnection, out, name);
            c = RunTimeGroupsWiring.effective(file, kept, out, name);
            String[] type = new String[1];
            List<Provisioner> provisioners = provisioners(c, hosts, out, name, type);
            Provisioner provisioner = provisioners.get(0);
            // consumers before producers: the balancer hears the first READY (a replica taken back at once)
            InetSocketAddress front = c.balancer().frontPort() > 0
                    ? new InetSocketAddress(c.balancer().frontBind(), c.balancer().frontPort()) : null;
            Balancer balancer = traffic(c, balancerConnection, Balancer.settings(c.balancer()),
                    () -> provisioner.running().stream().map(Replica::endpoint).toList(), front, running);
            if (balancer == null) {
                front = null;
            }
            Monitor monitor = Monitor.start(c.libvirt(), c.all().stream().map(VmscaleConfig::name).toList(),
                    c.monitor(), monitorConnection::publish, u -> u);
            running.add(monitor);
            running.add(RunTimeGroupsWiring.monitor(monitorConnection, monitor));
            Map<String, Scaler> scalers = new LinkedHashMap<>();
            for (int i = 0; i < c.all().size(); i++) {
                VmscaleConfig g = c.all().get(i);
                Scaler scaler = Scaler.start(g.scaler(), provisioners.get(i), scalerConnection::publish, uri,
                        scalerConnection.source(), settings(g), Clock.systemUTC());
                running.add(scaler);
                scalers.put(g.name(), scaler);
            }
            ScalerGroups groups = new ScalerGroups(scalers, scalerConnection.source(), new RunTimeGroupsWiring.Maker(
                    file, c, kept, new RunTimeGroupsWiring.Starter() {
                        @Override
                        public Provisioner provisioner(VmscaleConfig g) {
                            return Stack.provisioner(g, hosts, out, name, type);
                        }

                        @Override
                        public Scaler start(VmscaleConfig g, Provisioner p, Optional<RuntimeSettings> carried) {
                            Scaler scaler = Scaler.start(g.scaler(), p, scalerConnection::publish, uri,
                                    scalerConnection.source(), settings(g), Clock.systemUTC(), carried, kept -> { });
                            running.add(scaler);
                            return scaler;
                        }
                    }, scalerConnection, out, name));
            groups.listenTo(scalerConnection);
            out.printf("%s: broker %s, monitor every %d ms, scaler %s (%d..%d replicas), %s%s%n", name,
                    broker.tcpUrl(), c.monitor().intervalMs(), c.scaler().policy(), c.scaler().minReplicas(),
                    c.scaler().maxReplicas(), c.traffic().builtin() ? "balancer " + c.balancer().dispatch()
                            : "traffic through " + describe(c.traffic()), front == null ? "" : ", front door udp " + front);
            for (VmscaleConfig g : c.groups()) {
                out.printf("%s: group %s: scaler %s (%d..%d replicas), traffic through %s%n", name, g.name(),
                        g.scaler().policy(), g.scaler().minReplicas(), g.scaler().maxReplicas(), describe(g.traffic()));
            }
            out.flush();
            return new Stack(c, hosts, provisioner, broker, scalers.values().iterator().next(), groups, balancer,
                    monitor, front, running);
        } catch (RuntimeException e) {
            closeAll(running);
            throw e;
        }
    }

    /** The file's configuration with the groups made at run time (kept by the broker) laid over it, each step said. */
    public static VmscaleConfig effective(VmscaleConfig file, BrokerConnection connection, PrintWriter out,
                                          String name) {
        return RunTimeGroupsWiring.effective(file, RunTimeGroupsWiring.kept(connection, out, name), out, name);
    }

    /** The monitor reads a group's domains once it is created at run time, and no longer once it is deleted. */
    public static AutoCloseable followGroups(BrokerConnection connection, Monitor monitor) {
        return RunTimeGroupsWiring.monitor(connection, monitor);
    }

    /** A group's scaler settings from its sections. */
    public static Scaler.Settings settings(VmscaleConfig g) {
        return Scaler.Settings.of(g.scaler(), g.balancer().work()).withApplication(g.application()).withGroup(g.name());
    }

    /**
     * What carries each group's traffic, added to {@code running}: the built-in balancer the first group's when its
     * driver is {@code builtin} (returned; else null), a traffic driver every other group's.
     *
     * @param settings        the built-in balancer's
     * @param runningReplicas the first group's running replicas from libvirt, for the built-in balancer's refresh
     */
    public static Balancer traffic(VmscaleConfig c, BrokerConnection connection, Balancer.Settings settings,
                                   java.util.function.Supplier<List<io.vmscale.broker.event.Endpoint>> runningReplicas,
                                   InetSocketAddress front, List<AutoCloseable> running) {
        Balancer balancer = null;
        RunTimeGroupsWiring.Traffic drivers = new RunTimeGroupsWiring.Traffic(connection, c); // and created ones'
        running.add(drivers);
        for (VmscaleConfig g : c.all()) {
            if (g.traffic().builtin()) {
                BalancerService balancing = BalancerService.start(connection, settings, runningReplicas, front,
                        g.name());
                running.add(balancing);
                balancer = balancing.balancer();
            } else { // what carries the traffic is the operator's: the built-in balancer would acknowledge drains too
                drivers.start(g);
            }
        }
        return balancer;
    }

    /** The traffic driver in words: {@code haproxy (backend web on /run/haproxy/admin.sock)}. */
    public static String describe(TrafficConfig traffic) {
        return switch (traffic.driver()) {
            case "haproxy" -> "haproxy (backend " + traffic.haproxyBackend() + " on " + traffic.haproxySocket() + ")";
            case "exec" -> "exec (" + traffic.exec() + ")";
            default -> "the built-in balancer";
        };
    }

    /**
     * The group's provisioner: one host, or a {@link HostGroup} over every host of {@code libvirt.uris}, each with
     * its address and limit from {@code libvirt.hosts}. The first host chooses the domain type for all.
     */
    static Provisioner provisioner(VmscaleConfig c, List<HostConnection> hosts, PrintWriter out, String name) {
        return provisioner(c, hosts, out, name, new String[1]);
    }

    /**
     * Each group's provisioner, the first group's first; the domain type is chosen once, for all.
     *
     * @param type the domain type chosen before (null: none yet), and after: a group made later takes it
     */
    static List<Provisioner> provisioners(VmscaleConfig c, List<HostConnection> hosts, PrintWriter out, String name,
                                          String[] type) {
        List<Provisioner> all = new ArrayList<>();
        for (VmscaleConfig g : c.all()) {
            all.add(provisioner(g, hosts, out, name, type));
        }
        return all;
    }

    /** @param type the domain type chosen before (null: none yet), and after */
    static Provisioner provisioner(VmscaleConfig c, List<HostConnection> hosts, PrintWriter out, String name,
                                           String[] type) {
        List<ReplicaProvisioner> each = new ArrayList<>();
        for (HostConnection host : hosts) {
            ReplicaProvisioner one = provisioner(c, host, out, name, type[0]);
            type[0] = one.domainType();
            each.add(one);
        }
        if (each.size() > 1) {
            out.printf("%s: %d hosts: %s%n", name, each.size(), String.join(", ", hosts.stream().map(h -> h.uri()
                    + " (replicas answer on " + c.libvirt().host(h.uri()).address() + (c.libvirt().host(h.uri())
                    .maxReplicas() < 0 ? "" : ", at most " + c.libvirt().host(h.uri()).maxReplicas()) + ")").toList()));
            out.flush();
            return new HostGroup(each);
        }
        return each.get(0);
    }

    private static ReplicaProvisioner provisioner(VmscaleConfig c, HostConnection host, PrintWriter out, String name,
                                                  String chosenType) {
        var settings = c.libvirt().host(host.uri());
        LibvirtHypervisor hypervisor = new LibvirtHypervisor(host);
        ProvisioningConfig p = c.provisioning();
        ReplicaNames names = new ReplicaNames(c.libvirt().prefix(), p.digits());
        boolean portForward = p.network().equals("port-forward");
        var pool = c.scaler().warmPool();
        if (pool.size() > 0 && pool.tier().equals("saved") && (p.mode().equals("pool") || !p.undefineOnScaleDown())) {
            throw new IllegalArgumentException("scaler.warmPool.tier \"saved\" needs provisioning.mode \"template\" with "
                    + "provisioning.undefineOnScaleDown true (a stopped replica's save image goes with its definition); "
                    + "use tier \"paused\" here");
        }
        if (p.mode().equals("pool")) {
            return ReplicaProvisioner.pool(new ReplicaProvisioner.Settings(hypervisor, names, portForward, c.guest().port(),
                    p.hostPortBase(), false, null, null, null, settings.address(), settings.maxReplicas()));
        }
        GuestImage image = GuestImage.ensure(Home.dir(), Home.resolve(p.imageDir()), line -> {
            out.println(name + ": " + line);
            out.flush();
        });
        ReplicaTemplate template = ReplicaTemplate.load(Home.resolve(p.template()));
        ApplicationConfig app = c.application();
        UserData userData = app.userData().isEmpty() ? UserData.NONE : UserData.load(Home.resolve(app.userData()));
        int guestPort = app.port() > 0 ? app.port() : c.guest().port();
        String type = chosenType;
        if (type == null) {
            // whether KVM works here is the host's matter: probed with the built-in guest, whatever the application
            ReplicaTemplate probe = app.ownImage() ? ReplicaTemplate.load(Home.resolve("conf/replica-port-forward.xml"))
                    : template;
            DomainTypes.Choice choice = DomainTypes.choose(p.domainType(), hypervisor, probe, image, c.guest().port(),
                    c.libvirt().prefix() + "-kvm-probe");
            out.printf("%s: replicas %s-NNNN from %s, domain type %s (%s)%n", name, c.libvirt().prefix(), template.file(),
                    choice.type(), choice.why());
            out.flush();
            type = choice.type();
        }
        if (app.ownImage()) {
            out.printf("%s: application: %s in %s (%d vCPU, %d MiB), %s port %d, checked by %s%n", name, app.baseVolume(),
                    app.pool(), app.vcpus(), app.memoryMiB(), app.protocol(), guestPort, app.healthCheck().describe());
            out.flush();
        }
        return ReplicaProvisioner.template(new ReplicaProvisioner.Settings(hypervisor, names, portForward, guestPort,
                p.hostPortBase(), p.undefineOnScaleDown(), template, image, type, settings.address(),
                settings.maxReplicas()).withApplication(app, userData));
    }

    @Override
    public void close() {
        closeAll(running);
    }

    /** A connection to each of libvirt.uris, added to {@code running}; the first must answer. */
    static List<HostConnection> openHosts(VmscaleConfig c, List<AutoCloseable> running) {
        List<HostConnection> hosts = new ArrayList<>();
        for (String each : c.libvirt().uris()) {
            HostConnection host = HostConnection.open(each);
            running.add(host);
            hosts.add(host);
        }
        if (!hosts.get(0).connected()) {
            throw new IllegalArgumentException(c.libvirt().uris().get(0) + " does not answer: is libvirtd running? "
                    + "(scripts/libvirt-daemons)");
        }
        return hosts;
    }

    /** Closes what runs, the last started first; what fails to close does not stop the rest. */
    public static void closeAll(List<AutoCloseable> running) {
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
}
