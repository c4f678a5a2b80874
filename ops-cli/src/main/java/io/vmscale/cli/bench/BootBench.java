package io.vmscale.cli.bench;

import io.vmscale.guest.Wire;
import io.vmscale.libvirt.HostConnection;
import io.vmscale.libvirt.LibvirtFailure;
import io.vmscale.scaler.provision.DomainTypes;
import io.vmscale.scaler.provision.GuestImage;
import io.vmscale.scaler.provision.LibvirtHypervisor;
import io.vmscale.scaler.provision.ReadinessProbe;
import io.vmscale.scaler.provision.Replica;
import io.vmscale.scaler.provision.ReplicaNames;
import io.vmscale.scaler.provision.ReplicaProvisioner;
import io.vmscale.scaler.provision.ReplicaTemplate;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;

/**
 * Time from scale-up (define and start through libvirt) to the first correct answer of the guest
 * server inside, one VM at a time, from the shipped port-forward template; and the image's size.
 */
final class BootBench {
    private BootBench() {
    }

    static void run(PrintWriter out, Path home, Path imageDir, int boots) throws IOException {
        GuestImage image = GuestImage.ensure(home, imageDir, line -> { });
        ReplicaTemplate template = ReplicaTemplate.load(home.resolve("conf/replica-port-forward.xml"));
        String prefix = "vmscale-bench" + UUID.randomUUID().toString().substring(0, 6);
        try (HostConnection host = HostConnection.open("qemu:///system")) {
            LibvirtHypervisor hypervisor = new LibvirtHypervisor(host);
            DomainTypes.Choice type = DomainTypes.choose("auto", hypervisor, template, image, Wire.DEFAULT_PORT,
                    prefix + "-kvm-probe");
            ReplicaProvisioner provisioner = ReplicaProvisioner.template(new ReplicaProvisioner.Settings(hypervisor,
                    new ReplicaNames(prefix, 4), true, Wire.DEFAULT_PORT, 21100, true, template, image, type.type()));
            out.printf("bench boot: %d cores, qemu:///system, domain type %s (%s); %d boots, one at a time%n",
                    Runtime.getRuntime().availableProcessors(), type.type(), type.why(), boots);
            out.printf("image: kernel %.1f MB, initramfs %.1f MB (not compressed)%n%n", Files.size(image.kernel()) / 1e6,
                    Files.size(image.initrd()) / 1e6);
            List<Long> millis = new ArrayList<>();
            try {
                for (int i = 0; i < boots; i++) {
                    long t0 = System.nanoTime();
                    Replica replica = provisioner.scaleUp();
                    long started = System.nanoTime();
                    boolean answered = ReadinessProbe.answers(replica.endpoint(), Duration.ofSeconds(120),
                            Duration.ofMillis(100));
                    long done = System.nanoTime();
                    if (!answered) {
                        throw new IllegalStateException(replica.domain() + " did not answer within 120 s");
                    }
                    millis.add((done - t0) / 1_000_000);
                    out.printf("boot %d: define+start %d ms, first correct answer after %d ms%n", i + 1,
                            (started - t0) / 1_000_000, (done - t0) / 1_000_000);
                    out.flush();
                    provisioner.stop(replica.domain());
                }
            } finally {
                for (String name : host.domains().names(n -> n.startsWith(prefix))) {
                    try {
                        provisioner.stop(name);
                    } catch (RuntimeException e) {
                        try {
                            host.domains().undefine(name);
                        } catch (LibvirtFailure ignored) {
                            // gone
                        }
                    }
                }
            }
            List<Long> sorted = new ArrayList<>(millis);
            Collections.sort(sorted);
            out.printf("%nmedian from scale-up to first correct answer: %d ms (min %d, max %d)%n",
                    sorted.get(sorted.size() / 2), sorted.get(0), sorted.get(sorted.size() - 1));
            out.flush();
        }
    }
}
