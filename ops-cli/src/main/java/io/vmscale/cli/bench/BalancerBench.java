package io.vmscale.cli.bench;

import io.vmscale.balancer.Balancer;
import io.vmscale.balancer.LoadMode;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.cli.common.Local;
import io.vmscale.guest.GuestServer;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Throughput and latency with n ~ 0 (the path, not the work) to the same two guest servers, for two
 * client shapes: many client addresses ({@code window} sockets, one request in flight each) and one
 * client address ({@code 2 x window} requests in flight on one socket), each (a) straight to the
 * servers, (b) through our front door, (c) through nginx's UDP stream proxy with one worker and
 * (d) with a worker per core. Runs alternate, round after round; the ratios are over the rounds.
 */
final class BalancerBench {
    private BalancerBench() {
    }

    /** A path, and how to read the CPU time its proxy has used so far (nanoseconds; null for none). */
    private record Route(String name, List<InetSocketAddress> targets, java.util.function.LongSupplier cpu) {
    }

    /** CPU time of this JVM's threads named {@code balancer}: the front door's one I/O thread. */
    private static long balancerThreadCpu() {
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long total = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals("balancer")) {
                total += Math.max(0, threads.getThreadCpuTime(t.getId()));
            }
        }
        return total;
    }

    /** CPU time of nginx's worker processes. */
    private static long nginxCpu(Process nginx) {
        return nginx.toHandle().descendants().mapToLong(h -> h.info().totalCpuDuration()
                .map(java.time.Duration::toNanos).orElse(0L)).sum();
    }

    private record Shape(String name, int window, boolean oneSocket) {
        UdpLoad.Result run(List<InetSocketAddress> targets, Duration measure) throws java.io.IOException {
            return oneSocket
                    ? UdpLoad.runOneSocket(targets.get(0), window, Duration.ofSeconds(1), measure, Duration.ofSeconds(1))
                    : UdpLoad.run(targets, 0, window, Duration.ofSeconds(1), measure, Duration.ofSeconds(1));
        }
    }

    static void run(PrintWriter out, java.nio.file.Path home, Duration measure, int window, int rounds) throws Exception {
        run(out, home, measure, window, rounds, false);
    }

    /** @param frontOnly straight and front door only (no nginx): quick looks while working on the front door */
    static void run(PrintWriter out, java.nio.file.Path home, Duration measure, int window, int rounds,
                           boolean frontOnly) throws Exception {
        if (!frontOnly) {
            Process install = new ProcessBuilder("bash", home.resolve("scripts/install-packages").toString(),
                    "nginx-light", "libnginx-mod-stream").inheritIO().start();
            if (!install.waitFor(10, TimeUnit.MINUTES) || install.exitValue() != 0) {
                throw new IllegalStateException("could not install nginx-light and libnginx-mod-stream");
            }
        }
        InetAddress loopback = InetAddress.getLoopbackAddress();
        List<Process> nginxes = new ArrayList<>();
        List<java.nio.file.Path> dirs = new ArrayList<>();
        try (GuestServer a = GuestServer.start(GuestServer.Options.defaults(new InetSocketAddress(loopback, 0)));
             GuestServer b = GuestServer.start(GuestServer.Options.defaults(new InetSocketAddress(loopback, 0)))) {
            List<InetSocketAddress> direct = List.of(a.address(), b.address());
            Balancer.Settings settings = new Balancer.Settings(0, 1, Map.of("low", 0.3, "mid", 0.5, "high", 0.85),
                    LoadMode.OFF, "least-outstanding", 64, Duration.ofSeconds(1), 3, Duration.ofSeconds(2),
                    Duration.ofSeconds(1));
            try (Balancer balancer = Balancer.start(settings, e -> { }, List::of, "bench",
                    new InetSocketAddress(loopback, 0));
) {
                for (InetSocketAddress server : direct) {
                    balancer.addServer(new Endpoint("127.0.0.1", server.getPort()));
                }
                balancer.members();
                List<Route> paths = new ArrayList<>();
                paths.add(new Route("(a) straight to the servers", direct, null));
                paths.add(new Route("(b) vmscale front door", List.of(balancer.frontAddress()),
                        BalancerBench::balancerThreadCpu));
                if (!frontOnly) {
                    for (String workers : List.of("1", "auto")) {
                        java.nio.file.Path dir = Files.createTempDirectory("vmscale-bench-nginx");
                        dirs.add(dir);
                        int port = Local.freeUdpPort();
                        Process nginx = startNginx(dir, port, direct, workers);
                        nginxes.add(nginx);
                        paths.add(new Route(workers.equals("1") ? "(c) nginx, 1 worker" : "(d) nginx, a worker per core",
                                List.of(new InetSocketAddress(loopback, port)), () -> nginxCpu(nginx)));
                    }
                }
                List<Shape> shapes = List.of(
                        new Shape("many addresses: " + window + " sockets, 1 in flight each", window, false),
                        new Shape("one address: 1 socket, " + 2 * window + " in flight", 2 * window, true));
                out.printf("bench balancer: %d cores, Java %s, n < 340 (the path, not the work), 2 guest servers on "
                                + "loopback (a worker per core each); %d s per run after 1 s warm-up, %d rounds, runs "
                                + "alternating; the client, the proxies and the servers share the machine%n%n",
                        Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"),
                        measure.toSeconds(), rounds);
                out.printf("%-48s %-30s %9s %8s %8s %6s %6s %12s%n", "client shape", "path", "req/s", "p50 ms",
                        "p99 ms", "lost", "wrong", "proxy us/req");
                double[][] throughput = new double[shapes.size()][paths.size()];
                List<List<List<Double>>> p99 = new ArrayList<>();
                for (int s = 0; s < shapes.size(); s++) {
                    p99.add(new ArrayList<>());
                    for (int p = 0; p < paths.size(); p++) {
                        p99.get(s).add(new ArrayList<>());
                    }
                }
                for (int round = 0; round < rounds; round++) {
                    for (int s = 0; s < shapes.size(); s++) {
                        Shape shape = shapes.get(s);
                        for (int p = 0; p < paths.size(); p++) {
                            Route path = paths.get(p);
                            List<InetSocketAddress> targets = shape.oneSocket() && p == 0 ? List.of(direct.get(0))
                                    : path.targets();
                            long cpuBefore = path.cpu() == null ? 0 : path.cpu().getAsLong();
                            UdpLoad.Result r = shape.run(targets, measure);
                            // CPU over warm-up and measurement, per request answered in the measurement scaled to both
                            double cpuPerRequest = path.cpu() == null ? Double.NaN
                                    : (path.cpu().getAsLong() - cpuBefore) / 1e3
                                    / (r.answered() * (1 + 1.0 / measure.toSeconds()));
                            out.printf("%-48s %-30s %9.0f %8.3f %8.3f %6d %6d %12s%n", shape.name(),
                                    shape.oneSocket() && p == 0 ? "(a) straight to one server" : path.name(),
                                    r.perSecond(), r.percentileMillis(50), r.percentileMillis(99), r.lost(), r.wrong(),
                                    Double.isNaN(cpuPerRequest) ? "-" : String.format("%.2f", cpuPerRequest));
                            out.flush();
                            throughput[s][p] += r.perSecond();
                            p99.get(s).get(p).add(r.percentileMillis(99));
                        }
                    }
                }
                out.println();
                for (int s = 0; s < shapes.size(); s++) {
                    for (int p = 2; p < paths.size(); p++) {
                        out.printf("%-48s front door / %-22s throughput %.2f x, p99 %.2f x (medians of the rounds)%n",
                                shapes.get(s).name(), paths.get(p).name().substring(4), throughput[s][1] / throughput[s][p],
                                median(p99.get(s).get(1)) / median(p99.get(s).get(p)));
                    }
                    out.printf("%-48s front door / straight: throughput %.2f x%n", shapes.get(s).name(),
                            throughput[s][1] / throughput[s][0]);
                }
                out.flush();
            } finally {
                for (Process nginx : nginxes) {
                    nginx.destroy();
                    nginx.waitFor(10, TimeUnit.SECONDS);
                }
                for (java.nio.file.Path dir : dirs) {
                    Local.deleteTree(dir);
                }
            }
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        java.util.Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static Process startNginx(java.nio.file.Path dir, int port, List<InetSocketAddress> servers, String workers)
            throws Exception {
        StringBuilder upstream = new StringBuilder();
        for (InetSocketAddress server : servers) {
            upstream.append("    server 127.0.0.1:").append(server.getPort()).append(";\n");
        }
        String conf = """
                load_module /usr/lib/nginx/modules/ngx_stream_module.so;
                worker_processes %4$s;
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
                """.formatted(dir, upstream, port, workers);
        java.nio.file.Path file = dir.resolve("nginx.conf");
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
