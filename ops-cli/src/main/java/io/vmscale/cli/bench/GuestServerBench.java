package io.vmscale.cli.bench;

import io.vmscale.guest.GuestServer;
import io.vmscale.guest.Wire;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * Requests per second of the guest server on loopback, against {@link SingleThreadedServer} in the
 * same run: with n = 0 (pure overhead) and with an n that costs about 1 ms.
 */
final class GuestServerBench {
    private GuestServerBench() {
    }

    static void run(PrintWriter out, Duration measure, int window, int rounds) throws IOException {
        int cores = Runtime.getRuntime().availableProcessors();
        long oneMilli = calibrateOneMillisecond();
        out.printf("bench guest-server: %d cores, Java %s, loopback; %d requests in flight, %d s per run after "
                        + "1 s warm-up, %d rounds, baseline and guest-server alternating%n",
                cores, System.getProperty("java.version"), window, measure.toSeconds(), rounds);
        out.printf("n for about 1 ms of work in this JVM: %d%n%n", oneMilli);
        out.printf("%-30s %9s %10s %8s %8s %6s %6s%n", "server", "n", "req/s", "p50 ms", "p99 ms", "lost", "wrong");
        for (long n : new long[] {0, oneMilli}) {
            double baselineSum = 0;
            double guestSum = 0;
            for (int round = 0; round < rounds; round++) {
                try (SingleThreadedServer baseline = new SingleThreadedServer()) {
                    UdpLoad.Result r = load(baseline.address(), n, window, measure);
                    print(out, "single-threaded DatagramSocket", n, r);
                    baselineSum += r.perSecond();
                }
                try (GuestServer guest = GuestServer.start(GuestServer.Options.defaults(
                        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)))) {
                    UdpLoad.Result r = load(guest.address(), n, window, measure);
                    print(out, "guest-server (" + cores + " workers)", n, r);
                    guestSum += r.perSecond();
                }
            }
            out.printf("ratio guest-server / baseline at n=%d: %.2f%n%n", n, guestSum / baselineSum);
        }
        out.flush();
    }

    private static UdpLoad.Result load(InetSocketAddress target, long n, int window, Duration measure)
            throws IOException {
        return UdpLoad.run(target, n, window, Duration.ofSeconds(1), measure, Duration.ofSeconds(1));
    }

    private static void print(PrintWriter out, String server, long n, UdpLoad.Result r) {
        out.printf("%-30s %9d %10.0f %8.3f %8.3f %6d %6d%n", server, n, r.perSecond(), r.percentileMillis(50),
                r.percentileMillis(99), r.lost(), r.wrong());
        out.flush();
    }

    /** The n whose work takes about one millisecond here, after the JIT has compiled it. */
    static long calibrateOneMillisecond() {
        long n = 100_000;
        long sink = 0;
        for (int i = 0; i < 200; i++) {
            sink += Wire.work(n);
        }
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 50; i++) {
            long t0 = System.nanoTime();
            sink += Wire.work(n);
            best = Math.min(best, System.nanoTime() - t0);
        }
        if (sink == 42) {
            System.out.print(""); // keeps the JIT from dropping the work
        }
        return Math.max(1, n * 1_000_000L / Math.max(1, best));
    }
}
