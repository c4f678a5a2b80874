package io.vmscale.balancer.traffic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.VmLifecycle;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HAProxy driver against a real HAProxy on loopback, its replicas real HTTP servers: READY is routable at
 * once, a drain is acknowledged only when HAProxy has no session left to it, gone servers are deleted, a restarted
 * HAProxy gets its servers back, a stale server of the group is removed, a foreign one never touched.
 */
class HaproxyDriverTest {
    private static final Duration SOON = Duration.ofSeconds(10);
    private static final Pattern OURS = Pattern.compile("web-\\d{4}");

    @TempDir
    Path dir;

    private final List<HttpServer> replicas = new ArrayList<>();
    private final List<Event> published = new CopyOnWriteArrayList<>();
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final CountDownLatch release = new CountDownLatch(1);

    /** An HTTP replica answering its own name; {@code /slow} waits for the test's release. */
    private Endpoint replica(String name) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            if (exchange.getRequestURI().getPath().equals("/slow")) {
                try {
                    release.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            byte[] body = name.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.start();
        replicas.add(server);
        return new Endpoint("127.0.0.1", server.getAddress().getPort());
    }

    @AfterEach
    void stopReplicas() {
        release.countDown();
        replicas.forEach(s -> s.stop(0));
    }

    private String get(Haproxy haproxy, String path) throws Exception {
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + haproxy.port
                + path)).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        return response.statusCode() + " " + response.body();
    }

    private static VmLifecycle event(String domain, Endpoint endpoint, ReplicaState state) {
        return new VmLifecycle(domain, "qemu:///system", endpoint, state, "test");
    }

    private LbStats.ServerStats lastStats(Endpoint endpoint) {
        for (int i = published.size() - 1; i >= 0; i--) {
            if (published.get(i) instanceof LbStats stats && stats.servers().containsKey(endpoint.toString())) {
                return stats.servers().get(endpoint.toString());
            }
        }
        return null;
    }

    private List<String> serverNames(HaproxyRuntime runtime) {
        return runtime.servers("web").stream().map(HaproxyRuntime.Server::name).toList();
    }

    @Test
    void readyIsRoutableDrainingEndsWithItsLastSessionGoneIsDeletedAndARestartedHaproxyConverges() throws Exception {
        Endpoint a = replica("web-0000");
        Endpoint b = replica("web-0001");
        try (Haproxy haproxy = new Haproxy(dir, "web");
             TrafficService service = new TrafficService(new HaproxyDriver(new HaproxyRuntime(haproxy.socket), "web",
                     "", OURS.asMatchPredicate()), OURS.asMatchPredicate(), published::add, Duration.ofMillis(200))) {
            HaproxyRuntime runtime = new HaproxyRuntime(haproxy.socket);
            service.applyListing(List.of());
            assertThat(get(haproxy, "/")).as("no server of the group yet").startsWith("503");

            service.onLifecycle(event("web-0000", a, ReplicaState.READY));
            await().atMost(SOON).until(() -> get(haproxy, "/").equals("200 web-0000"));
            service.onLifecycle(event("web-0001", b, ReplicaState.READY));
            await().atMost(SOON).until(() -> get(haproxy, "/").equals("200 web-0001"));

            // a request in progress on web-0000 holds its drain open
            await().atMost(SOON).until(() -> {
                CompletableFuture<HttpResponse<String>> slow = client.sendAsync(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + haproxy.port + "/slow")).build(),
                        HttpResponse.BodyHandlers.ofString());
                heldOn.add(slow);
                return runtime.stats("web").get("web-0000") != null
                        && Integer.parseInt(runtime.stats("web").get("web-0000").get("scur")) == 1;
            });
            service.onLifecycle(event("web-0000", a, ReplicaState.DRAINING));
            await().atMost(SOON).until(() -> runtime.servers("web").stream()
                    .anyMatch(s -> s.name().equals("web-0000") && s.draining()));
            for (int i = 0; i < 10; i++) {
                assertThat(get(haproxy, "/")).as("a draining server gets no new request").isEqualTo("200 web-0001");
            }
            await().atMost(SOON).until(() -> lastStats(a) != null && lastStats(a).inFlight() == 1);
            assertThat(lastStats(a).removed()).as("not acknowledged while a session is in progress").isFalse();
            release.countDown();
            await().atMost(SOON).until(() -> lastStats(a) != null && lastStats(a).removed()
                    && lastStats(a).inFlight() == 0);
            for (CompletableFuture<HttpResponse<String>> held : heldOn) {
                assertThat(held.get(5, TimeUnit.SECONDS).statusCode()).isIn(200, 503);
            }

            service.onLifecycle(event("web-0000", null, ReplicaState.STOPPED));
            await().atMost(SOON).until(() -> !serverNames(runtime).contains("web-0000"));
            assertThat(serverNames(runtime)).containsExactlyInAnyOrder("keep", "web-0001");

            haproxy.restart(); // comes back with its configuration's backend: none of ours
            await().atMost(SOON).until(() -> serverNames(runtime).contains("web-0001"));
            await().atMost(SOON).until(() -> get(haproxy, "/").equals("200 web-0001"));

            runtime.change("add server web/web-0009 127.0.0.1:9"); // a server of the group nobody lists
            await().atMost(SOON).until(() -> !serverNames(runtime).contains("web-0009"));
            assertThat(serverNames(runtime)).containsExactlyInAnyOrder("keep", "web-0001");
        }
    }

    private final List<CompletableFuture<HttpResponse<String>>> heldOn = new CopyOnWriteArrayList<>();

    @Test
    void beforeTheScalersListingNothingIsRemovedThatNoEventNamed() throws Exception {
        Endpoint a = replica("web-0000");
        try (Haproxy haproxy = new Haproxy(dir, "web");
             TrafficService service = new TrafficService(new HaproxyDriver(new HaproxyRuntime(haproxy.socket), "web",
                     "", OURS.asMatchPredicate()), OURS.asMatchPredicate(), published::add, Duration.ofMillis(200))) {
            HaproxyRuntime runtime = new HaproxyRuntime(haproxy.socket);
            runtime.change("add server web/web-0005 127.0.0.1:" + a.port());
            runtime.change("set server web/web-0005 state ready");
            service.onLifecycle(event("web-0000", a, ReplicaState.READY));
            await().atMost(SOON).until(() -> serverNames(runtime).contains("web-0000"));
            long syncs = service.syncs();
            await().atMost(SOON).until(() -> service.syncs() >= syncs + 2);
            assertThat(serverNames(runtime)).as("web-0005 may be serving: only the scaler can say it is not")
                    .contains("web-0005");
            service.applyListing(List.of(event("web-0000", a, ReplicaState.READY)));
            await().atMost(SOON).until(() -> !serverNames(runtime).contains("web-0005"));
        }
    }

    @Test
    void anAbsentSocketOrAnUnknownBackendIsOneClearLineAndTheServiceCarriesOn() throws Exception {
        HaproxyRuntime nowhere = new HaproxyRuntime(dir.resolve("absent.sock"));
        assertThatThrownBy(() -> nowhere.servers("web")).isInstanceOf(HaproxyRuntime.HaproxyException.class)
                .hasMessage("no HAProxy Runtime API at " + dir.resolve("absent.sock") + ": no such socket (is haproxy "
                        + "running with 'stats socket " + dir.resolve("absent.sock") + " level admin' in its global "
                        + "section?)");
        try (Haproxy haproxy = new Haproxy(dir, "web")) {
            HaproxyRuntime runtime = new HaproxyRuntime(haproxy.socket);
            assertThatThrownBy(() -> runtime.servers("nope")).hasMessage("HAProxy refused 'show servers state nope': "
                    + "Can't find backend.");
            assertThatThrownBy(() -> runtime.change("set server web/web-0007 state ready")).hasMessage("HAProxy refused "
                    + "'set server web/web-0007 state ready': No such server.");
            haproxy.stop();
            assertThatThrownBy(() -> runtime.servers("web")).isInstanceOf(HaproxyRuntime.HaproxyException.class)
                    .hasMessageContaining("refused the connection");
        }
        Endpoint a = replica("web-0000");
        try (TrafficService service = new TrafficService(new HaproxyDriver(nowhere, "web", "", OURS.asMatchPredicate()),
                OURS.asMatchPredicate(), published::add, Duration.ofMillis(100))) {
            service.onLifecycle(event("web-0000", a, ReplicaState.READY));
            assertThat(service.targets()).containsKey("web-0000"); // kept, synced once HAProxy is there
            assertThat(service.syncs()).isZero();
        }
    }
}
