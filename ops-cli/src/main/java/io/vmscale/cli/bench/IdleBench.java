package io.vmscale.cli.bench;

import io.vmscale.broker.EmbeddedBroker;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.cli.config.VmscaleConfig;
import io.vmscale.cli.demo.FullDemo;
import io.vmscale.cli.stack.Stack;
import io.vmscale.scaler.ScalerConfig;
import io.vmscale.scaler.provision.Replica;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * What {@code ./vmscale up} costs when nothing happens: broker, monitor, scaler and balancer in this
 * JVM with two READY replicas and the load off, against the same JVM running the broker alone, each
 * measured over the same span: process CPU time (% of one core) and resident memory.
 */
final class IdleBench {
    private IdleBench() {
    }

    static void run(PrintWriter out, VmscaleConfig loaded, Duration span) throws Exception {
        VmscaleConfig demo = FullDemo.demoConfig(loaded, Files.createTempDirectory("vmscale-bench-idle-"));
        ScalerConfig s = demo.scaler();
        VmscaleConfig config = new VmscaleConfig(demo.broker(), new io.vmscale.libvirt.LibvirtConfig(
                demo.libvirt().uris(), loaded.libvirt().prefix() + "bench", demo.libvirt().reconnectMinMs(),
                demo.libvirt().reconnectMaxMs()), demo.monitor(), demo.provisioning(),
                s.withLimits(2, 2).withWarmPool(ScalerConfig.WarmPoolConfig.NONE),
                demo.balancer(), demo.guest(), demo.application(), demo.traffic());
        out.printf(Locale.ROOT, "bench idle: %d cores, Java %s; %d s each, the broker alone then the whole stack with "
                + "2 replicas (%s-NNNN), load off%n", Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"), span.toSeconds(), config.libvirt().prefix());
        out.flush();
        Figures broker;
        try (EmbeddedBroker alone = EmbeddedBroker.start(config.broker())) {
            pause(Duration.ofSeconds(5));
            broker = measure(span);
        }
        out.printf(Locale.ROOT, "broker alone:               %5.2f %% of one core, RSS %4d MB%n", broker.cpuPercent,
                broker.rssMb);
        out.flush();
        Figures stack;
        try (Stack up = Stack.start(config, new PrintWriter(java.io.Writer.nullWriter()), "bench")) {
            long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            while (up.scaler().replicas().values().stream().filter(r -> r == ReplicaState.READY).count() < 2) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("two replicas were not READY within 5 minutes");
                }
                pause(Duration.ofMillis(200));
            }
            pause(Duration.ofSeconds(10)); // boot CPU and the balancer's calibration are over
            stack = measure(span);
            up.scaler().close();
            for (Replica replica : up.provisioner().running()) {
                up.provisioner().stop(replica.domain());
            }
        }
        out.printf(Locale.ROOT, "whole stack, 2 replicas:    %5.2f %% of one core, RSS %4d MB%n", stack.cpuPercent,
                stack.rssMb);
        out.printf(Locale.ROOT, "ratio stack / broker alone: CPU %.1f x, RSS %.2f x%n",
                stack.cpuPercent / Math.max(0.01, broker.cpuPercent), (double) stack.rssMb / Math.max(1, broker.rssMb));
        out.flush();
    }

    private record Figures(double cpuPercent, long rssMb) {
    }

    private static Figures measure(Duration span) throws Exception {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = os.getProcessCpuTime();
        long t0 = System.nanoTime();
        pause(span);
        double percent = 100.0 * (os.getProcessCpuTime() - cpu0) / (System.nanoTime() - t0);
        return new Figures(percent, rssKb() / 1024);
    }

    private static long rssKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        return -1;
    }

    private static void pause(Duration d) throws InterruptedException {
        new CountDownLatch(1).await(d.toMillis(), TimeUnit.MILLISECONDS); // the measured span, not a synchronisation
    }
}
