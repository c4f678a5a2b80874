package io.vmscale.cli.bench;

import io.vmscale.balancer.Balancer;
import io.vmscale.balancer.LoadMode;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.cli.Local;
import io.vmscale.guest.GuestServer;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Throughput and latency with n = 0 through three paths to the same two guest servers, with the
 * same closed-loop client: (a) straight to the servers, (b) through our front door, (c) through
 * nginx's UDP stream proxy. Runs alternate.
 */
public final class BalancerBench {
    private BalancerBench() {
    }

    public static void run(PrintWriter out, Path home, Duration measure, int window, int rounds) throws Exception {
        Process install = new ProcessBuilder("bash", home.resolve("scripts/install-packages").toString(),
                "nginx-light", "libnginx-mod-stream").inheritIO().start();
        if (!install.waitFor(10, TimeUnit.MINUTES) || install.exitValue() != 0) {
            throw new IllegalStateException("could not install nginx-light and libnginx-mod-stream");
        }
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (GuestServer a = GuestServer.start(GuestServer.Options.defaults(new InetSocketAddress(loopback, 0)));
             GuestServer b = GuestServer.start(GuestServer.Options.defaults(new InetSocketAddress(loopback, 0)))) {
            List<InetSocketAddress> direct = List.of(a.address(), b.address());
            Balancer.Settings settings = new Balancer.Settings(0, 1, Map.of("low", 0.3, "mid", 0.5, "high", 0.85),
                    LoadMode.OFF, "least-outstanding", 64, Duration.ofSeconds(1), 3, Duration.ofSeconds(2),
                    Duration.ofSeconds(1));
            Path nginxDir = Files.createTempDirectory("vmscale-bench-nginx");
            int nginxPort = Local.freeUdpPort();
            Process nginx = startNginx(nginxDir, nginxPort, direct);
            try (Balancer balancer = Balancer.start(settings, e -> { }, List::of, "bench",
                    new InetSocketAddress(loopback, 0))) {
                for (InetSocketAddress server : direct) {
                    balancer.addServer(new Endpoint("127.0.0.1", server.getPort()));
                }
                balancer.members();
                InetSocketAddress front = balancer.frontAddress();
                InetSocketAddress proxy = new InetSocketAddress(loopback, nginxPort);
                out.printf("bench balancer: %d cores, Java %s, n = 0, 2 guest servers on loopback; the same client: "
                                + "%d requests in flight, %d s per run after 1 s warm-up, %d rounds alternating%n%n",
                        Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), window,
                        measure.toSeconds(), rounds);
                out.printf("%-44s %10s %8s %8s %6s %6s%n", "path", "req/s", "p50 ms", "p99 ms", "lost", "wrong");
                double[] sums = new double[3];
                for (int round = 0; round < rounds; round++) {
                    sums[0] += line(out, "(a) client straight to the 2 servers",
                            UdpLoad.run(direct, 0, window, Duration.ofSeconds(1), measure, Duration.ofSeconds(1)));
                    sums[1] += line(out, "(b) through the vmscale front door",
                            UdpLoad.run(List.of(front), 0, window, Duration.ofSeconds(1), measure, Duration.ofSeconds(1)));
                    sums[2] += line(out, "(c) through nginx stream proxy (udp)",
                            UdpLoad.run(List.of(proxy), 0, window, Duration.ofSeconds(1), measure, Duration.ofSeconds(1)));
                }
                out.printf("%nratio front door / nginx: %.2f; front door / straight: %.2f%n", sums[1] / sums[2],
                        sums[1] / sums[0]);
                out.flush();
            } finally {
                nginx.destroy();
                nginx.waitFor(10, TimeUnit.SECONDS);
                Local.deleteTree(nginxDir);
            }
        }
    }

    private static double line(PrintWriter out, String path, UdpLoad.Result r) {
        out.printf("%-44s %10.0f %8.3f %8.3f %6d %6d%n", path, r.perSecond(), r.percentileMillis(50),
                r.percentileMillis(99), r.lost(), r.wrong());
        out.flush();
        return r.perSecond();
    }

    private static Process startNginx(Path dir, int port, List<InetSocketAddress> servers) throws Exception {
        StringBuilder upstream = new StringBuilder();
        for (InetSocketAddress server : servers) {
            upstream.append("    server 127.0.0.1:").append(server.getPort()).append(";\n");
        }
        String conf = """
                load_module /usr/lib/nginx/modules/ngx_stream_module.so;
                worker_processes auto;
                pid %1$s/nginx.pid;
                error_log %1$s/error.log warn;
                events { worker_connections 4096; }
                stream {
                  upstream guests {
                %2$s  }
                  server {
                    listen 127.0.0.1:%3$d udp reuseport;
                    proxy_pass guests;
                    proxy_responses 1;
                    proxy_timeout 2s;
                  }
                }
                """.formatted(dir, upstream, port);
        Path file = dir.resolve("nginx.conf");
        Files.writeString(file, conf);
        Process nginx = new ProcessBuilder("nginx", "-p", dir.toString(), "-c", file.toString(), "-g", "daemon off;")
                .redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile()).start();
        // ready when it answers through to a guest server
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (!nginx.isAlive()) {
                throw new IllegalStateException("nginx exited: " + Files.readString(dir.resolve("stdout.log")));
            }
            if (io.vmscale.scaler.provision.ReadinessProbe.answers(new Endpoint("127.0.0.1", port),
                    Duration.ofMillis(500), Duration.ofMillis(100))) {
                return nginx;
            }
        }
        nginx.destroy();
        throw new IllegalStateException("nginx did not answer on udp 127.0.0.1:" + port);
    }

}
