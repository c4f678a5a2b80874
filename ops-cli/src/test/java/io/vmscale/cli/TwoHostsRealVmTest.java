package io.vmscale.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.balancer.Balancer;
import io.vmscale.balancer.LoadMode;
import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Role;
import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.broker.event.Topic;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.cli.config.ConfigLoader;
import io.vmscale.cli.config.VmscaleConfig;
import io.vmscale.cli.demo.FullDemo;
import io.vmscale.cli.stack.Stack;
import io.vmscale.libvirt.HostConnection;
import io.vmscale.libvirt.LibvirtConfig;
import io.vmscale.scaler.Scaler;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
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
 * Two libvirt hosts on this machine, real VMs, the whole stack: the system host and a second one started by
 * {@code scripts/libvirt-host}, one replica each at most, with one monitor per host (the stack's reads the first,
 * {@code vmscale monitor --uri TWO --connect ...} in its own process the second, as it would run on that host). Placement puts one on each; a third holds with
 * NoCapacity; a scale-in leaves one host empty; the survivor is live-migrated under load with no wrong and no
 * lost answer; the host's libvirtd is killed and its replica replaced on the other host within the grace
 * period and a boot; when the host returns the reconciler keeps exactly the count wanted.
 */
class TwoHostsRealVmTest {
    private static final Logger log = LoggerFactory.getLogger(TwoHostsRealVmTest.class);
    private static final Path SCRIPT = Path.of("..", "scripts", "libvirt-host").toAbsolutePath().normalize();
    private static final String ONE = "qemu:///system";
    private static final Duration BOOT = Duration.ofSeconds(180);
    private static final int GRACE = 5;

    @TempDir
    Path dir;

    private final List<Timed<VmLifecycle>> lifecycle = new CopyOnWriteArrayList<>();
    private final List<Timed<ScaleDecision>> decisions = new CopyOnWriteArrayList<>();
    private final List<Timed<CpuSample>> samples = new CopyOnWriteArrayList<>();

    private record Timed<T>(Instant at, T event) {
    }

