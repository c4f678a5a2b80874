package io.vmscale.cli.bench;

import io.vmscale.balancer.Balancer;
import io.vmscale.balancer.LoadMode;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.cli.common.Local;
import io.vmscale.guest.GuestServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

/**
 * Throughput and latency with n ~ 0 (the path, not the work) to the same two guest servers, for two client shapes:
 * many client addresses ({@code window} sockets, one request in flight each) and one client address
 * ({@code 2 x window} requests in flight on one socket), each (a) straight to the servers, (b) through our front
 * door, (c) through nginx's UDP stream proxy with one worker, (d) with a worker per core, and (e) through a minimal
 * forwarder in C with the front door's batching, the machine's practical ceiling. Runs alternate, round after
 * round; every round's figures are printed, then each round's comparison of the front door with nginx's best
 * setting in that round, so that one lucky round cannot pass and one unlucky round is seen.
 *
 * <p>Beside each proxied run: the proxy's CPU per request, the time its threads waited for a CPU while runnable
 * ({@code /proc/.../schedstat}) per request, and the collections of this JVM (which holds the client, the guest
 * servers and the front door) during the run; for the front door, the requests it read per select turn.
 */
final class BalancerBench {
    private BalancerBench() {
    }

    /** Cumulative figures of a proxy, read before and after a run. */
    private record Probe(LongSupplier cpuNanos, LongSupplier runQueueNanos) {
    }

    /** A path, and its proxy's figures (null for none). */
    private record Route(String name, List<InetSocketAddress> targets, Probe probe) {
    }

    /** One run's figures. */
    private record Run(double perSecond, double p50, double p99, double p999, long lost, long wrong, double cpuUs,
                       double runQueueUs, long gcMs, long gcs, double perTurn, double ownP99, double ownP999) {
    }

    private record Shape(String name, int window, boolean oneSocket) {
        UdpLoad.Result run(List<InetSocketAddress> targets, Duration measure) throws IOException {
            return oneSocket
                    ? UdpLoad.runOneSocket(targets.get(0), window, Duration.ofSeconds(1), measure, Duration.ofSeconds(1))
                    : UdpLoad.run(targets, 0, window, Duration.ofSeconds(1), measure, Duration.ofSeconds(1));
        }
    }

