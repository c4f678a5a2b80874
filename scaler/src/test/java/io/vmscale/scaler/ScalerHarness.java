package io.vmscale.scaler;

import static org.awaitility.Awaitility.await;

import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.scaler.health.HealthCheckConfig;
import io.vmscale.scaler.provision.ApplicationConfig;
import io.vmscale.scaler.provision.GuestImage;
import io.vmscale.scaler.provision.HostGroup;
import io.vmscale.scaler.provision.Provisioner;
import io.vmscale.scaler.provision.ReplicaNames;
import io.vmscale.scaler.provision.ReplicaProvisioner;
import io.vmscale.scaler.provision.ReplicaTemplate;
import io.vmscale.scaler.provision.UserData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A scaler over a {@link FakeHypervisor} in template mode, with what it publishes collected, for scenario
 * tests: fast ticks (100 ms), a 1 s window and warm-up, no cooldown, real probes to real guest servers.
 */
final class ScalerHarness implements AutoCloseable {
    static final String PREFIX = "scn";
    static final String MARK = "<vmscale:replica xmlns:vmscale='https://vmscale.io/xmlns/replica/1' ip='127.0.0.1'"
            + " port='PORT' group='" + PREFIX + "' number='0' created='2026-11-24T00:00:00Z'/>";

    /** Replica {@code n}'s domain name: {@code PREFIX-000n}. */
    static String name(int n) {
        return String.format("%s-%04d", PREFIX, n);
    }

    final FakeHypervisor hypervisor;
    final Provisioner provisioner;
    final List<Event> published = new CopyOnWriteArrayList<>();
    /** The first host port of the replicas (replica N is forwarded on base + N when that port is free). */
    final int hostPortBase;
    /** The group's name, or empty (one group). */
    final String group;
    ScalerConfig config;
    /** What runs in the replicas: its health check, how it stops. */
    ApplicationConfig app;
    Scaler scaler;

    ScalerHarness(Path dir, FakeHypervisor hypervisor, int min, int max, int drainSeconds) throws IOException {
        this(dir, hypervisor, min, max, drainSeconds, ScalerConfig.WarmPoolConfig.NONE);
    }

    /** One host, checked by that health check. */
    ScalerHarness(Path dir, FakeHypervisor hypervisor, int min, int max, int drainSeconds, HealthCheckConfig health)
            throws IOException {
        this(dir, hypervisor, min, max, drainSeconds, new ApplicationConfig(health, 0, "", 30, "continue"));
    }

    /** One host, running that application. */
    ScalerHarness(Path dir, FakeHypervisor hypervisor, int min, int max, int drainSeconds, ApplicationConfig app)
            throws IOException {
        this(dir, List.of(hypervisor), List.of(-1), min, max, drainSeconds, ScalerConfig.WarmPoolConfig.NONE, -1, app);
    }

    ScalerHarness(Path dir, FakeHypervisor hypervisor, int min, int max, int drainSeconds,
                  ScalerConfig.WarmPoolConfig pool) throws IOException {
        this(dir, List.of(hypervisor), List.of(-1), min, max, drainSeconds, pool, -1);
    }

    /**
     * Several hosts: the i-th answers on 127.0.0.(i+1) and runs at most {@code maxReplicas.get(i)} replicas; the
     * first is {@link #hypervisor}.
     *
     * @param consolidateAfter scaler.consolidateAfterSeconds
     */
    ScalerHarness(Path dir, List<FakeHypervisor> hosts, List<Integer> maxReplicas, int min, int max, int drainSeconds,
                  ScalerConfig.WarmPoolConfig pool, int consolidateAfter) throws IOException {
        this(dir, hosts, maxReplicas, min, max, drainSeconds, pool, consolidateAfter, ApplicationConfig.BUILTIN);
    }

    private ScalerHarness(Path dir, List<FakeHypervisor> hosts, List<Integer> maxReplicas, int min, int max,
                          int drainSeconds, ScalerConfig.WarmPoolConfig pool, int consolidateAfter,
                          ApplicationConfig app) throws IOException {
        this(dir, hosts, maxReplicas, min, max, drainSeconds, pool, consolidateAfter, app, -1);
    }