    private static String host(String action) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(SCRIPT.toString(), action, "2").redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as("libvirt-host " + action + " 2").isZero();
        return out;
    }

    @Test
    void placementMigrationAndAHostLostAndBack() throws Exception {
        String two = host("start");
        String prefix = "vmscale-hosts" + UUID.randomUUID().toString().substring(0, 6);
        VmscaleConfig demo = FullDemo.demoConfig(ConfigLoader.defaults(), dir.resolve("broker"));
        VmscaleConfig config = new VmscaleConfig(demo.broker(), new LibvirtConfig(List.of(ONE, two), prefix,
                demo.libvirt().reconnectMinMs(), demo.libvirt().reconnectMaxMs(),
                List.of(new LibvirtConfig.Host(ONE, "", 1), new LibvirtConfig.Host(two, "", 1))),
                demo.monitor().withUris(List.of(ONE)),
                demo.provisioning(), demo.scaler().withLimits(1, 3).withHosts(GRACE, -1), demo.balancer(), demo.guest(), demo.application(), demo.traffic());
        StringWriter out = new StringWriter();
        try (HostConnection libvirtOne = HostConnection.open(ONE);
             HostConnection libvirtTwo = HostConnection.open(two);
             Stack stack = Stack.start(config, new PrintWriter(out, true), "hosts-test", broker -> {
                 BrokerConnection viewer = broker.connect(Role.VIEWER, "viewer@hosts-test");
                 viewer.subscribe(VmLifecycle.class, e -> {
                     if (e.source().startsWith("scaler@")) {
                         lifecycle.add(new Timed<>(e.ts(), e.body()));
                         log.info("lifecycle {} {} on {}: {}", e.body().domain(), e.body().state(), e.body().host(),
                                 e.body().reason());
                     }
                 });
                 viewer.subscribe(CpuSample.class, e -> samples.add(new Timed<>(e.ts(), e.body())));
                 viewer.subscribe(ScaleDecision.class, e -> {
                     decisions.add(new Timed<>(e.ts(), e.body()));
                     log.info("decision {} {}: {}", e.body().action(), e.body().reasonCode(), e.body().reason());
                 });
                 return List.of(viewer);
             })) {
            Scaler scaler = stack.scaler();
            assertThat(stack.monitor().hosts()).extracting(HostConnection::uri).containsExactly(ONE);
            Process monitorTwo = monitorOf(config, two);
            try {
                await().atMost(BOOT).until(() -> count(scaler, ReplicaState.READY) == 1);
                assertThat(command(scaler, "pause").ok()).isTrue(); // the operator steers from here
                String first = only(scaler);
                await().atMost(Duration.ofSeconds(10)).until(() -> readyOrNull(first) != null);
                assertThat(ready(first).host()).isEqualTo(ONE);

                // 1. placement: the second replica goes to the host with room, a third fits nowhere
                assertThat(command(scaler, "scale", "2").ok()).isTrue();
                await().atMost(BOOT).until(() -> count(scaler, ReplicaState.READY) == 2);
                String second = scaler.replicas().keySet().stream().filter(d -> !d.equals(first)).findFirst().orElseThrow();
                await().atMost(Duration.ofSeconds(10)).until(() -> readyOrNull(second) != null);
                assertThat(ready(second).host()).isEqualTo(two);
                assertThat(ready(second).endpoint().ip()).isEqualTo("127.0.0.2");
                // each replica's CPU read by its host's monitor: the second one's by the other process, under the
                // name the scaler knows its host by (though reached through another URI)
                assertThat(monitorTwo.isAlive()).as(Files.readString(dir.resolve("monitor-two.log"))).isTrue();
                await().atMost(Duration.ofSeconds(10)).until(() -> sampled(second, two) && sampled(first, ONE));
                assertThat(samples).filteredOn(t -> t.event().domain().equals(second))
                        .allSatisfy(t -> assertThat(t.event().host()).isEqualTo(two));
                assertThat(Files.readString(dir.resolve("monitor-two.log")))
                        .contains("monitor: domains " + prefix + "-NNNN on " + two + " (through " + through(two) + ")");
                assertThat(libvirtOne.domains().names(n -> n.startsWith(prefix))).containsExactly(first);
                assertThat(libvirtTwo.domains().names(n -> n.startsWith(prefix))).containsExactly(second);
                assertThat(command(scaler, "scale", "3").ok()).isTrue();
                await().atMost(Duration.ofSeconds(10)).until(() -> decided("NoCapacity") != null);
                assertThat(decided("NoCapacity").reason()).contains(ONE + ": 1/1 replica(s)", two + ": 1/1 replica(s)");

                // 2. a scale-in (the newest goes) leaves the second host empty
                assertThat(command(scaler, "scale", "1").ok()).isTrue();
                await().atMost(BOOT).until(() -> scaler.replicas().size() == 1);
                assertThat(libvirtTwo.domains().names(n -> n.startsWith(prefix))).isEmpty();

                // 3. the survivor live-migrated under load: nothing wrong, nothing lost
                stack.balancer().setMode(LoadMode.custom(0.3));
                await().atMost(Duration.ofSeconds(30)).until(() -> stack.balancer().totals().answered() > 200);
                Balancer.Totals before = stack.balancer().totals();
                Instant asked = Instant.now();
                AdminResult moving = command(scaler, "migrate", first, two);
                assertThat(moving.ok()).as(moving.message()).isTrue();
                await().atMost(Duration.ofSeconds(60)).until(() -> lifecycle.stream().anyMatch(t -> t.at().isAfter(asked)
                        && t.event().domain().equals(first) && t.event().state() == ReplicaState.READY)
                        && scaler.replicas().get(first) == ReplicaState.READY && !busy(scaler));
                VmLifecycle moved = ready(first);
                assertThat(moved.host()).isEqualTo(two);
                assertThat(moved.reason()).startsWith(VmLifecycle.MOVED + " " + ONE);
                assertThat(moved.endpoint().ip()).isEqualTo("127.0.0.2");
                Instant arrived = lifecycle.stream().filter(t -> t.at().isAfter(asked) && t.event().domain().equals(first)
                        && t.event().state() == ReplicaState.READY).findFirst().orElseThrow().at();
                log.info("migration: asked -> READY at the new endpoint {} ms", Duration.between(asked, arrived).toMillis());
                await().atMost(Duration.ofSeconds(10)).until(() -> stack.balancer().answered(moved.endpoint()) > 100);
                Balancer.Totals after = stack.balancer().totals();
                log.info("during the migration: sent {}, answered {}, timed out {}, wrong {}", after.sent() - before.sent(),
                        after.answered() - before.answered(), after.timedOut() - before.timedOut(),
                        after.wrong() - before.wrong());
                assertThat(after.wrong() - before.wrong()).isZero();
                assertThat(after.timedOut() - before.timedOut()).as("lost answers").isZero();
                assertThat(libvirtOne.domains().names(n -> n.startsWith(prefix))).isEmpty();
                assertThat(libvirtTwo.domains().names(n -> n.startsWith(prefix))).containsExactly(first);
                assertThat(libvirtTwo.domains().metadata(first, "https://vmscale.io/xmlns/replica/1")).as("its persistent definition")
                        .hasValueSatisfying(mark -> assertThat(mark).contains("127.0.0.2").doesNotContain("127.0.0.1"));
                // now read by the other host's monitor
                await().atMost(Duration.ofSeconds(10)).until(() -> samples.stream().anyMatch(t -> t.at().isAfter(arrived)
                        && t.event().domain().equals(first) && t.event().host().equals(two)));

                // 4. the second host's libvirtd killed: its replica is replaced on the first host
                Instant killed = Instant.now();
                host("crash");
                await().atMost(BOOT).until(() -> lifecycle.stream().anyMatch(t -> t.at().isAfter(killed)
                        && t.event().state() == ReplicaState.READY && t.event().host().equals(ONE)));
                Timed<VmLifecycle> replacement = lifecycle.stream().filter(t -> t.at().isAfter(killed)
                        && t.event().state() == ReplicaState.READY && t.event().host().equals(ONE)).findFirst().orElseThrow();
                log.info("host lost -> replacement READY {} ms", Duration.between(killed, replacement.at()).toMillis());
                assertThat(lifecycle).filteredOn(t -> t.event().domain().equals(first) && t.event().state() == ReplicaState.FAILED)
                        .singleElement().satisfies(t -> assertThat(t.event().reason()).contains("its host " + two));
                assertThat(decisions).filteredOn(t -> t.event().action() == ScaleAction.REPLACE).singleElement();

                // 5. the host comes back with its replica still running: exactly one stays
                host("start");
                await().atMost(BOOT).until(() -> lifecycle.stream().anyMatch(t -> t.at().isAfter(replacement.at())
                        && t.event().state() == ReplicaState.STOPPED));
                await().atMost(BOOT).until(() -> scaler.replicas().size() == 1 && count(scaler, ReplicaState.READY) == 1);
                assertThat(libvirtOne.domains().names(n -> n.startsWith(prefix)).size()
                        + libvirtTwo.domains().names(n -> n.startsWith(prefix)).size()).isEqualTo(1);
                assertThat(decisions).filteredOn(t -> t.event().action() == ScaleAction.REPLACE).hasSize(1);
            } finally {
                monitorTwo.destroy();
                assertThat(monitorTwo.waitFor(10, TimeUnit.SECONDS)).isTrue();
                for (var replica : stack.provisioner().observe().replicas()) {
                    stack.provisioner().stop(replica.domain());
                }
            }
        } finally {
            host("stop");
        }
    }

    /** {@code vmscale monitor} reading the one host, as it would run there, publishing to the stack's broker. */
    private Process monitorOf(VmscaleConfig config, String uri) throws IOException {
        Path file = Files.writeString(dir.resolve("monitor.json"), """
                {"broker": {"bind": "%s", "port": %d, "dataDir": "%s"},
                 "libvirt": {"uris": ["%s", "%s"], "prefix": "%s"},
                 "monitor": {"intervalMs": %d}}""".formatted(config.broker().bind(), config.broker().port(),
                config.broker().dataDir(), ONE, uri, config.libvirt().prefix(), config.monitor().intervalMs()));
        return new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "monitor", "--config", file.toString(), "--uri", uri, "--connect", through(uri)))
                .redirectErrorStream(true).redirectOutput(dir.resolve("monitor-two.log").toFile()).start();
    }

    /** The same host by another URI: its default port left out. */
    private static String through(String uri) {
        return uri.replace(":16509/", "/");
    }

    private boolean sampled(String domain, String host) {
        return samples.stream().anyMatch(t -> t.event().domain().equals(domain) && t.event().host().equals(host));
    }

    private VmLifecycle ready(String domain) {
        VmLifecycle ready = readyOrNull(domain);
        assertThat(ready).as("a READY of " + domain).isNotNull();
        return ready;
    }

    private VmLifecycle readyOrNull(String domain) {
        return lifecycle.stream().map(Timed::event).filter(v -> v.domain().equals(domain) && v.state() == ReplicaState.READY)
                .reduce((a, b) -> b).orElse(null);
    }

    private ScaleDecision decided(String code) {
        return decisions.stream().map(Timed::event).filter(d -> d.reasonCode().equals(code)).findFirst().orElse(null);
    }

    private static boolean busy(Scaler scaler) {
        Object acting = ((Map<?, ?>) command(scaler, "status").data().get("scaler")).get("acting");
        return acting != null;
    }

    private static long count(Scaler scaler, ReplicaState state) {
        return scaler.replicas().values().stream().filter(s -> s == state).count();
    }

    private static String only(Scaler scaler) {
        return scaler.replicas().keySet().iterator().next();
    }

    private static AdminResult command(Scaler scaler, String name, String... args) {
        return scaler.handle(new AdminCommand("t-" + UUID.randomUUID(), Topic.REPLY_PREFIX + "test", "scaler", name,
                List.of(args)));
    }
}
