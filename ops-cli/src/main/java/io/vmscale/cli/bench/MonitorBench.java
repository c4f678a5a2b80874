package io.vmscale.cli.bench;

import io.vmscale.cli.common.Local;
import io.vmscale.libvirt.DomainStats;
import io.vmscale.libvirt.HostConnection;
import io.vmscale.libvirt.LibvirtFailure;
import io.vmscale.libvirt.TinyDomains;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * The cost of one monitoring tick for 1, 10 and 50 domains: one bulk stats call against one call
 * per domain, measured in the same run on the same domains. The domains are real QEMU processes,
 * started paused (16 MiB, a boot sector), so the host's CPU is free for the measurement.
 */
final class MonitorBench {
    private static final String URI = "qemu:///system";

    private MonitorBench() {
    }

    static void run(PrintWriter out, int[] counts, int reps) throws IOException {
        String prefix = "vmscale-bench" + UUID.randomUUID().toString().substring(0, 6);
        Predicate<String> ours = name -> name.startsWith(prefix + "-");
        Path dir = Files.createTempDirectory("vmscale-bench-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        try (HostConnection host = HostConnection.open(URI)) {
            if (!host.connected()) {
                throw new IllegalStateException(URI + " does not answer: start libvirtd (scripts/libvirt-daemons)");
            }
            out.printf("bench monitor: %d cores, Java %s, %s; each tick reads state, cpu.time and vCPUs of the "
                            + "domains; median of %d ticks of each kind, alternating; domains started paused%n%n",
                    Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), URI, reps);
            out.printf("%8s | %32s | %32s | %10s | %8s%n", "", "one bulk call per tick",
                    "one call per domain", "wall ratio", "original");
            out.printf("%8s | %10s %10s %10s | %10s %10s %10s | %10s | %8s%n", "domains", "wall ms", "cpu ms",
                    "libvirtd", "wall ms", "cpu ms", "libvirtd", "each/bulk", "s/tick");
            int defined = 0;
            for (int count : counts) {
                for (; defined < count; defined++) {
                    String name = String.format("%s-%04d", prefix, defined);
                    Path image = dir.resolve(name + ".img"); // one each: QEMU locks its disk
                    TinyDomains.writeBootSector(image, TinyDomains.Program.HALT);
                    host.domains().define(TinyDomains.xml(name, image));
                    host.domains().startPaused(name);
                }
                for (int i = 0; i < 3; i++) { // warm up both paths
                    check(host.stats().bulk(ours), count);
                    check(host.stats().perDomain(ours), count);
                }
                Block bulk = new Block();
                Block each = new Block();
                for (int round = 0; round < 2; round++) { // blocks alternate, so drift hits both
                    bulk.run(reps / 2, () -> check(host.stats().bulk(ours), count), threads);
                    each.run(reps / 2, () -> check(host.stats().perDomain(ours), count), threads);
                }
                out.printf("%8d | %10.3f %10.3f %10.3f | %10.3f %10.3f %10.3f | %10.1f | %8d%n", count,
                        ms(median(bulk.wall)), ms(median(bulk.cpu)), bulk.libvirtdMillisPerTick(),
                        ms(median(each.wall)), ms(median(each.cpu)), each.libvirtdMillisPerTick(),
                        (double) median(each.wall) / median(bulk.wall), count);
                out.flush();
            }
            out.println();
            out.println("wall: median time of a tick; cpu: median CPU time of the monitor's thread in a tick; "
                    + "libvirtd: libvirtd's CPU ms per tick (mean, 10 ms clock); original: the assignment's 1 s per domain.");
        } finally {
            removeAll(prefix);
            Local.deleteTree(dir);
        }
        out.flush();
    }

    /** Ticks of one kind: their wall and thread CPU times, and libvirtd's CPU over all of them. */
    private static final class Block {
        final List<Long> wall = new ArrayList<>();
        final List<Long> cpu = new ArrayList<>();
        long libvirtdTicks;
        int ticks;

        void run(int count, Runnable tick, ThreadMXBean threads) {
            long daemon0 = libvirtdClockTicks();
            for (int i = 0; i < count; i++) {
                long c0 = threads.getCurrentThreadCpuTime();
                long t0 = System.nanoTime();
                tick.run();
                wall.add(System.nanoTime() - t0);
                cpu.add(threads.getCurrentThreadCpuTime() - c0);
            }
            libvirtdTicks += libvirtdClockTicks() - daemon0;
            ticks += count;
        }

        double libvirtdMillisPerTick() {
            return libvirtdTicks * 10.0 / ticks; // USER_HZ is 100 on Linux
        }
    }

    /** utime + stime of libvirtd, from /proc, in clock ticks. */
    private static long libvirtdClockTicks() {
        return io.vmscale.cli.bench.scale.Procs.pidOf("libvirtd").stream().map(io.vmscale.cli.bench.scale.Procs::cpuTicks).findFirst().orElse(0);
    }

    private static void check(List<DomainStats> stats, int expected) {
        if (stats.size() != expected) {
            throw new IllegalStateException("expected " + expected + " domains, read " + stats.size());
        }
    }

    private static void removeAll(String prefix) {
        try (HostConnection host = HostConnection.open(URI)) {
            for (String name : host.domains().names(n -> n.startsWith(prefix + "-"))) {
                try {
                    host.domains().destroy(name);
                } catch (LibvirtFailure e) {
                    // not running
                }
                host.domains().undefine(name);
            }
        }
    }

    private static long median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }
}
