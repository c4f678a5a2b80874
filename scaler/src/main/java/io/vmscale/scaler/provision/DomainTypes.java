package io.vmscale.scaler.provision;

import io.vmscale.broker.event.Endpoint;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * kvm or qemu: KVM where the host offers it and a guest really runs under it, software emulation
 * otherwise. Offered is not enough: on some hosts /dev/kvm exists and KVM domains start, but a
 * Linux guest never gets going. So {@code auto} boots the guest image once as a transient KVM
 * domain and waits for an answer; the verdict is kept beside the image until the image changes.
 */
public final class DomainTypes {
    /** The chosen type and why. */
    public record Choice(String type, String why) {
    }

    private static final Duration PROBE_DEADLINE = Duration.ofSeconds(20);

    private DomainTypes() {
    }

    public static Choice choose(String configured, Hypervisor host, ReplicaTemplate template, GuestImage image,
                                int guestPort, String probeName) {
        if (!configured.equals("auto")) {
            return new Choice(configured, "set in the configuration");
        }
        String capabilities = host.capabilities();
        if (!capabilities.contains("<domain type='kvm'")) {
            return new Choice("qemu", "the host offers no KVM");
        }
        if (!template.uses("hostPort")) {
            return new Choice("kvm", "the host offers KVM (not probed: the template has no port forward)");
        }
        Path cache = image.initrd().resolveSibling("domain-type." + host.uri().replaceAll("[^A-Za-z0-9]", "_"));
        String stamp = stamp(image);
        try {
            if (Files.exists(cache)) {
                String[] saved = Files.readString(cache).split("\n", 3);
                if (saved.length == 3 && saved[0].equals(stamp)) {
                    return new Choice(saved[1], saved[2].trim() + " (probed earlier)");
                }
            }
        } catch (IOException e) {
            // probe again
        }
        Choice choice = probe(host, template, image, guestPort, probeName);
        try {
            Files.writeString(cache, stamp + "\n" + choice.type() + "\n" + choice.why() + "\n");
        } catch (IOException e) {
            // not cached: probed again next time
        }
        return choice;
    }

    private static String stamp(GuestImage image) {
        try {
            return Files.getLastModifiedTime(image.kernel()) + " " + Files.getLastModifiedTime(image.initrd());
        } catch (IOException e) {
            return UUID.randomUUID().toString();
        }
    }

    private static Choice probe(Hypervisor host, ReplicaTemplate template, GuestImage image, int guestPort,
                                String probeName) {
        int port;
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            port = socket.getLocalPort();
        } catch (IOException e) {
            return new Choice("qemu", "no free port to probe KVM with");
        }
        Map<String, String> values = new HashMap<>();
        values.put("name", probeName);
        values.put("uuid", UUID.randomUUID().toString());
        values.put("mac", "52:54:00:00:00:01");
        values.put("type", "kvm");
        values.put("kernel", image.kernel().toString());
        values.put("initrd", image.initrd().toString());
        values.put("guestPort", Integer.toString(guestPort));
        values.put("hostPort", Integer.toString(port));
        values.put("hostAddress", "127.0.0.1"); // the probe runs on the first host, forwarding on loopback
        try {
            host.createTransient(template.render(values));
        } catch (RuntimeException e) {
            return new Choice("qemu", "a KVM guest did not start: " + e.getMessage());
        }
        try {
            boolean answered = ReadinessProbe.answers(new Endpoint("127.0.0.1", port), PROBE_DEADLINE,
                    Duration.ofMillis(250));
            return answered ? new Choice("kvm", "a KVM guest answered")
                    : new Choice("qemu", "KVM is offered but a guest under it did not answer within "
                    + PROBE_DEADLINE.toSeconds() + " s");
        } finally {
            try {
                host.destroy(probeName); // transient: gone with it
            } catch (RuntimeException e) {
                // it stopped by itself
            }
        }
    }
}
