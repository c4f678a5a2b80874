package io.vmscale.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.balancer.LoadMode;
import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Role;
import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.broker.event.Topic;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.cli.config.ConfigLoader;
import io.vmscale.cli.config.VmscaleConfig;
import io.vmscale.cli.demo.FullDemo;
import io.vmscale.cli.stack.Stack;
import io.vmscale.libvirt.DomainState;
import io.vmscale.libvirt.HostConnection;
import io.vmscale.libvirt.LibvirtConfig;
import io.vmscale.scaler.Scaler;
import io.vmscale.scaler.ScalerConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The warm pool on real VMs (qemu:///system), one stack through every path in turn, four boots in all:
 * a paused replica prepared beside the first one, found again by a restarted scaler, taken by a scale-up
 * (resumed, READY and answering through the balancer at once), the pool refilled, a scale-in returning a
 * replica to the pool, the pool emptied, then a saved replica prepared and restored by a scale-up.
 */
class WarmPoolRealVmTest {
    private static final Logger log = LoggerFactory.getLogger(WarmPoolRealVmTest.class);
    private static final String URI = "qemu:///system";
    private static final Duration BOOT = Duration.ofSeconds(180);

    @TempDir
    Path dir;

    private final List<VmLifecycle> lifecycle = new CopyOnWriteArrayList<>();
    private final List<Timed<ScaleDecision>> decisions = new CopyOnWriteArrayList<>();
    private final List<Timed<VmLifecycle>> ready = new CopyOnWriteArrayList<>();

    private record Timed<T>(Instant at, T event) {
    }

    @Test
    void pausedAndSavedReplicasServeAtOnceAndTheScalerKeepsItsPoolAcrossARestart() throws Exception {
        String prefix = "vmscale-pool" + UUID.randomUUID().toString().substring(0, 6);
        VmscaleConfig demo = FullDemo.demoConfig(ConfigLoader.defaults(), dir.resolve("broker"));
        ScalerConfig scaler = demo.scaler().withLimits(1, 3) // room for two serving and one parked
                .withWarmPool(new ScalerConfig.WarmPoolConfig(1, "paused", -1, 100));
        scaler = new ScalerConfig(scaler.policy(), 1, 3, scaler.cooldownSeconds(), scaler.tickMs(),
                scaler.probeTimeoutSeconds(), scaler.drainTimeoutSeconds(), scaler.warmupSeconds(),
                0, // three QEMU processes on two cores: the host guard would rightly hold the refill
                scaler.thresholdWindow(), scaler.targetTracking(), scaler.warmPool());
        VmscaleConfig config = new VmscaleConfig(demo.broker(), new LibvirtConfig(demo.libvirt().uris(), prefix,
                demo.libvirt().reconnectMinMs(), demo.libvirt().reconnectMaxMs()), demo.monitor(), demo.provisioning(),
                scaler, demo.balancer(), demo.guest(), demo.application(), demo.traffic());
        StringWriter out = new StringWriter();
        try (HostConnection libvirt = HostConnection.open(URI);
             Stack stack = Stack.start(config, new PrintWriter(out, true), "pool-test", broker -> {
                 BrokerConnection viewer = broker.connect(Role.VIEWER, "viewer@pool-test");
                 viewer.subscribe(VmLifecycle.class, e -> {
                     if (e.source().startsWith("scaler@")) {
                         lifecycle.add(e.body());
                         if (e.body().state() == ReplicaState.READY) {
                             ready.add(new Timed<>(e.ts(), e.body()));
                         }
                     }
                 });
                 viewer.subscribe(ScaleDecision.class, e -> {
                     if (e.body().action() != ScaleAction.HOLD) {
                         decisions.add(new Timed<>(e.ts(), e.body()));
                         log.info("decision {}: {}", e.body().reasonCode(), e.body().reason());
                     }
                 });
                 return List.of(viewer);
             })) {
            try {
                // 1. one replica serving, one booted, warmed with real requests and paused beside it
                await().atMost(BOOT).until(() -> count(stack.scaler(), ReplicaState.READY) == 1
                        && count(stack.scaler(), ReplicaState.POOLED) == 1);
                String parked = only(stack.scaler(), ReplicaState.POOLED);
                assertThat(state(libvirt, parked)).isEqualTo(DomainState.PAUSED);
                assertThat(last(parked).reason()).contains("100 of 100 real requests answered").endsWith("paused");

                // 2. a restarted scaler finds its serving replica and its pool, and boots nothing
                stack.scaler().close();
                List<String> domains = libvirt.domains().names(n -> n.startsWith(prefix + "-"));
                assertThat(domains).hasSize(2);
                try (BrokerConnection connection = stack.broker().connect(Role.COMPONENT, BrokerConnection.source("scaler"));
                     Scaler restarted = Scaler.start(config.scaler(), stack.provisioner(), connection::publish, URI,
                             connection.source(), Scaler.Settings.of(config.scaler(), config.balancer().work()),
                             Clock.systemUTC())) {
                    restarted.listenTo(connection);
                    // the operator steers from here: the policy decides and publishes, nothing it says is acted on
                    assertThat(command(restarted, "pause").ok()).isTrue();
                    await().atMost(BOOT).until(() -> count(restarted, ReplicaState.READY) == 1
                            && count(restarted, ReplicaState.POOLED) == 1);
                    assertThat(only(restarted, ReplicaState.POOLED)).isEqualTo(parked);
                    assertThat(lifecycle).filteredOn(v -> v.domain().equals(parked) && v.state() == ReplicaState.POOLED)
                            .last().satisfies(v -> assertThat(v.reason()).isEqualTo("found paused in libvirt"));
                    assertThat(libvirt.domains().names(n -> n.startsWith(prefix + "-"))).as("no duplicate")
                            .containsExactlyInAnyOrderElementsOf(domains);

                    // 3. a scale-up takes the paused replica: READY and answering through the balancer at once
                    stack.balancer().setMode(new LoadMode("low", 0.2));
                    Duration paused = scaleUpFromPool(restarted, stack, parked, "paused");
                    log.info("paused replica: decision -> READY {} ms", paused.toMillis());
                    assertThat(paused).isLessThan(Duration.ofSeconds(2));
                    // the pool is refilled with a new boot
                    await().atMost(BOOT).until(() -> count(restarted, ReplicaState.POOLED) == 1);
                    String refill = only(restarted, ReplicaState.POOLED);
                    assertThat(refill).isNotEqualTo(parked);

                    // 4. a scale-in while the pool is short returns the drained replica to it, paused
                    assertThat(command(restarted, "pool", "2").ok()).isTrue();
                    assertThat(command(restarted, "scale", "1").ok()).isTrue();
                    await().atMost(BOOT).until(() -> count(restarted, ReplicaState.POOLED) == 2
                            && count(restarted, ReplicaState.READY) == 1);
                    assertThat(state(libvirt, parked)).isEqualTo(DomainState.PAUSED);
                    assertThat(last(parked).reason()).contains("drained: ").endsWith("returned to the warm pool (paused)");

                    // 5. the pool emptied, then one saved replica prepared: a scale-up restores it
                    assertThat(command(restarted, "pool", "0").ok()).isTrue();
                    await().atMost(BOOT).until(() -> libvirt.domains().names(n -> n.startsWith(prefix + "-")).size() == 1);
                    assertThat(command(restarted, "pool", "1", "saved").ok()).isTrue();
                    await().atMost(BOOT).until(() -> count(restarted, ReplicaState.POOLED) == 1);
                    String saved = only(restarted, ReplicaState.POOLED);
                    assertThat(state(libvirt, saved)).isEqualTo(DomainState.SHUTOFF);
                    assertThat(libvirt.domains().hasManagedSave(saved)).isTrue();
                    Duration restored = scaleUpFromPool(restarted, stack, saved, "saved");
                    log.info("saved replica: decision -> READY {} ms", restored.toMillis());
                    assertThat(restored).isLessThan(Duration.ofSeconds(5));
                    assertThat(lifecycle).noneMatch(v -> v.state() == ReplicaState.FAILED);
                    restarted.close();
                }
            } finally {
                for (String name : libvirt.domains().names(n -> n.startsWith(prefix + "-"))) {
                    stack.provisioner().stop(name);
                }
            }
            assertThat(libvirt.domains().names(n -> n.startsWith(prefix + "-"))).isEmpty();
        }
    }

    /** Asks for one more replica; returns decision -> READY, once the balancer has answers from it. */
    private Duration scaleUpFromPool(Scaler scaler, Stack stack, String domain, String tier) {
        int before = decisions.size();
        long serving = count(scaler, ReplicaState.READY);
        assertThat(command(scaler, "scale", Long.toString(serving + 1)).ok()).isTrue();
        await().atMost(Duration.ofSeconds(30)).until(() -> ready.stream().anyMatch(r -> r.event().domain().equals(domain)
                && r.at().isAfter(decisions.get(decisions.size() - 1).at().minusSeconds(1))) && decisions.size() > before);
        Timed<ScaleDecision> up = decisions.subList(before, decisions.size()).stream()
                .filter(d -> d.event().action() == ScaleAction.UP).findFirst().orElseThrow();
        assertThat(up.event().reason()).contains(VmLifecycle.FROM_WARM_POOL + ": " + domain + " (" + tier + ")");
        Timed<VmLifecycle> readyEvent = ready.stream().filter(r -> r.event().domain().equals(domain)
                && r.at().isAfter(up.at())).findFirst().orElseThrow();
        assertThat(readyEvent.event().reason()).startsWith(VmLifecycle.FROM_WARM_POOL + " (" + tier + ")");
        assertThat(readyEvent.event().warmStart()).as("its READY says it comes back warm").isTrue();
        Endpoint endpoint = readyEvent.event().endpoint();
        await().atMost(Duration.ofSeconds(5)).until(() -> stack.balancer().answered(endpoint) > 0);
        return Duration.between(up.at(), readyEvent.at());
    }

    private VmLifecycle last(String domain) {
        return lifecycle.stream().filter(v -> v.domain().equals(domain)).reduce((a, b) -> b).orElseThrow();
    }

    private static long count(Scaler scaler, ReplicaState state) {
        return scaler.replicas().values().stream().filter(s -> s == state).count();
    }

    private static String only(Scaler scaler, ReplicaState state) {
        return scaler.replicas().entrySet().stream().filter(e -> e.getValue() == state).map(java.util.Map.Entry::getKey)
                .findFirst().orElseThrow();
    }

    private static DomainState state(HostConnection libvirt, String domain) {
        return libvirt.domains().find(domain).orElseThrow().state();
    }

    private static AdminResult command(Scaler scaler, String name, String... args) {
        return scaler.handle(new AdminCommand("t-" + UUID.randomUUID(), Topic.REPLY_PREFIX + "test", "scaler", name,
                List.of(args)));
    }
}
