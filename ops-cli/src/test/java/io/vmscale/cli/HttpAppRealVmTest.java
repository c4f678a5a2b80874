package io.vmscale.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vmscale.balancer.traffic.HaproxyRuntime;
import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Role;
import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.cli.common.Home;
import io.vmscale.cli.config.ConfigLoader;
import io.vmscale.cli.config.VmscaleConfig;
import io.vmscale.cli.demo.FullDemo;
import io.vmscale.cli.stack.AppImage;
import io.vmscale.cli.stack.Stack;
import io.vmscale.libvirt.HostConnection;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Your own application on real VMs (qemu:///system): the HTTP image of {@code apps/http} (Debian with cloud-init),
 * configured by {@code apps/http/vmscale.json}, behind a real HAProxy on loopback driven through its Runtime API.
 * It runs as the second group of a deployment whose first is the built-in UDP service (one replica serving the
 * built-in balancer's load throughout, undisturbed). Two HTTP boots in all (about 90 s each under software
 * emulation): a replica is READY only once cloud-init has
 * installed the service from the user-data and {@code /healthz} answers; HAProxy's servers are the READY replicas,
 * again after HAProxy restarts and after vmscale restarts; a scale-in under HTTP load loses no request (drained
 * in HAProxy, then shut down by ACPI); a replica whose service stops is FAILED by its checks, out of HAProxy and
 * replaced.
 */
class HttpAppRealVmTest {
    private static final Logger log = LoggerFactory.getLogger(HttpAppRealVmTest.class);
    private static final String URI_SYSTEM = "qemu:///system";
    private static final Duration BOOT = Duration.ofSeconds(240);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private final List<VmLifecycle> lifecycle = new CopyOnWriteArrayList<>();
    private final List<ScaleDecision> decisions = new CopyOnWriteArrayList<>();
    private final List<LbStats> stats = new CopyOnWriteArrayList<>();
    /** The scaler's lifecycle events since the start, never cleared. */
    private final List<VmLifecycle> everything = new CopyOnWriteArrayList<>();
    /** The HTTP group's name (its prefix). */
    private String http;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** HAProxy on loopback: the frontend's port, its Runtime API socket; started (again) by {@link #start}. */
    private final class Haproxy implements AutoCloseable {
        final Path socket = dir.resolve("haproxy.sock");
        final int port;
        private Process process;

        Haproxy() throws Exception {
            port = freePort();
            Files.writeString(dir.resolve("haproxy.cfg"), """
                    global
                      stats socket %s mode 600 level admin
                    defaults
                      mode http
                      timeout connect 2s
                      timeout client 30s
                      timeout server 30s
                      retries 0
                    frontend web
                      bind 127.0.0.1:%d
                      default_backend web
                    backend web
                      balance roundrobin
                    """.formatted(socket, port));
            start();
        }

        void start() throws Exception {
            Files.deleteIfExists(socket);
            process = new ProcessBuilder("haproxy", "-db", "-f", dir.resolve("haproxy.cfg").toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.log").toFile()).start();
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(socket));
        }

        void kill() throws Exception {
            process.destroyForcibly();
            process.waitFor();
        }

        List<String> servers() {
            return new HaproxyRuntime(socket).servers("web").stream().map(HaproxyRuntime.Server::name).sorted().toList();
        }

        @Override
        public void close() throws Exception {
            kill();
        }
    }

    /** HTTP load through HAProxy from a few threads, every request counted: answered 2xx, other status, failed. */
    private final class Load implements AutoCloseable {
        final AtomicLong ok = new AtomicLong();
        final AtomicLong non2xx = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final List<String> failures = new CopyOnWriteArrayList<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final List<Thread> threads = new java.util.ArrayList<>();

        Load(int port, int threads, Duration atMost) {
            long end = System.nanoTime() + atMost.toNanos();
            for (int i = 0; i < threads; i++) {
                Thread t = new Thread(() -> {
                    while (running.get() && System.nanoTime() < end) {
                        try {
                            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                                    + port + "/work?n=20000")).timeout(Duration.ofSeconds(20)).build(),
                                    HttpResponse.BodyHandlers.ofString());
                            (r.statusCode() / 100 == 2 ? ok : non2xx).incrementAndGet();
                            if (r.statusCode() / 100 != 2) {
                                failures.add("HTTP " + r.statusCode() + " at " + Instant.now());
                            }
                        } catch (Exception e) {
                            failed.incrementAndGet();
                            failures.add(e + " at " + Instant.now());
                        }
                    }
                }, "http-load-" + i);
                t.setDaemon(true);
                t.start();
                this.threads.add(t);
            }
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.join(30_000);
            }
        }
    }

    /**
     * The first group, {@code udp}: the built-in UDP service with one replica and the built-in balancer's load. The
     * HTTP application joins it at run time ({@link #httpSpec}).
     */
    private VmscaleConfig config(String udp) {
        VmscaleConfig demo = FullDemo.demoConfig(ConfigLoader.defaults(), dir.resolve("broker"));
        io.vmscale.scaler.ScalerConfig one = demo.scaler().toBuilder().minReplicas(1).maxReplicas(1).build();
        return new VmscaleConfig(demo.broker(), demo.libvirt().withPrefix(udp), demo.monitor(), demo.provisioning(),
                one, demo.balancer(), demo.guest(), demo.application(), demo.traffic());
    }

    /**
     * The HTTP application of {@code apps/http/vmscale.json} as a group's spec, the group {@code prefix} through
     * HAProxy: what an operator gives {@code ops group create}.
     */
    private static String httpSpec(String prefix, Haproxy haproxy) throws Exception {
        ObjectNode json = (ObjectNode) JSON.readTree(Home.resolve("apps/http/vmscale.json").toFile());
        json.withObject("/provisioning").put("hostPortBase", 30000 + (int) (Math.random() * 20000));
        json.withObject("/traffic").put("haproxySocket", haproxy.socket.toString());
        ObjectNode scaler = json.withObject("/scaler");
        // room counts every group's vCPUs: the UDP group's replica holds one of this machine's two cores' worth
        scaler.put("minReplicas", 1).put("maxReplicas", 2).put("cooldownSeconds", 0).put("maxVcpusPerCore", 2.0);
        return JSON.writeValueAsString(json);
    }

    /** {@code group create|delete ...}, as {@code ops group} sends it. */
    private static AdminResult group(Stack stack, String... args) {
        return stack.groups().handle(new AdminCommand("t-" + UUID.randomUUID(), "vmscale.reply.test", "scaler", "group",
                List.of(args), ""));
    }

    private Stack start(VmscaleConfig config, String name) {
        return Stack.start(config, new PrintWriter(new StringWriter(), true), name, broker -> {
            BrokerConnection viewer = broker.connect(Role.VIEWER, "viewer@" + name);
            viewer.subscribe(VmLifecycle.class, e -> {
                if (e.source().startsWith("scaler@")) {
                    lifecycle.add(e.body());
                    everything.add(e.body());
                    log.info("{} {}: {}", e.body().domain(), e.body().state(), e.body().reason());
                }
            });
            viewer.subscribe(ScaleDecision.class, e -> {
                decisions.add(e.body());
                if (e.body().action() != ScaleAction.HOLD || e.body().reasonCode().equals("NoCapacity")) {
                    log.info("{} {}: {}", e.body().group(), e.body().action(), e.body().reason());
                }
            });
            viewer.subscribe(LbStats.class, e -> stats.add(e.body()));
            return List.of(viewer);
        });
    }

    /** A command to the HTTP group's scaler (the group {@link #http}). */
    private AdminResult command(Stack stack, String name, String... args) {
        return stack.groups().handle(new AdminCommand("t-" + UUID.randomUUID(), "vmscale.reply.test", "scaler", name,
                List.of(args), http));
    }

    /** The UDP group's load, through the built-in balancer (it carries the first group's traffic). */
    private static void udpLoad(Stack stack, String mode) {
        AdminResult set = stack.balancer().handle(new AdminCommand("t-" + UUID.randomUUID(), "vmscale.reply.test",
                "balancer", "load", List.of(mode)));
        assertThat(set.ok()).as(set.message()).isTrue();
    }

    /** The latest stats of that group's traffic. */
    private LbStats lastStats(String group) {
        return stats.stream().filter(l -> l.group().equals(group)).reduce((a, b) -> b).orElse(null);
    }

    private long count(String domain, ReplicaState state) {
        return lifecycle.stream().filter(v -> v.domain().equals(domain) && v.state() == state).count();
    }

    private VmLifecycle last(String domain, ReplicaState state) {
        return lifecycle.stream().filter(v -> v.domain().equals(domain) && v.state() == state).reduce((a, b) -> b)
                .orElseThrow();
    }

    @Test
    void yourOwnImageIsReadyAfterCloudInitServesThroughHaproxyScalesInWithoutLossAndIsReplacedWhenUnhealthy()
            throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 4);
        String prefix = "vmscale-http" + run;
        String udp = "vmscale-udp" + run;
        http = prefix;
        String zero = prefix + "-0000";
        String one = prefix + "-0001";
        String udpReplica = udp + "-0000";
        try (HostConnection libvirt = HostConnection.open(URI_SYSTEM); Haproxy haproxy = new Haproxy()) {
            AppImage image = AppImage.http(Home.dir(), libvirt, line -> log.info("{}", line));
            VmscaleConfig config = config(udp);
            try {
                Stack stack = start(config, "http-test");
                try {
                    // the HTTP group made at run time, as an operator would with 'ops group create'
                    AdminResult made = group(stack, "create", prefix, httpSpec(prefix, haproxy));
                    assertThat(made.ok()).as(made.message()).isTrue();
                    assertThat(command(stack, "pause").ok()).isTrue(); // the operator's counts only
                    // 0. beside it, the UDP group: one replica serving the built-in balancer's load all along
                    await().atMost(BOOT).until(() -> count(udpReplica, ReplicaState.READY) == 1);
                    udpLoad(stack, "low");

                    // 1. READY only once cloud-init installed the service from the user-data and /healthz answers
                    await().atMost(BOOT).until(() -> count(zero, ReplicaState.READY) == 1);
                    assertThat(last(zero, ReplicaState.READY).reason()).isEqualTo("passed its health check");
                    HttpResponse<String> whoami = client.send(HttpRequest.newBuilder(URI.create("http://"
                            + last(zero, ReplicaState.READY).endpoint() + "/whoami")).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertThat(whoami.body().strip()).as("cloud-init named the guest from the seed's meta-data")
                            .isEqualTo(zero);
                    await().atMost(Duration.ofSeconds(10)).until(() -> haproxy.servers().equals(List.of(zero)));
                    HttpResponse<String> work = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                            + haproxy.port + "/work?n=1022")).build(), HttpResponse.BodyHandlers.ofString());
                    assertThat(work.body().strip()).as("2^1022 mod 1021, through HAProxy").isEqualTo("4");

                    // 2. a second replica; HAProxy lists both
                    assertThat(command(stack, "scale", "2").ok()).isTrue();
                    await().atMost(BOOT).until(() -> count(one, ReplicaState.READY) == 1);
                    await().atMost(Duration.ofSeconds(10)).until(() -> haproxy.servers().equals(List.of(zero, one)));

                    // 3. HAProxy restarted with an empty backend: its servers come back at the next sync
                    haproxy.kill();
                    haproxy.start();
                    await().atMost(Duration.ofSeconds(10)).until(() -> haproxy.servers().equals(List.of(zero, one)));
                } finally {
                    stack.close(); // the replicas run on: the next start takes them back
                }

                // 4. vmscale restarted: the group made at run time is back (kept on the broker), both replicas taken
                //    back, HAProxy still lists exactly them
                lifecycle.clear();
                stack = start(config, "http-test-again");
                try {
                    assertThat(stack.groups().names()).containsExactly(udp, prefix);
                    await().atMost(Duration.ofSeconds(60)).until(() -> count(zero, ReplicaState.READY) == 1
                            && count(one, ReplicaState.READY) == 1);
                    assertThat(haproxy.servers()).containsExactly(zero, one);
                    assertThat(command(stack, "pause").ok()).isTrue();
                    await().atMost(Duration.ofSeconds(60)).until(() -> count(udpReplica, ReplicaState.READY) == 1);
                    udpLoad(stack, "low");
                    String udpEndpoint = last(udpReplica, ReplicaState.READY).endpoint().toString();
                    long udpAnswered = stack.balancer().lastStats() == null ? 0 : stack.balancer().lastStats().answered();

                    // 5. a scale-in under HTTP load: drained in HAProxy, shut down by ACPI, no request lost
                    Load load = new Load(haproxy.port, 4, Duration.ofMinutes(4));
                    await().atMost(Duration.ofSeconds(30)).until(() -> load.ok.get() > 20);
                    assertThat(command(stack, "scale", "1").ok()).isTrue();
                    await().atMost(Duration.ofSeconds(120)).until(() -> count(one, ReplicaState.STOPPED) == 1);
                    long before = load.ok.get();
                    await().atMost(Duration.ofSeconds(30)).until(() -> load.ok.get() > before + 10);
                    assertThat(load.failures).as("no request lost during the scale-in").isEmpty();
                    assertThat(last(one, ReplicaState.STOPPING).reason())
                            .startsWith("drained: the balancer acknowledged it and has nothing in flight to it");
                    assertThat(last(one, ReplicaState.STOPPED).reason()).matches("scale down; shut down \\(ACPI\\) in "
                            + "\\d+\\.\\d s");
                    assertThat(haproxy.servers()).containsExactly(zero);
                    assertThat(libvirt.volumes().names(AppImage.POOL)).as("its overlay and seed went with it")
                            .noneMatch(v -> v.startsWith(one));

                    // 6. the group's spec changed to another image under the same load ('ops group change'): its
                    //    scaler starts again with it, takes the serving replica back without a pause in service, and
                    //    rolls the image out: the new replica READY and baked before the old one drains; not one
                    //    request lost
                    String v2 = prefix + "-v2.qcow2"; // the same system, as a new base image: an overlay of the first
                    libvirt.volumes().createOverlay(AppImage.POOL, image.disk().getFileName().toString(), v2);
                    lifecycle.clear();
                    AdminResult set = group(stack, "change", prefix, "{\"application\": {\"image\": \""
                            + AppImage.POOL + "/" + v2 + "\"}}");
                    assertThat(set.ok()).as(set.message()).isTrue();
                    assertThat(set.message()).contains("(application.image)")
                            .contains("a rolling update replaces them with replicas booting " + AppImage.POOL + "/" + v2);
                    await().atMost(BOOT.plusSeconds(60)).until(() -> decisions.stream()
                            .anyMatch(d -> d.reasonCode().equals("RolloutCompleted")));
                    assertThat(decisions).filteredOn(d -> d.reasonCode().equals("RolloutStarted")).singleElement()
                            .satisfies(d -> assertThat(d.reason()).startsWith("the operator changed the group's image"));
                    long rolled = load.ok.get();
                    await().atMost(Duration.ofSeconds(30)).until(() -> load.ok.get() > rolled + 10);

                    // 6b. a rolling update to a broken image (its backing chain is gone: the image it was made over was
                    //     deleted): its first new replica cannot start, the update rolls back by itself to the image
                    //     before, and the serving replica is never touched: no request lost, nothing of the failed
                    //     start left in the pool
                    String broken = prefix + "-broken.qcow2";
                    String gone = prefix + "-gone.qcow2";
                    libvirt.volumes().createOverlay(AppImage.POOL, v2, gone);
                    libvirt.volumes().createOverlay(AppImage.POOL, gone, broken);
                    libvirt.volumes().delete(AppImage.POOL, gone);
                    int beforeBroken = decisions.size();
                    AdminResult toBroken = command(stack, "image", AppImage.POOL + "/" + broken);
                    assertThat(toBroken.ok()).as(toBroken.message()).isTrue();
                    await().atMost(Duration.ofSeconds(120)).until(() -> decisions.subList(beforeBroken, decisions.size())
                            .stream().anyMatch(d -> d.reasonCode().equals("RollbackCompleted")));
                    List<ScaleDecision> brokenSteps = List.copyOf(decisions.subList(beforeBroken, decisions.size()));
                    log.info("broken image: {}", brokenSteps.stream().map(d -> d.reasonCode() + ": " + d.reason()).toList());
                    assertThat(brokenSteps).filteredOn(d -> d.reasonCode().equals("RollbackStarted")).singleElement()
                            .satisfies(d -> assertThat(d.reason()).contains("automatic rollback")
                                    .contains("a new replica could not be started"));
                    assertThat(command(stack, "status").data().get("replicas")).asString()
                            .contains("image=" + AppImage.POOL + "/" + v2);
                    assertThat(last(one, ReplicaState.READY)).isNotNull();
                    assertThat(lifecycle).filteredOn(v -> v.domain().equals(one))
                            .noneMatch(v -> v.state() == ReplicaState.DRAINING || v.state() == ReplicaState.STOPPING);
                    assertThat(libvirt.volumes().names(AppImage.POOL)).filteredOn(v -> v.matches(
                            java.util.regex.Pattern.quote(prefix) + "-\\d{4}.*")).allMatch(v -> v.startsWith(one));
                    long afterBroken = load.ok.get();
                    await().atMost(Duration.ofSeconds(30)).until(() -> load.ok.get() > afterBroken + 10);
                    load.close();
                    log.info("load: {} answered, {} non-2xx, {} failed", load.ok, load.non2xx, load.failed);
                    assertThat(load.failures).as("no request lost during the scale-in and the rolling update").isEmpty();
                    int readyAt = lifecycle.indexOf(last(one, ReplicaState.READY));
                    assertThat(lifecycle.indexOf(last(zero, ReplicaState.DRAINING))).as("the old one drained after the new "
                            + "one was READY").isGreaterThan(readyAt);
                    assertThat(last(zero, ReplicaState.STOPPED).reason()).matches("scale down; shut down \\(ACPI\\) in "
                            + "\\d+\\.\\d s");
                    await().atMost(Duration.ofSeconds(10)).until(() -> haproxy.servers().equals(List.of(one)));
                    assertThat(command(stack, "status").data().get("replicas")).asString()
                            .contains("image=" + AppImage.POOL + "/" + v2).doesNotContain(zero);
                    assertThat(libvirt.volumes().names(AppImage.POOL)).noneMatch(v -> v.startsWith(zero));

                    // 7. its service stops while the VM runs: FAILED by its checks, out of HAProxy, replaced
                    String endpoint = last(one, ReplicaState.READY).endpoint().toString();
                    client.send(HttpRequest.newBuilder(URI.create("http://" + endpoint + "/stop"))
                            .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
                    await().atMost(Duration.ofSeconds(30)).until(() -> count(one, ReplicaState.FAILED) == 1);
                    assertThat(last(one, ReplicaState.FAILED).reason())
                            .startsWith("failed: health check failed 2 time(s) in a row (http): ");
                    await().atMost(Duration.ofSeconds(10)).until(() -> !haproxy.servers().contains(one));
                    await().atMost(Duration.ofSeconds(60)).until(() -> decisions.stream().anyMatch(d ->
                            d.action() == ScaleAction.REPLACE && d.reason().startsWith(one)));
                    await().atMost(Duration.ofSeconds(60)).until(() -> lifecycle.stream().anyMatch(v ->
                            v.domain().startsWith(prefix + "-") && v.state() == ReplicaState.STARTING
                                    && v.reason().equals("scale up")));

                    // 8. the UDP group went on undisturbed: its one replica served its load the whole time, right
                    //    (the balancer checks every answer), and its scaler decided nothing but its first start; the
                    //    HTTP group's traffic stats are its own (the drains above waited for HAProxy's, not these)
                    LbStats udpStats = stack.balancer().lastStats();
                    assertThat(udpStats.answered()).as("UDP answers since the restart").isGreaterThan(udpAnswered + 100);
                    assertThat(udpStats.wrong()).isZero();
                    assertThat(everything).filteredOn(v -> v.domain().startsWith(udp + "-"))
                            .extracting(VmLifecycle::domain).containsOnly(udpReplica);
                    assertThat(everything).filteredOn(v -> v.domain().startsWith(udp + "-"))
                            .noneMatch(v -> v.state() == ReplicaState.FAILED || v.state() == ReplicaState.DRAINING);
                    assertThat(decisions).filteredOn(d -> d.group().equals(udp) && d.action() != ScaleAction.HOLD)
                            .extracting(ScaleDecision::reasonCode).containsOnly("BelowMinReplicas");
                    assertThat(decisions).filteredOn(d -> d.action() != ScaleAction.HOLD && d.domain() != null
                            && d.domain().startsWith(udp + "-")).allMatch(d -> d.group().equals(udp));
                    assertThat(lastStats(prefix)).as("the HTTP group's own traffic stats").isNotNull();
                    assertThat(lastStats(prefix).servers().keySet()).doesNotContain(udpEndpoint);
                    assertThat(lastStats(udp).servers().keySet()).containsOnly(udpEndpoint);

                    // 9. the HTTP group deleted: its replicas drained out of HAProxy and stopped, its domains and
                    //    volumes gone; the UDP group serves on
                    AdminResult deleting = group(stack, "delete", prefix);
                    assertThat(deleting.ok()).as(deleting.message()).isTrue();
                    Stack running = stack;
                    await().atMost(BOOT).until(() -> !running.groups().names().contains(prefix));
                    assertThat(libvirt.domains().names(n -> n.startsWith(prefix + "-"))).isEmpty();
                    assertThat(libvirt.volumes().names(AppImage.POOL)).noneMatch(v -> v.matches(
                            java.util.regex.Pattern.quote(prefix) + "-\\d{4}.*"));
                    assertThat(haproxy.servers()).isEmpty();
                    assertThat(decisions).anyMatch(d -> d.group().equals(prefix) && d.reasonCode().equals("GroupDeleted"));
                    // the monitor hears of the deletion on vmscale.vm (a GroupChange), after the group left the list
                    await().atMost(Duration.ofSeconds(10)).until(() -> running.monitor().prefixes().equals(List.of(udp)));
                    assertThat(lastStats(udp).wrong()).isZero();
                } finally {
                    stack.close();
                }
            } finally {
                for (String domain : libvirt.domains().names(n -> n.startsWith(prefix + "-")
                        || n.startsWith(udp + "-"))) {
                    try {
                        libvirt.domains().destroy(domain);
                    } catch (RuntimeException e) {
                        // not running
                    }
                    libvirt.domains().undefine(domain);
                }
                for (String volume : libvirt.volumes().names(AppImage.POOL)) {
                    if (volume.startsWith(prefix + "-")) {
                        libvirt.volumes().delete(AppImage.POOL, volume);
                    }
                }
            }
        }
    }
}