    /**
     * One replica on a NAT network: its address is the fake's DHCP lease (none until the test gives one); the guest
     * answers on 127.0.0.1 at {@code guestPort}.
     */
    static ScalerHarness nat(Path dir, FakeHypervisor hypervisor, int guestPort) throws IOException {
        return new ScalerHarness(dir, List.of(hypervisor), List.of(-1), 1, 1, 10, ScalerConfig.WarmPoolConfig.NONE, -1,
                ApplicationConfig.BUILTIN, guestPort);
    }

    private ScalerHarness(Path dir, List<FakeHypervisor> hosts, List<Integer> maxReplicas, int min, int max,
                          int drainSeconds, ScalerConfig.WarmPoolConfig pool, int consolidateAfter,
                          ApplicationConfig app, int natGuestPort) throws IOException {
        this(dir, hosts, maxReplicas, min, max, drainSeconds, pool, consolidateAfter, app, natGuestPort, "",
                40000 + (int) (Math.random() * 20000));
    }

    /**
     * One group of several on {@code hypervisor}: its replicas are {@code group-NNNN}, its decisions name it, its
     * ports are forwarded from {@code hostPortBase}.
     */
    static ScalerHarness group(Path dir, FakeHypervisor hypervisor, String group, int min, int max, int hostPortBase)
            throws IOException {
        return new ScalerHarness(dir, List.of(hypervisor), List.of(-1), min, max, 10, ScalerConfig.WarmPoolConfig.NONE,
                -1, ApplicationConfig.BUILTIN, -1, group, hostPortBase);
    }

    /**
     * @param natGuestPort the guest port of a NAT network, or -1 for port-forward mode
     * @param group        the group's name and prefix; empty: {@link #PREFIX}, a deployment of one group
     */
    private ScalerHarness(Path dir, List<FakeHypervisor> hosts, List<Integer> maxReplicas, int min, int max,
                          int drainSeconds, ScalerConfig.WarmPoolConfig pool, int consolidateAfter,
                          ApplicationConfig app, int natGuestPort, String group, int base) throws IOException {
        this.hypervisor = hosts.get(0);
        this.group = group;
        this.app = app;
        Path template = dir.resolve("replica.xml");
        Files.writeString(template, """
                <domain type='${type}' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><name>${name}</name><uuid>${uuid}</uuid>
                  <metadata><vmscale:replica xmlns:vmscale='https://vmscale.io/xmlns/replica/1' ip='${hostAddress}' port='${hostPort}'/></metadata>
                  <os><kernel>${kernel}</kernel><initrd>${initrd}</initrd></os>
                  <devices><interface><mac address='${mac}'/></interface><disk file='${disk}'/><disk file='${seed}'/></devices><guest port='${guestPort}'/>
                  <qemu:commandline><qemu:arg value='user,hostfwd=udp:${hostAddress}:${hostPort}-:${guestPort}'/></qemu:commandline>
                </domain>""");
        this.hostPortBase = base;
        List<ReplicaProvisioner> each = new java.util.ArrayList<>();
        for (int i = 0; i < hosts.size(); i++) {
            each.add(ReplicaProvisioner.template(new ReplicaProvisioner.Settings(hosts.get(i),
                    new ReplicaNames(group.isEmpty() ? PREFIX : group, 4), natGuestPort < 0, natGuestPort < 0 ? 21001 : natGuestPort, base, true, ReplicaTemplate.load(template),
                    new GuestImage(dir.resolve("vmlinuz"), dir.resolve("initrd")), "test", "127.0.0." + (i + 1),
                    maxReplicas.get(i)).withApplication(app, Files.exists(dir.resolve("user-data"))
                    ? UserData.load(dir.resolve("user-data")) : UserData.NONE)));
        }
        this.provisioner = hosts.size() == 1 ? each.get(0) : new HostGroup(each);
        this.config = new ScalerConfig("threshold-window", min, max, 0, 100, 5, drainSeconds, 1, 1.0,
                new ScalerConfig.ThresholdWindowConfig(75, 30, 1), new ScalerConfig.TargetTrackingConfig(50, 0.1, 1, 1, 1, 1),
                pool, 1, consolidateAfter, 0);
        start();
    }

    /** What the scalers kept of operators' changes (as the broker does for {@code vmscale scaler}), when handing over. */
    final java.util.concurrent.atomic.AtomicReference<RuntimeSettings> kept = new java.util.concurrent.atomic.AtomicReference<>();
    /** Whether a scaler started (again) goes on with {@link #kept}. */
    boolean handOver;
    /** The clock of the scalers started from now on. */
    Clock clock = Clock.systemUTC();

