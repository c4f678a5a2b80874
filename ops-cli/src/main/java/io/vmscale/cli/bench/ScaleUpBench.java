package io.vmscale.cli.bench;

import io.vmscale.balancer.LoadMode;
import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Role;
import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.broker.event.Topic;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.cli.config.VmscaleConfig;
import io.vmscale.cli.demo.FullDemo;
import io.vmscale.cli.stack.Stack;
import io.vmscale.libvirt.LibvirtConfig;
import io.vmscale.scaler.ScalerConfig;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

/**
 * A scale-up by each path, on real VMs with the whole stack in this JVM and one replica's worth of load: from
 * the UP decision to the first correct answer the balancer receives from the new replica. Paths: a cold
 * boot, a replica restored from the warm pool's managed save, a paused one resumed. Runs alternate between
 * the paths; each starts from one serving replica and the pool prepared for its path.
 */
final class ScaleUpBench {
    private static final Duration BOOT = Duration.ofMinutes(3);
    private static final List<String> PATHS = List.of("cold", "saved", "paused");

    private final Stack stack;
    private final List<Timed<ScaleDecision>> ups = new CopyOnWriteArrayList<>();
    private final List<Timed<VmLifecycle>> ready = new CopyOnWriteArrayList<>();

    private record Timed<T>(Instant at, T event) {
    }

    private ScaleUpBench(Stack stack) {
        this.stack = stack;
    }

    static void run(PrintWriter out, VmscaleConfig loaded, int runs) throws Exception {
        VmscaleConfig demo = FullDemo.demoConfig(loaded, Files.createTempDirectory("vmscale-bench-scale-up-"));
        ScalerConfig s = demo.scaler();
        ScalerConfig scaler = new ScalerConfig(s.policy(), 1, 2, s.cooldownSeconds(), s.tickMs(), s.probeTimeoutSeconds(),
                s.drainTimeoutSeconds(), s.warmupSeconds(), 0, s.thresholdWindow(), s.targetTracking(),
                new ScalerConfig.WarmPoolConfig(0, "paused", 2, s.warmPool().warmRequests()));
        VmscaleConfig config = new VmscaleConfig(demo.broker(), new LibvirtConfig(demo.libvirt().uris(),
                loaded.libvirt().prefix() + "bench" + UUID.randomUUID().toString().substring(0, 4),
                demo.libvirt().reconnectMinMs(), demo.libvirt().reconnectMaxMs()), demo.monitor(), demo.provisioning(),
                scaler, demo.balancer(), demo.guest(), demo.application(), demo.traffic());
        out.printf(Locale.ROOT, "bench scale-up: %d cores, %s; %d run(s) of each path (%s), alternating; from the UP "
                        + "decision to the balancer's first correct answer from the new replica, one replica's worth of load running%n",
                Runtime.getRuntime().availableProcessors(), config.libvirt().uris().get(0), runs, String.join(", ", PATHS));
        out.flush();
        try (Stack stack = Stack.start(config, new PrintWriter(java.io.Writer.nullWriter()), "bench")) {
            ScaleUpBench bench = new ScaleUpBench(stack);
            try (BrokerConnection viewer = stack.broker().connect(Role.VIEWER, "viewer@bench-scale-up")) {
                viewer.subscribe(ScaleDecision.class, e -> {
                    if (e.body().action() == ScaleAction.UP && e.body().policy().equals(ScaleDecision.OPERATOR)) {
                        bench.ups.add(new Timed<>(e.ts(), e.body()));
                    }
                });
                viewer.subscribe(VmLifecycle.class, e -> {
                    if (e.source().startsWith("scaler@") && e.body().state() == ReplicaState.READY) {
                        bench.ready.add(new Timed<>(e.ts(), e.body()));
                    }
                });
                bench.measure(out, runs);
            } finally {
                stack.scaler().close();
                for (var replica : stack.provisioner().observe().replicas()) {
                    stack.provisioner().stop(replica.domain());
                }
            }
        }
    }