    /** The native thread of this JVM named {@code name} (Linux names Java threads after them), or -1. */
    private static long nativeThread(String name) {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : tasks.toList()) {
                try {
                    if (Files.readString(task.resolve("comm")).strip().equals(name)) {
                        return Long.parseLong(task.getFileName().toString());
                    }
                } catch (IOException e) {
                    // gone meanwhile
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }

    /** Field {@code index} of a schedstat file (0: on CPU, 1: waiting on a run queue, in ns); 0 when unreadable. */
    private static long schedstat(Path file, int index) {
        try {
            return Long.parseLong(Files.readString(file).strip().split(" ")[index]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** Run-queue wait of every thread of the processes, ns. */
    private static long runQueue(List<ProcessHandle> processes) {
        long total = 0;
        for (ProcessHandle p : processes) {
            try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(p.pid()), "task"))) {
                for (Path task : tasks.toList()) {
                    total += schedstat(task.resolve("schedstat"), 1);
                }
            } catch (IOException e) {
                // gone
            }
        }
        return total;
    }

    private static long cpu(List<ProcessHandle> processes) {
        return processes.stream().mapToLong(h -> h.info().totalCpuDuration().map(Duration::toNanos).orElse(0L)).sum();
    }

    private static List<ProcessHandle> workers(Process nginx) {
        return nginx.toHandle().descendants().toList();
    }

    private static long[] gc() {
        long ms = 0;
        long count = 0;
        for (GarbageCollectorMXBean bean : ManagementFactory.getGarbageCollectorMXBeans()) {
            ms += Math.max(0, bean.getCollectionTime());
            count += Math.max(0, bean.getCollectionCount());
        }
        return new long[] {ms, count};
    }

    static void run(PrintWriter out, Path home, Duration measure, int window, int rounds) throws Exception {
        run(out, home, measure, window, rounds, false);
    }

    /** @param frontOnly straight and front door only (no nginx, no C): quick looks while working on the front door */
    static void run(PrintWriter out, Path home, Duration measure, int window, int rounds, boolean frontOnly)
            throws Exception {
        if (!frontOnly) {
            Process install = new ProcessBuilder("bash", home.resolve("scripts/install-packages").toString(),
                    "nginx-light", "libnginx-mod-stream", "gcc", "libc6-dev").inheritIO().start();
            if (!install.waitFor(10, TimeUnit.MINUTES) || install.exitValue() != 0) {
                throw new IllegalStateException("could not install nginx-light, libnginx-mod-stream, gcc and libc6-dev");
            }
        }
        InetAddress loopback = InetAddress.getLoopbackAddress();
        List<Process> proxies = new ArrayList<>();
        List<Path> dirs = new ArrayList<>();
        try (GuestServer a = GuestServer.start(GuestServer.Options.defaults(new InetSocketAddress(loopback, 0)));
             GuestServer b = GuestServer.start(GuestServer.Options.defaults(new InetSocketAddress(loopback, 0)))) {
            List<InetSocketAddress> direct = List.of(a.address(), b.address());
            Balancer.Settings settings = new Balancer.Settings(0, 1, Map.of("low", 0.3, "mid", 0.5, "high", 0.85),
                    LoadMode.OFF, "least-outstanding", 64, Duration.ofSeconds(1), 3, Duration.ofSeconds(2),
                    Duration.ofSeconds(1));
            try (Balancer balancer = Balancer.start(settings, e -> { }, List::of, "bench",
                    new InetSocketAddress(loopback, 0))) {
                for (InetSocketAddress server : direct) {
                    balancer.addServer(new Endpoint("127.0.0.1", server.getPort()));
                }
                balancer.members();
                long frontThread = nativeThread("balancer");
                Path frontStat = Path.of("/proc/self/task", Long.toString(frontThread), "schedstat");
                List<Route> paths = new ArrayList<>();
                paths.add(new Route("(a) straight to the servers", direct, null));
                paths.add(new Route("(b) vmscale front door", List.of(balancer.frontAddress()),
                        new Probe(() -> schedstat(frontStat, 0), () -> schedstat(frontStat, 1))));
                if (!frontOnly) {
                    for (String workers : List.of("1", "auto")) {
                        Path dir = Files.createTempDirectory("vmscale-bench-nginx");
                        dirs.add(dir);
                        int port = Local.freeUdpPort();
                        Process nginx = startNginx(dir, port, direct, workers);
                        proxies.add(nginx);
                        paths.add(new Route(workers.equals("1") ? "(c) nginx, 1 worker" : "(d) nginx, a worker per core",
                                List.of(new InetSocketAddress(loopback, port)),
                                new Probe(() -> cpu(workers(nginx)), () -> runQueue(workers(nginx)))));
                    }
                    Path dir = Files.createTempDirectory("vmscale-bench-ceiling");
                    dirs.add(dir);
                    int port = Local.freeUdpPort();
                    Process forwarder = startForwarder(home, dir, port, direct);
                    proxies.add(forwarder);
                    paths.add(new Route("(e) C forwarder, the ceiling", List.of(new InetSocketAddress(loopback, port)),
                            new Probe(() -> cpu(List.of(forwarder.toHandle())),
                                    () -> runQueue(List.of(forwarder.toHandle())))));
                }
                List<Shape> shapes = List.of(
                        new Shape("many addresses: " + window + " sockets, 1 in flight each", window, false),
                        new Shape("one address: 1 socket, " + 2 * window + " in flight", 2 * window, true));
                out.printf("bench balancer: %d cores, Java %s, n < 340 (the path, not the work), 2 guest servers on "
                                + "loopback (a worker per core each); %d s per run after 1 s warm-up, %d rounds, runs "
                                + "alternating; the client, the proxies and the servers share the machine%n"
                                + "proxy us/req: its CPU per request; runq us/req: how long its threads waited for a CPU "
                                + "while runnable, per request; GC: this JVM's collections during the run (ms, count); "
                                + "req/turn: requests the front door read per select turn; own p99/p99.9: the same "
                                + "requests as the front door timed them, from the turn it read each in to the turn it read "
                                + "its answer in (what is left of the client's figure is the kernel's and the "
                                + "scheduler's, on both sides of the front door's thread)%n%n",
                        Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"),
                        measure.toSeconds(), rounds);
                String header = "%-44s %-30s %9s %7s %7s %8s %5s %5s %8s %8s %9s %8s %13s%n";
                String row = "%-44s %-30s %9.0f %7.3f %7.3f %8.3f %5d %5d %8s %8s %9s %8s %13s%n";
                out.printf(header, "client shape", "path", "req/s", "p50 ms", "p99 ms", "p99.9 ms", "lost", "wrong",
                        "proxy us", "runq us", "GC", "req/turn", "own p99/p99.9");
                // runs[shape][path][round]
                List<List<List<Run>>> runs = new ArrayList<>();
                for (int s = 0; s < shapes.size(); s++) {
                    runs.add(new ArrayList<>());
                    for (int p = 0; p < paths.size(); p++) {
                        runs.get(s).add(new ArrayList<>());
                    }
                }
                for (int round = 0; round < rounds; round++) {
                    for (int s = 0; s < shapes.size(); s++) {
                        Shape shape = shapes.get(s);
                        for (int p = 0; p < paths.size(); p++) {
                            Route path = paths.get(p);
                            List<InetSocketAddress> targets = shape.oneSocket() && p == 0 ? List.of(direct.get(0))
                                    : path.targets();
                            Probe probe = path.probe();
                            long cpuBefore = probe == null ? 0 : probe.cpuNanos().getAsLong();
                            long queueBefore = probe == null ? 0 : probe.runQueueNanos().getAsLong();
                            long[] gcBefore = gc();
                            Balancer.FrontCounters frontBefore = balancer.frontCounters();
                            org.HdrHistogram.Histogram ownBefore = p == 1 ? balancer.latencySinceStart() : null;
                            UdpLoad.Result r = shape.run(targets, measure);
                            org.HdrHistogram.Histogram own = null;
                            if (ownBefore != null) {
                                own = balancer.latencySinceStart();
                                own.subtract(ownBefore);
                            }
                            long[] gcAfter = gc();
                            // over warm-up and measurement, per request answered in the measurement scaled to both
                            double requests = r.answered() * (1 + 1.0 / measure.toSeconds());
                            double cpuUs = probe == null ? Double.NaN
                                    : (probe.cpuNanos().getAsLong() - cpuBefore) / 1e3 / requests;
                            double queueUs = probe == null ? Double.NaN
                                    : (probe.runQueueNanos().getAsLong() - queueBefore) / 1e3 / requests;
                            Balancer.FrontCounters frontAfter = balancer.frontCounters();
                            double perTurn = p != 1 || frontAfter.reads() == frontBefore.reads() ? Double.NaN
                                    : (double) (frontAfter.received() - frontBefore.received())
                                    / (frontAfter.reads() - frontBefore.reads());
                            Run run = new Run(r.perSecond(), r.percentileMillis(50), r.percentileMillis(99),
                                    r.percentileMillis(99.9), r.lost(), r.wrong(), cpuUs, queueUs,
                                    gcAfter[0] - gcBefore[0], gcAfter[1] - gcBefore[1], perTurn,
                                    own == null || own.getTotalCount() == 0 ? Double.NaN
                                            : own.getValueAtPercentile(99) / 1e6,
                                    own == null || own.getTotalCount() == 0 ? Double.NaN
                                            : own.getValueAtPercentile(99.9) / 1e6);
                            runs.get(s).get(p).add(run);
                            out.printf(row, shape.name(),
                                    shape.oneSocket() && p == 0 ? "(a) straight to one server" : path.name(),
                                    run.perSecond(), run.p50(), run.p99(), run.p999(), run.lost(), run.wrong(),
                                    figure(cpuUs), figure(queueUs), run.gcMs() + " ms/" + run.gcs(), figure(perTurn),
                                    Double.isNaN(run.ownP99()) ? "-"
                                            : String.format("%.3f/%.3f", run.ownP99(), run.ownP999()));
                            out.flush();
                        }
                    }
                }
                if (!frontOnly) {
                    compare(out, shapes, paths, runs, rounds);
                }
                out.flush();
            } finally {
                for (Process proxy : proxies) {
                    proxy.destroy();
                    proxy.waitFor(10, TimeUnit.SECONDS);
                }
                for (Path dir : dirs) {
                    Local.deleteTree(dir);
                }
            }
        }
    }

    /**
     * Each round, the front door against nginx's best setting in that round (the higher throughput of (c) and (d),
     * and the lower p99, each on its own: the strictest comparison for us), then how many rounds pass; and the
     * medians as fractions of the C ceiling.
     */
    private static void compare(PrintWriter out, List<Shape> shapes, List<Route> paths, List<List<List<Run>>> runs,
                                int rounds) {
        out.println();
        out.println("each round: the front door against nginx's best setting in that round (throughput: the higher of "
                + "(c) and (d); p99 and p99.9: the lower)");
        for (int s = 0; s < shapes.size(); s++) {
            List<List<Run>> byPath = runs.get(s);
            int faster = 0;
            int tail = 0;
            for (int round = 0; round < rounds; round++) {
                Run front = byPath.get(1).get(round);
                Run c = byPath.get(2).get(round);
                Run d = byPath.get(3).get(round);
                double throughput = front.perSecond() / Math.max(c.perSecond(), d.perSecond());
                double p99 = front.p99() / Math.min(c.p99(), d.p99());
                double p999 = front.p999() / Math.min(c.p999(), d.p999());
                boolean fast = throughput >= 1.5;
                boolean short99 = p99 <= 1;
                faster += fast ? 1 : 0;
                tail += short99 ? 1 : 0;
                out.printf("%-44s round %d: throughput %.2f x%s, p99 %.2f x%s, p99.9 %.2f x%n", shapes.get(s).name(),
                        round + 1, throughput, fast ? "" : " (under 1.5 x)", p99, short99 ? "" : " (longer)", p999);
            }
            out.printf("%-44s rounds with throughput >= 1.5 x nginx's best: %d of %d; with p99 <= nginx's best: %d of %d%n",
                    shapes.get(s).name(), faster, rounds, tail, rounds);
            out.printf("%-44s the front door's own share of the client's p99.9 (medians of the rounds): %.3f of %.3f ms%n",
                    shapes.get(s).name(), median(byPath.get(1).stream().map(Run::ownP999).toList()),
                    median(byPath.get(1).stream().map(Run::p999).toList()));
            double ceiling = median(byPath.get(4).stream().map(Run::perSecond).toList());
            out.printf("%-44s of the C ceiling (medians of req/s): front door %.2f, nginx 1 worker %.2f, a worker per "
                            + "core %.2f; straight to the servers %.2f%n", shapes.get(s).name(),
                    median(byPath.get(1).stream().map(Run::perSecond).toList()) / ceiling,
                    median(byPath.get(2).stream().map(Run::perSecond).toList()) / ceiling,
                    median(byPath.get(3).stream().map(Run::perSecond).toList()) / ceiling,
                    median(byPath.get(0).stream().map(Run::perSecond).toList()) / ceiling);
        }
    }

    private static String figure(double value) {
        return Double.isNaN(value) ? "-" : String.format("%.2f", value);
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /** The C forwarder (balancer/ceiling/udp-forwarder.c), compiled with gcc -O2 and started; ready when it answers. */
    private static Process startForwarder(Path home, Path dir, int port, List<InetSocketAddress> servers)
            throws Exception {
        Path binary = dir.resolve("udp-forwarder");
        Process cc = new ProcessBuilder("gcc", "-O2", "-o", binary.toString(),
                home.resolve("balancer/ceiling/udp-forwarder.c").toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("cc.log").toFile()).start();
        if (!cc.waitFor(2, TimeUnit.MINUTES) || cc.exitValue() != 0) {
            throw new IllegalStateException("gcc failed: " + Files.readString(dir.resolve("cc.log")));
        }
        List<String> command = new ArrayList<>(List.of(binary.toString(), Integer.toString(port)));
        servers.forEach(server -> command.add(Integer.toString(server.getPort())));
        Process forwarder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("stdout.log").toFile()).start();
        return awaitAnswers(forwarder, port, dir.resolve("stdout.log"), "the C forwarder");
    }

    private static Process startNginx(Path dir, int port, List<InetSocketAddress> servers, String workers)
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
        Path file = dir.resolve("nginx.conf");
        Files.writeString(file, conf);
        Process nginx = new ProcessBuilder("nginx", "-p", dir.toString(), "-c", file.toString(), "-g", "daemon off;")
                .redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile()).start();
        return awaitAnswers(nginx, port, dir.resolve("stdout.log"), "nginx");
    }

    /** The proxy, once it answers through to a guest server on udp 127.0.0.1:port. */
    private static Process awaitAnswers(Process proxy, int port, Path log, String name) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (!proxy.isAlive()) {
                throw new IllegalStateException(name + " exited: " + Files.readString(log));
            }
            if (io.vmscale.scaler.provision.ReadinessProbe.answers(new Endpoint("127.0.0.1", port),
                    Duration.ofMillis(500), Duration.ofMillis(100))) {
                return proxy;
            }
        }
        proxy.destroy();
        throw new IllegalStateException(name + " did not answer on udp 127.0.0.1:" + port);
    }
}