    /** Starts a scaler (again, after {@link #kill}): a new process as far as the scaler can tell. */
    void start() {
        scaler = Scaler.start(config, provisioner, published::add, "fake:///", "scaler@" + UUID.randomUUID(),
                new Scaler.Settings(Duration.ofMillis(100), Duration.ofSeconds(5), Duration.ofSeconds(config.drainTimeoutSeconds()),
                        Duration.ofMinutes(1)).withApplication(app).withGroup(group), clock,
                handOver ? java.util.Optional.ofNullable(kept.get()) : java.util.Optional.empty(), kept::set);
    }

    /** Starts a scaler (again) with another configuration. */
    void start(ScalerConfig next) {
        config = next;
        start();
    }

    /** Like kill -9: the scaler's threads stop where they are, the domains stay as they are. */
    void kill() {
        scaler.close();
    }

    List<ScaleDecision> decisions() {
        return published.stream().filter(e -> e instanceof ScaleDecision).map(e -> (ScaleDecision) e).toList();
    }

    List<ScaleDecision> actions() {
        return decisions().stream().filter(d -> d.action() != ScaleAction.HOLD).toList();
    }

    List<VmLifecycle> lifecycle() {
        return published.stream().filter(e -> e instanceof VmLifecycle).map(e -> (VmLifecycle) e).toList();
    }

    boolean saw(String domain, ReplicaState state) {
        return lifecycle().stream().anyMatch(v -> v.domain().equals(domain) && v.state() == state);
    }

    long count(String domain, ReplicaState state) {
        return lifecycle().stream().filter(v -> v.domain().equals(domain) && v.state() == state).count();
    }

    boolean held(String code) {
        return decisions().stream().anyMatch(d -> d.action() == ScaleAction.HOLD && d.reasonCode().equals(code));
    }

    /** The scaler's state of the domain, or null. */
    ReplicaState state(String domain) {
        return scaler.replicas().get(domain);
    }

    long in(ReplicaState state) {
        return scaler.replicas().values().stream().filter(s -> s == state).count();
    }

    long ready() {
        return scaler.replicas().values().stream().filter(s -> s == ReplicaState.READY).count();
    }

    void awaitReady(int n) {
        await().atMost(Duration.ofSeconds(15)).until(() -> ready() == n && scaler.replicas().size() == n);
    }

    /** A sample for every READY replica, as the monitor would publish it. */
    void sample(double cpu) {
        var now = Clock.systemUTC().instant();
        scaler.replicas().forEach((domain, state) -> {
            if (state == ReplicaState.READY) {
                String host = lifecycle().stream().filter(v -> v.domain().equals(domain)).reduce((a, b) -> b)
                        .map(VmLifecycle::host).orElse("fake:///"); // the monitor of the host it runs on
                scaler.onSample(new CpuSample(host, domain, "RUNNING", 1, 0, cpu, 100), now);
            }
        });
    }

    /** The balancer's stats naming one endpoint. */
    void lbStats(String endpoint, int inFlight, boolean removed) {
        scaler.onLbStats(new LbStats(0, 0, 0, 0, 0, 0, 0, 0,
                Map.of(endpoint, new LbStats.ServerStats(1, 1, 0, 0, inFlight, false, removed)), "low", 100));
    }

    /** The balancer's stats marking one endpoint calibrating (kept saturated to be measured), or no longer. */
    void calibrating(String endpoint, boolean calibrating) {
        scaler.onLbStats(new LbStats(0, 0, 0, 0, 0, 0, 0, 0,
                Map.of(endpoint, new LbStats.ServerStats(1, 1, 0, 0, 16, false, false, calibrating)), "low", 100));
    }

    /** Where the domain serves, from its last lifecycle event that named it. */
    String endpoint(String domain) {
        return lifecycle().stream().filter(v -> v.domain().equals(domain) && v.endpoint() != null)
                .reduce((a, b) -> b).orElseThrow().endpoint().toString();
    }

    AdminResult command(String name, String... args) {
        return scaler.handle(new AdminCommand("r-" + UUID.randomUUID(), "vmscale.reply.test", "scaler", name,
                List.of(args)));
    }

    @Override
    public void close() {
        scaler.close();
        hypervisor.closeAll();
    }
}
