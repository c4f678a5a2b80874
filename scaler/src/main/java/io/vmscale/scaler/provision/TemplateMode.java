package io.vmscale.scaler.provision;

import io.vmscale.broker.event.Endpoint;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Template mode, like a launch template: scaling up defines {@code PREFIX-NNNN} (the lowest number no domain
 * of that name uses) from the domain XML template with a fresh UUID, MAC and, in port-forward mode, a free
 * host port, and the group's ownership mark ({@link ReplicaMark}), then starts it. Only domains carrying the
 * group's mark are the group's; stopping undefines where configured.
 */
final class TemplateMode implements ProvisioningMode {
    /** Its messages under the provisioner's name, as they always were. */
    private static final Logger log = LoggerFactory.getLogger(ReplicaProvisioner.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final ReplicaProvisioner.Settings settings;
    private final Clock clock;

    TemplateMode(ReplicaProvisioner.Settings settings, Clock clock) {
        if (settings.template() == null || settings.image() == null || settings.domainType() == null) {
            throw new IllegalArgumentException("template mode needs a template, an image and a domain type");
        }
        if (settings.app().ownImage() && !settings.template().uses("disk")) {
            throw new ProvisioningException("replica template " + settings.template().file() + " has no ${disk}: with "
                    + "application.image set, use one that boots the replica's overlay (conf/replica-image.xml)");
        }
        this.settings = settings;
        this.clock = clock;
    }

    @Override
    public Replica scaleUp(ReplicaProvisioner provisioner, Set<Integer> taken) {
        Map<Integer, Hypervisor.Domain> domains = provisioner.named();
        int number = 0;
        while (domains.containsKey(number) || taken.contains(number)) {
            number++; // foreign domains' numbers are skipped too
        }
        String name = settings.names().name(number);
        int chosen = number;
        return provisioner.making(name, () -> define(provisioner, chosen, name, domains));
    }

    /** Defines and starts {@code name}: its volumes, its ports, its mark. */
    private Replica define(ReplicaProvisioner provisioner, int number, String name,
                           Map<Integer, Hypervisor.Domain> domains) {
        Map<String, String> values = new HashMap<>();
        values.put("name", name);
        values.put("uuid", UUID.randomUUID().toString());
        values.put("mac", String.format("52:54:00:%02x:%02x:%02x", RANDOM.nextInt(256), RANDOM.nextInt(256),
                RANDOM.nextInt(256)));
        values.put("type", settings.domainType());
        ApplicationConfig app = provisioner.app();
        values.put("kernel", app.kernel().isEmpty() ? settings.image().kernel().toString() : app.kernel());
        values.put("initrd", app.initrd().isEmpty() ? settings.image().initrd().toString() : app.initrd());
        values.put("cmdline", app.cmdline());
        values.put("vcpus", Integer.toString(app.vcpus()));
        values.put("memoryMiB", Integer.toString(app.memoryMiB()));
        values.put("protocol", app.protocol());
        values.put("guestPort", Integer.toString(settings.guestPort()));
        values.put("hostAddress", settings.address());
        values.put("hostPort", Integer.toString(settings.portForward() ? freeHostPort(provisioner, number, domains, name)
                : settings.guestPort()));
        disks(provisioner, app, name, values);
        String xml = ReplicaMark.stamp(settings.template().render(values), provisioner.group(), number, clock.instant(),
                app.image());
        try {
            provisioner.host().define(xml);
        } catch (RuntimeException e) {
            provisioner.deleteVolumes(name);
            throw new ProvisioningException("cannot define " + name + " from " + settings.template().file() + " on "
                    + provisioner.uri() + ": " + e.getMessage(), e);
        }
        try {
            provisioner.host().start(name);
            Endpoint endpoint = provisioner.requireEndpoint(name, provisioner.mark(name));
            log.info("defined and started {} ({}), answering at {}", name, settings.domainType(),
                    endpoint == null ? "its DHCP lease's address, once it has one" : endpoint);
            return new Replica(name, provisioner.uri(), endpoint);
        } catch (RuntimeException e) {
            provisioner.removeQuietly(name);
            provisioner.deleteVolumes(name);
            throw new ProvisioningException("cannot start " + name + " on " + provisioner.uri() + ": " + e.getMessage()
                    + " (its definition" + (app.ownImage() ? " and volumes were" : " was") + " removed)", e);
        }
    }

    /**
     * With an image of the user's: the replica's copy-on-write overlay of the base ({@code ${disk}}) and its cloud-init
     * seed ({@code ${seed}}), both created through libvirt's storage API in the base's pool; what a crash left under
     * these names is deleted first. Nothing is left behind when either fails.
     */
    private void disks(ReplicaProvisioner provisioner, ApplicationConfig app, String name, Map<String, String> values) {
        if (!app.ownImage()) {
            values.put("disk", "");
            values.put("seed", "");
            return;
        }
        provisioner.deleteVolumes(name);
        List<String> volumes = ReplicaProvisioner.volumesOf(name);
        try {
            values.put("disk", provisioner.host().createOverlay(app.pool(), app.baseVolume(), volumes.get(0)));
            values.put("seed", provisioner.host().upload(app.pool(), volumes.get(1),
                    CloudInitSeed.iso(settings.userData().text(), CloudInitSeed.metaData(name))));
        } catch (RuntimeException e) {
            provisioner.deleteVolumes(name);
            throw new ProvisioningException("cannot create the disk of " + name + " from " + app.image() + " on "
                    + provisioner.uri() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Ports chosen in this process a moment ago, by address: another group's start may not have defined its domain
     * yet (its mark, which {@link #freeHostPort} reads, comes with the definition).
     */
    private static final Map<String, Chosen> CHOSEN = new java.util.HashMap<>();

    private record Chosen(String domain, long at) {
    }
    private static final long CHOSEN_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(60);

    /**
     * base + number when free, else the next port that no domain on the host has (of any group: their marks say
     * where they answer, running or not), no start in this process chose a moment ago, and nothing holds now.
     */
    private int freeHostPort(ReplicaProvisioner provisioner, int number, Map<Integer, Hypervisor.Domain> domains,
                             String name) {
        Set<Integer> used = new HashSet<>();
        for (Hypervisor.Domain domain : domains.values()) {
            provisioner.mark(domain).flatMap(Endpoints::parse).ifPresent(e -> used.add(e.port()));
        }
        for (Hypervisor.Domain domain : provisioner.host().domains(any -> true)) {
            provisioner.mark(domain).flatMap(Endpoints::parse).filter(e -> e.ip().equals(settings.address()))
                    .ifPresent(e -> used.add(e.port()));
        }
        long now = System.nanoTime();
        synchronized (CHOSEN) { // two groups' starts never choose one port
            CHOSEN.values().removeIf(chosen -> now - chosen.at() > CHOSEN_NANOS);
            for (int port = settings.hostPortBase() + number; port <= 65535; port++) {
                String key = settings.address() + ":" + port;
                Chosen before = CHOSEN.get(key);
                if (!used.contains(port) && (before == null || before.domain().equals(name))
                        && ReplicaProvisioner.portFree(provisioner.app().protocol(), settings.address(), port)) {
                    CHOSEN.put(key, new Chosen(name, now));
                    return port;
                }
            }
        }
        throw new ProvisioningException("no free " + provisioner.app().protocol().toUpperCase(java.util.Locale.ROOT)
                + " port on " + settings.address() + " from " + settings.hostPortBase());
    }

    @Override
    public boolean owns(Optional<String> mark, String group) {
        return mark.flatMap(Endpoints::group).filter(group::equals).isPresent();
    }

    @Override
    public boolean removesStopped() {
        return settings.undefineOnStop();
    }
}