    private void measure(PrintWriter out, int runs) throws InterruptedException {
        await("the first replica READY and the balancer calibrated", () -> serving() == 1
                && stack.balancer().calibration() != null);
        // a scale-up is wanted when the replicas are full: the one serving gets a replica's worth, so the new
        // one is sent requests as soon as it joins (at a light load the wait for the next request would count)
        stack.balancer().setMode(new LoadMode("full", 1.0));
        command("pause"); // the operator's scale-ups only: the policy would add replicas of its own at this load
        Map<String, List<Long>> byPath = new LinkedHashMap<>();
        PATHS.forEach(p -> byPath.put(p, new ArrayList<>()));
        for (int run = 1; run <= runs; run++) {
            for (String path : PATHS) {
                prepare(path);
                Measurement m = scaleUp(path);
                byPath.get(path).add(m.toAnswerMs);
                out.printf(Locale.ROOT, "run %d %-6s decision -> READY %6d ms, -> first answer through the balancer %6d ms%n",
                        run, path, m.toReadyMs, m.toAnswerMs);
                out.flush();
            }
        }
        long cold = median(byPath.get("cold"));
        out.println();
        for (String path : PATHS) {
            long median = median(byPath.get(path));
            out.printf(Locale.ROOT, "%-6s median %6d ms (%s), %.3f x the cold boot's%n", path, median,
                    byPath.get(path), median / (double) Math.max(1, cold));
        }
        out.flush();
    }

    private record Measurement(long toReadyMs, long toAnswerMs) {
    }

    /** One replica serving, the pool empty, then prepared for the path. */
    private void prepare(String path) throws InterruptedException {
        command("pool", "0");
        command("scale", "1");
        await("one replica serving and the pool empty", () -> serving() == 1 && stack.scaler().replicas().size() == 1);
        if (!path.equals("cold")) {
            command("pool", "1", path);
            await("a " + path + " replica in the warm pool", () -> in(ReplicaState.POOLED) == 1);
        }
        Thread.sleep(2000); // a settling pause, not a synchronisation: the parked replica's last CPU is spent
    }

    private Measurement scaleUp(String path) throws InterruptedException {
        int before = ups.size();
        int readyBefore = ready.size();
        command("scale", "2");
        await("the UP decision", () -> ups.size() > before);
        Timed<ScaleDecision> up = ups.get(before);
        await("the new replica READY", () -> ready.size() > readyBefore);
        Timed<VmLifecycle> readyEvent = ready.get(readyBefore);
        Endpoint endpoint = readyEvent.event().endpoint();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (stack.balancer().answered(endpoint) <= 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no answer from " + endpoint + " through the balancer within 30 s");
            }
            Thread.sleep(1);
        }
        Instant answered = Instant.now();
        String reason = up.event().reason();
        boolean fromPool = reason.contains(VmLifecycle.FROM_WARM_POOL);
        if (fromPool == path.equals("cold")) {
            throw new IllegalStateException("the " + path + " run's decision says: " + reason);
        }
        return new Measurement(Duration.between(up.at(), readyEvent.at()).toMillis(),
                Duration.between(up.at(), answered).toMillis());
    }

    private long serving() {
        return in(ReplicaState.READY);
    }

    private long in(ReplicaState state) {
        return stack.scaler().replicas().values().stream().filter(s -> s == state).count();
    }

    private void command(String name, String... args) {
        AdminResult result = stack.scaler().handle(new AdminCommand("bench-" + UUID.randomUUID(),
                Topic.REPLY_PREFIX + "bench", "scaler", name, List.of(args)));
        if (!result.ok()) {
            throw new IllegalStateException(name + " " + String.join(" ", args) + ": " + result.message());
        }
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + BOOT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("not within " + BOOT.toSeconds() + " s: " + what);
            }
            Thread.sleep(20);
        }
    }

    private static long median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        sorted.sort(Long::compare);
        return sorted.isEmpty() ? 0 : sorted.get(sorted.size() / 2);
    }
}
