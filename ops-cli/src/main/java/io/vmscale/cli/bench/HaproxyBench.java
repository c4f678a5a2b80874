package io.vmscale.cli.bench;

import com.sun.net.httpserver.HttpServer;
import io.vmscale.balancer.traffic.HaproxyDriver;
import io.vmscale.balancer.traffic.HaproxyRuntime;
import io.vmscale.balancer.traffic.TrafficConfig;
import io.vmscale.balancer.traffic.TrafficDriver;
import io.vmscale.balancer.traffic.TrafficService;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.cli.stack.HaproxyProcess;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * The HAProxy driver's two latencies against a real HAProxy on loopback (Debian's package, the default
 * {@code traffic.syncMs}): from a READY event to the first request HAProxy sends to that replica, and from a
 * DRAINING event to the drain's acknowledgement in {@code lb.stats} ({@code removed}, nothing in flight). The
 * replicas are HTTP servers on loopback answering their own name; one replica stays in rotation throughout.
 */
final class HaproxyBench {
    private HaproxyBench() {
    }

    static void run(PrintWriter out, int rounds) throws Exception {
        List<Event> published = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<HttpServer> servers = new ArrayList<>();
        try (HaproxyProcess haproxy = HaproxyProcess.start(Files.createTempDirectory("vmscale-haproxy-bench-"), "web");
             TrafficService service = new TrafficService(new HaproxyDriver(new HaproxyRuntime(haproxy.socket()), "web",
                     "", TrafficDriver.names("bench")), TrafficDriver.names("bench"), published::add,
                     TrafficConfig.BUILTIN.sync())) {
            Endpoint stay = server("bench-0000", servers);
            Endpoint moving = server("bench-0001", servers);
            HttpClient client = HttpClient.newHttpClient();
            URI front = URI.create("http://127.0.0.1:" + haproxy.port() + "/");
            service.applyListing(List.of());
            service.onLifecycle(new VmLifecycle("bench-0000", "bench", stay, ReplicaState.READY, "bench"));
            until(() -> body(client, front).equals("bench-0000"));
            out.printf("bench haproxy: HAProxy %s on loopback, sync every %d ms; %d rounds of READY then DRAINING of a "
                    + "second replica beside one that stays%n%n", version(), TrafficConfig.BUILTIN.syncMs(), rounds);
            List<Double> routable = new ArrayList<>();
            List<Double> acknowledged = new ArrayList<>();
            for (int i = 0; i < rounds; i++) {
                long t0 = System.nanoTime();
                service.onLifecycle(new VmLifecycle("bench-0001", "bench", moving, ReplicaState.READY, "bench"));
                until(() -> body(client, front).equals("bench-0001")); // round robin: every other request
                routable.add((System.nanoTime() - t0) / 1e6);
                int before = published.size();
                long t1 = System.nanoTime();
                service.onLifecycle(new VmLifecycle("bench-0001", "bench", moving, ReplicaState.DRAINING, "bench"));
                until(() -> published.subList(before, published.size()).stream().anyMatch(e -> e instanceof LbStats s
                        && s.servers().containsKey(moving.toString()) && s.servers().get(moving.toString()).removed()
                        && s.servers().get(moving.toString()).inFlight() == 0));
                acknowledged.add((System.nanoTime() - t1) / 1e6);
                service.onLifecycle(new VmLifecycle("bench-0001", "bench", null, ReplicaState.STOPPED, "bench"));
                until(() -> !service.targets().containsKey("bench-0001"));
                out.printf("round %d: READY to routable %.1f ms, DRAINING to acknowledged %.1f ms%n", i + 1,
                        routable.get(i), acknowledged.get(i));
                out.flush();
            }
            out.printf("%nREADY to routable: median %.1f ms (max %.1f); DRAINING to acknowledged: median %.1f ms "
                    + "(max %.1f)%n", median(routable), Collections.max(routable), median(acknowledged),
                    Collections.max(acknowledged));
            out.flush();
        } finally {
            servers.forEach(s -> s.stop(0));
        }
    }

    private static Endpoint server(String name, List<HttpServer> servers) throws java.io.IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            byte[] body = name.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        servers.add(server);
        return new Endpoint("127.0.0.1", server.getAddress().getPort());
    }

    private static String body(HttpClient client, URI front) {
        try {
            return client.send(HttpRequest.newBuilder(front).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        } catch (Exception e) {
            return "";
        }
    }

    /** Polls every 0.2 ms, at most 10 s. */
    private static void until(BooleanSupplier condition) {
        long end = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new IllegalStateException("not within 10 s");
            }
            LockSupport.parkNanos(200_000);
        }
    }

    private static String version() {
        try {
            Process p = new ProcessBuilder("haproxy", "-v").redirectErrorStream(true).start();
            String first = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().findFirst()
                    .orElse("");
            return first.replace("HAProxy version ", "").split(" ")[0];
        } catch (java.io.IOException e) {
            return "?";
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }
}
