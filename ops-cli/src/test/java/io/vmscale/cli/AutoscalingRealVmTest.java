package io.vmscale.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.balancer.Balancer;
import io.vmscale.balancer.BalancerService;
import io.vmscale.balancer.LoadMode;
import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.EmbeddedBroker;
import io.vmscale.broker.Role;
import io.vmscale.broker.Subscription;
import io.vmscale.broker.TestBrokers;
import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.guest.Wire;
import io.vmscale.libvirt.HostConnection;
import io.vmscale.libvirt.LibvirtConfig;
import io.vmscale.libvirt.LibvirtFailure;
import io.vmscale.libvirt.TinyDomains;
import io.vmscale.monitor.Monitor;
import io.vmscale.monitor.MonitorConfig;
import io.vmscale.scaler.Scaler;
import io.vmscale.scaler.ScalerConfig;
import io.vmscale.scaler.provision.DomainTypes;
import io.vmscale.scaler.provision.GuestImage;
import io.vmscale.scaler.provision.LibvirtHypervisor;
import io.vmscale.scaler.provision.ReplicaNames;
import io.vmscale.scaler.provision.ReplicaProvisioner;
import io.vmscale.scaler.provision.ReplicaTemplate;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole loop on real VMs (qemu:///system, software emulation): broker, monitor, scaler and
 * balancer in one JVM. From nothing to one replica, high load to two, low load back to one with
 * nothing lost (the drain ends on the balancer's acknowledgement), a replica destroyed from outside
 * leaves the balancer and is replaced; libvirtd stopped, the replica's QEMU killed meanwhile,
 * libvirtd started: replaced; the scaler killed in the middle of a scale-up and started again beside a
 * foreign running domain named like its replicas: both replicas taken back, nothing extra started,
 * the foreign domain untouched. The VMs are shared by the steps to keep the boots few.
 */
class AutoscalingRealVmTest {
    private static final Logger log = LoggerFactory.getLogger(AutoscalingRealVmTest.class);
    private static final Path HOME = Path.of("..").toAbsolutePath().normalize();
    private static final String URI = "qemu:///system";

    @TempDir
    Path dataDir;

    private final List<VmLifecycle> lifecycle = new CopyOnWriteArrayList<>();
    private final List<ScaleDecision> actions = new CopyOnWriteArrayList<>();
    private final List<String> foreignWarnings = new CopyOnWriteArrayList<>();

    private long readyCount() {
        return lifecycle.stream().filter(e -> e.state() == ReplicaState.READY).count();
    }

    /** Runs a command to its end (at most 60 s); true when it exited 0. */
    private static boolean run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    }

    private boolean seen(String domain, ReplicaState state, String by) {
        return lifecycle.stream().anyMatch(e -> e.domain().equals(domain) && e.state() == state);
    }

    private String readyDomain(int index) {
        return lifecycle.stream().filter(e -> e.state() == ReplicaState.READY).map(VmLifecycle::domain).distinct()
                .skip(index).findFirst().orElse(null);
    }

    @Test
    void scalesUpUnderLoadDownWithoutLosingAnAnswerAndReplacesADestroyedReplica() throws Exception {
        String prefix = "vmscale-test" + UUID.randomUUID().toString().substring(0, 6);
        try (HostConnection host = HostConnection.open(URI);
             EmbeddedBroker broker = EmbeddedBroker.start(TestBrokers.config(dataDir));
             BrokerConnection monitorConnection = broker.connect(Role.COMPONENT, "monitor@test");
             BrokerConnection balancerConnection = broker.connect(Role.COMPONENT, "balancer@test");
             BrokerConnection scalerConnection = broker.connect(Role.COMPONENT, "scaler@test");
             BrokerConnection viewer = broker.connect(Role.VIEWER, "viewer@test")) {
            GuestImage image = GuestImage.ensure(HOME, Path.of("/var/lib/vmscale/image"), line -> { });
            ReplicaTemplate template = ReplicaTemplate.load(HOME.resolve("conf/replica-port-forward.xml"));
            LibvirtHypervisor hypervisor = new LibvirtHypervisor(host);
            String type = DomainTypes.choose("auto", hypervisor, template, image, Wire.DEFAULT_PORT, prefix + "-kvm-probe").type();
            ReplicaProvisioner provisioner = ReplicaProvisioner.template(new ReplicaProvisioner.Settings(hypervisor,
                    new ReplicaNames(prefix, 4), true, Wire.DEFAULT_PORT, 21300, true, template, image, type));
            viewer.subscribe(VmLifecycle.class, e -> lifecycle.add(e.body()));
            viewer.subscribe(ScaleDecision.class, e -> {
                if (e.body().reasonCode().equals("ForeignDomain")) {
                    foreignWarnings.add(e.body().domain());
                }
                if (e.body().action() != ScaleAction.HOLD) {
                    actions.add(e.body());
                    log.info("decision {} {} -> {}: {} ({})", e.body().action(), e.body().fromReplicas(),
                            e.body().toReplicas(), e.body().reason(), e.body().reasonCode());
                }
            });
            // 1.5 vCPUs per core: the foreign domain started below holds a vCPU of its own, and the operator's scale-up
            // beside it must still find room (a scale-up never goes where the host has none: NoCapacity)
            ScalerConfig scalerConfig = new ScalerConfig("threshold-window", 1, 2, 5, 1000, 90, 10, -1, 1.5,
                    new ScalerConfig.ThresholdWindowConfig(70, 40, 5),
                    new ScalerConfig.TargetTrackingConfig(60, 0.1, 10, 30, 1, 1),
                    ScalerConfig.WarmPoolConfig.NONE);
            Scaler.Settings scalerSettings = new Scaler.Settings(Duration.ofSeconds(1), Duration.ofSeconds(90),
                    Duration.ofSeconds(10), Duration.ofMinutes(2));
            try (Monitor monitor = Monitor.start(new LibvirtConfig(List.of(URI), prefix, 100, 1000),
                    new MonitorConfig(1000), monitorConnection::publish);
                 BalancerService balancing = BalancerService.start(balancerConnection, new Balancer.Settings(200_000, 0,
                         Map.of("low", 0.3, "mid", 0.5, "high", 0.85), LoadMode.OFF, "least-outstanding", 16,
                         Duration.ofSeconds(3), 3, Duration.ofSeconds(2), Duration.ofMillis(500)), List::of, null)) {
                Scaler scaler = Scaler.start(scalerConfig, provisioner, scalerConnection::publish, URI,
                        scalerConnection.source(), scalerSettings, Clock.systemUTC());
                List<Subscription> fed = scaler.listenTo(scalerConnection);
                try {
                    Balancer balancer = balancing.balancer();

                    // from nothing: below the minimum, one replica
                    await().atMost(Duration.ofSeconds(120)).until(() -> readyDomain(0) != null);
                    String first = readyDomain(0);
                    await().atMost(Duration.ofSeconds(60)).until(() -> balancer.calibration() != null);
                    log.info("calibrated: {}", balancer.calibration());

                    // overload: 1.3 replicas' worth
                    long overload = System.nanoTime();
                    balancer.setMode(LoadMode.custom(1.3));
                    await().atMost(Duration.ofSeconds(120)).until(() -> actions.stream().anyMatch(d -> d.action() == ScaleAction.UP
                            && d.reasonCode().equals("AboveHighThreshold")));
                    long decided = System.nanoTime();
                    await().atMost(Duration.ofSeconds(120)).until(() -> readyDomain(1) != null);
                    long ready = System.nanoTime();
                    String second = readyDomain(1);
                    log.info("overload -> decision {} ms, decision -> READY {} ms", (decided - overload) / 1_000_000,
                            (ready - decided) / 1_000_000);
                    await().atMost(Duration.ofSeconds(30)).until(() -> {
                        LbStats s = balancer.lastStats();
                        return s != null && s.servers().values().stream().filter(v -> v.answered() > 0).count() == 2;
                    });

                    // low load: one replica drained and stopped, not one answer lost or wrong from here on
                    await().atMost(Duration.ofSeconds(5)).until(() -> balancer.lastStats() != null);
                    LbStats beforeDown = balancer.lastStats();
                    balancer.setMode(LoadMode.custom(0.1));
                    await().atMost(Duration.ofSeconds(120)).until(() -> seen(second, ReplicaState.STOPPED, "scaler")
                            || seen(first, ReplicaState.STOPPED, "scaler"));
                    await().atMost(Duration.ofSeconds(5)).until(() -> balancer.lastStats().servers().values().stream()
                            .allMatch(v -> v.inFlight() == 0 || !v.ejected()));
                    LbStats afterDown = balancer.lastStats();
                    assertThat(afterDown.timedOut() - beforeDown.timedOut()).as("answers lost").isZero();
                    assertThat(afterDown.wrong()).as("wrong answers").isZero();
                    assertThat(afterDown.answered()).isGreaterThan(beforeDown.answered());
                    assertThat(lifecycle).as("the scaler's STOPPING says the balancer acknowledged the drain")
                            .anyMatch(e -> e.state() == ReplicaState.STOPPING && e.reason().startsWith("drained: ")
                                    && e.reason().contains("acknowledged"));
                    String survivor = seen(second, ReplicaState.STOPPED, "scaler") ? first : second;

                    // destroyed from outside: out of the balancer within a second, and replaced
                    Endpoint survivorEndpoint = lifecycle.stream().filter(e -> e.domain().equals(survivor)
                            && e.state() == ReplicaState.READY).findFirst().orElseThrow().endpoint();
                    assertThat(balancer.members()).contains(survivorEndpoint);
                    run("virsh", "-q", "-c", URI, "destroy", survivor);
                    long crashed = System.nanoTime();
                    await().pollInterval(Duration.ofMillis(10)).atMost(Duration.ofSeconds(1))
                            .until(() -> !balancer.members().contains(survivorEndpoint));
                    long left = System.nanoTime();
                    await().atMost(Duration.ofSeconds(120)).until(() -> actions.stream()
                            .anyMatch(d -> d.action() == ScaleAction.REPLACE));
                    await().atMost(Duration.ofSeconds(120)).until(() -> readyCount() >= 3);
                    long replaced = System.nanoTime();
                    log.info("crash -> out of the balancer {} ms, crash -> READY replacement {} ms",
                            (left - crashed) / 1_000_000, (replaced - crashed) / 1_000_000);
                    Scaler live = scaler;
                    assertThat(live.replicas().values()).containsOnly(ReplicaState.READY);

                    // libvirtd away, the replica's QEMU killed meanwhile (no event can tell): replaced once it is back
                    String victim = scaler.replicas().keySet().iterator().next();
                    run("pkill", "-x", "libvirtd");
                    await().atMost(Duration.ofSeconds(30)).until(() -> !run("pgrep", "-x", "libvirtd"));
                    assertThat(run("pkill", "-9", "-f", "guest=" + victim + ",")).as("QEMU of " + victim).isTrue();
                    long readyBefore = readyCount();
                    run(HOME.resolve("scripts/libvirt-daemons").toString());
                    long back = System.nanoTime();
                    await().atMost(Duration.ofSeconds(60)).until(() -> lifecycle.stream().anyMatch(e -> e.domain().equals(victim)
                            && e.state() == ReplicaState.FAILED) && readyCount() > readyBefore);
                    log.info("libvirtd back -> the dead replica replaced and READY in {} ms", (System.nanoTime() - back) / 1_000_000);
                    assertThat(actions).filteredOn(d -> d.action() == ScaleAction.REPLACE).hasSize(2);
                    Scaler current = scaler;
                    await().atMost(Duration.ofSeconds(10)).until(() -> current.replicas().size() == 1);

                    // a foreign domain named like ours, running; the scaler killed in the middle of a scale-up
                    Path boot = dataDir.resolve("foreign.img");
                    TinyDomains.writeBootSector(boot, TinyDomains.Program.HALT);
                    java.nio.file.Files.setPosixFilePermissions(dataDir,
                            java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
                    String foreign = prefix + "-0007";
                    host.domains().define(TinyDomains.xml(foreign, boot));
                    host.domains().start(foreign);
                    long starting = lifecycle.stream().filter(e -> e.state() == ReplicaState.STARTING).count();
                    assertThat(scaler.handle(new AdminCommand("r1", "vmscale.reply.t", "scaler", "scale", List.of("2")))
                            .ok()).isTrue();
                    await().atMost(Duration.ofSeconds(60)).until(() -> lifecycle.stream()
                            .filter(e -> e.state() == ReplicaState.STARTING).count() > starting);
                    fed.forEach(Subscription::close);
                    scaler.close(); // as kill -9: the new replica boots on, nobody probes it
                    List<String> running = host.domains().names(n -> !n.equals(foreign) && n.matches(prefix + "-\\d{4}"));
                    assertThat(running).hasSize(2);
                    int warnedBefore = foreignWarnings.size(); // the killed scaler may have seen it already
                    scaler = Scaler.start(scalerConfig, provisioner, scalerConnection::publish, URI,
                            scalerConnection.source() + "-again", scalerSettings, Clock.systemUTC());
                    fed = scaler.listenTo(scalerConnection);
                    Scaler again = scaler;
                    await().atMost(Duration.ofSeconds(90)).until(() -> again.replicas().size() == 2
                            && again.replicas().values().stream().allMatch(s -> s == ReplicaState.READY));
                    assertThat(again.replicas()).containsOnlyKeys(running.toArray(String[]::new));
                    assertThat(host.domains().names(n -> n.matches(prefix + "-\\d{4}")))
                            .containsExactlyInAnyOrder(foreign, running.get(0), running.get(1));
                    assertThat(host.domains().find(foreign).orElseThrow().state().active()).as("foreign still running").isTrue();
                    assertThat(foreignWarnings.subList(warnedBefore, foreignWarnings.size())).as("warned once")
                            .containsExactly(foreign);
                } finally {
                    fed.forEach(Subscription::close);
                    scaler.close();
                }
            }
        } finally {
            try (HostConnection cleanup = HostConnection.open(URI)) {
                for (String name : cleanup.domains().names(n -> n.startsWith(prefix))) {
                    try {
                        cleanup.domains().destroy(name);
                    } catch (LibvirtFailure e) {
                        // not running
                    }
                    try {
                        cleanup.domains().undefine(name);
                    } catch (LibvirtFailure e) {
                        // gone
                    }
                }
            }
        }
    }
}
