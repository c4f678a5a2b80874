package io.vmscale.cli.bench;

import io.vmscale.cli.common.Home;
import io.vmscale.cli.config.ConfigLoader;
import io.vmscale.cli.config.VmscaleConfig;
import io.vmscale.cli.stack.AppImage;
import io.vmscale.libvirt.HostConnection;
import io.vmscale.scaler.health.HealthCheck;
import io.vmscale.scaler.health.HealthState;
import io.vmscale.scaler.provision.ApplicationConfig;
import io.vmscale.scaler.provision.GuestImage;
import io.vmscale.scaler.provision.LibvirtHypervisor;
import io.vmscale.scaler.provision.Provisioner;
import io.vmscale.scaler.provision.ReadinessProbe;
import io.vmscale.scaler.provision.Replica;
import io.vmscale.scaler.provision.ReplicaNames;
import io.vmscale.scaler.provision.ReplicaProvisioner;
import io.vmscale.scaler.provision.ReplicaTemplate;
import io.vmscale.scaler.provision.UserData;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;

/**
 * Your own application's replica, by each path, from {@code apps/http/vmscale.json}: cold (overlay and seed
 * created through the storage API, define, start, until its HTTP check passes: cloud-init has installed the
 * service from the user-data), from the warm pool (paused, resumed, until the check passes), and the graceful
 * stop (ACPI shutdown until libvirt says it is off). One replica at a time.
 */
final class HttpBootBench {
    private HttpBootBench() {
    }

    static void run(PrintWriter out, VmscaleConfig loaded, int boots) throws Exception {
        VmscaleConfig c = ConfigLoader.parse("apps/http/vmscale.json",
                Files.readString(Home.resolve("apps/http/vmscale.json")));
        ApplicationConfig app = c.application();
        String prefix = "vmscale-httpbench" + UUID.randomUUID().toString().substring(0, 4);
        try (HostConnection host = HostConnection.open(loaded.libvirt().uris().get(0))) {
            AppImage image = AppImage.http(Home.dir(), host, line -> { });
            LibvirtHypervisor hypervisor = new LibvirtHypervisor(host);
            ReplicaProvisioner provisioner = ReplicaProvisioner.template(new ReplicaProvisioner.Settings(hypervisor,
                    new ReplicaNames(prefix, 4), true, app.port(), c.provisioning().hostPortBase(), true,
                    ReplicaTemplate.load(Home.resolve(c.provisioning().template())),
                    new GuestImage(image.kernel(), image.initrd()), "qemu", "127.0.0.1", -1)
                    .withApplication(app, UserData.load(Home.resolve(app.userData()))));
            HealthCheck check = HealthCheck.of(app.healthCheck());
            out.printf("bench http-boot: %d cores, %s, domain type qemu; image %s (%.0f MB), %d vCPU, %d MiB; checked by "
                    + "%s; %d replicas, one at a time%n%n", Runtime.getRuntime().availableProcessors(), host.uri(),
                    app.image(), Files.size(image.disk()) / 1e6, app.vcpus(), app.memoryMiB(),
                    app.healthCheck().describe(), boots);
            List<Long> cold = new ArrayList<>();
            List<Long> warm = new ArrayList<>();
            List<Long> stop = new ArrayList<>();
            try {
                for (int i = 0; i < boots; i++) {
                    long t0 = System.nanoTime();
                    Replica replica = provisioner.scaleUp();
                    long started = System.nanoTime();
                    HealthState up = ReadinessProbe.until(check, app.healthCheck(), replica.endpoint(),
                            Duration.ofSeconds(300), Duration.ofMillis(250), () -> true);
                    long ready = System.nanoTime();
                    if (!up.healthy()) {
                        throw new IllegalStateException(replica.domain() + " not healthy within 300 s: " + up.last());
                    }
                    provisioner.park(replica.domain(), Provisioner.Tier.PAUSED);
                    long t1 = System.nanoTime();
                    provisioner.resume(replica.domain());
                    HealthState back = ReadinessProbe.until(check, app.healthCheck(), replica.endpoint(),
                            Duration.ofSeconds(30), Duration.ofMillis(20), () -> true);
                    long resumed = System.nanoTime();
                    long t2 = System.nanoTime();
                    String how = provisioner.stop(replica.domain(), app.stopTimeout());
                    long off = System.nanoTime();
                    cold.add((ready - t0) / 1_000_000);
                    warm.add((resumed - t1) / 1_000_000);
                    stop.add((off - t2) / 1_000_000);
                    out.printf("replica %d: overlay+seed+define+start %d ms, healthy after %d ms; from the warm pool "
                                    + "(paused) healthy after %d ms%s; stop: %s (%d ms)%n", i + 1,
                            (started - t0) / 1_000_000, (ready - t0) / 1_000_000, (resumed - t1) / 1_000_000,
                            back.healthy() ? "" : " (NOT healthy: " + back.last() + ")", how, (off - t2) / 1_000_000);
                    out.flush();
                }
            } finally {
                for (String name : host.domains().names(n -> n.startsWith(prefix))) {
                    provisioner.stop(name);
                }
            }
            out.printf("%nmedian cold start to healthy: %d ms (min %d, max %d); from the warm pool: %d ms (min %d, max "
                    + "%d); graceful stop: %d ms%n", median(cold), Collections.min(cold), Collections.max(cold),
                    median(warm), Collections.min(warm), Collections.max(warm), median(stop));
            out.flush();
        }
    }

    private static long median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }
}
