package io.vmscale.scaler.provision;

import io.vmscale.broker.event.Endpoint;
import io.vmscale.monitor.libvirt.DomainStats;
import io.vmscale.monitor.libvirt.HostConnection;
import io.vmscale.monitor.libvirt.LibvirtFailure;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replicas through the libvirt API only, in one of two modes:
 * <ul>
 *   <li><b>template</b>, like a launch template: scaling up defines {@code PREFIX-NNNN} (the lowest free
 *       number) from the domain XML template with a fresh UUID, MAC and, in port-forward mode, a free
 *       host port, then starts it; stopping destroys it and, where configured, undefines it.</li>
 *   <li><b>pool</b>, as in the original assignment: the domains are defined beforehand; scaling up
 *       starts the lowest-numbered stopped one, stopping destroys it and keeps its definition.</li>
 * </ul>
 * Only names {@code PREFIX-} and digits are ever touched. One action at a time.
 */
public final class ReplicaProvisioner implements Provisioner {
    private static final Logger log = LoggerFactory.getLogger(ReplicaProvisioner.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Everything a provisioner needs; {@code template}, {@code image} and {@code domainType} in template mode only. */
    public record Settings(HostConnection host, ReplicaNames names, boolean portForward, int guestPort,
                           int hostPortBase, boolean undefineOnStop, ReplicaTemplate template, GuestImage image,
                           String domainType) {
    }

    private final Settings settings;
    private final boolean templateMode;

    private ReplicaProvisioner(Settings settings, boolean templateMode) {
        this.settings = settings;
        this.templateMode = templateMode;
    }

    public static ReplicaProvisioner template(Settings settings) {
        if (settings.template() == null || settings.image() == null || settings.domainType() == null) {
            throw new IllegalArgumentException("template mode needs a template, an image and a domain type");
        }
        return new ReplicaProvisioner(settings, true);
    }

    public static ReplicaProvisioner pool(Settings settings) {
        return new ReplicaProvisioner(settings, false);
    }

    private HostConnection host() {
        return settings.host();
    }

    /** Our domains by number, whatever their state. */
    private Map<Integer, DomainStats> ours() {
        Map<Integer, DomainStats> byNumber = new HashMap<>();
        for (DomainStats domain : host().perDomainStats(name -> settings.names().number(name).isPresent())) {
            byNumber.put(settings.names().number(domain.name()).getAsInt(), domain);
        }
        return byNumber;
    }

    @Override
    public synchronized Replica scaleUp() {
        return templateMode ? defineAndStart() : startFromPool();
    }

    private Replica startFromPool() {
        Map<Integer, DomainStats> domains = ours();
        int number = domains.entrySet().stream()
                .filter(e -> !e.getValue().state().active())
                .map(Map.Entry::getKey).min(Integer::compare)
                .orElseThrow(() -> new ProvisioningException("pool exhausted: all " + domains.size() + " domains "
                        + settings.names().prefix() + "-* on " + host().uri() + " are running"));
        String name = settings.names().name(number);
        Endpoint endpoint = endpoint(name);
        try {
            host().start(name);
        } catch (LibvirtFailure e) {
            throw new ProvisioningException("cannot start " + name + " on " + host().uri() + ": " + reason(e), e);
        }
        log.info("started {} from the pool, answering at {}", name, endpoint);
        return new Replica(name, host().uri(), endpoint);
    }

    private Replica defineAndStart() {
        Map<Integer, DomainStats> domains = ours();
        int number = 0;
        while (domains.containsKey(number)) {
            number++;
        }
        String name = settings.names().name(number);
        Map<String, String> values = new HashMap<>();
        values.put("name", name);
        values.put("uuid", UUID.randomUUID().toString());
        values.put("mac", String.format("52:54:00:%02x:%02x:%02x", RANDOM.nextInt(256), RANDOM.nextInt(256),
                RANDOM.nextInt(256)));
        values.put("type", settings.domainType());
        values.put("kernel", settings.image().kernel().toString());
        values.put("initrd", settings.image().initrd().toString());
        values.put("guestPort", Integer.toString(settings.guestPort()));
        if (settings.portForward()) {
            values.put("hostPort", Integer.toString(freeHostPort(number, domains)));
        } else {
            values.put("hostPort", Integer.toString(settings.guestPort()));
        }
        String xml = settings.template().render(values);
        try {
            host().define(xml);
        } catch (LibvirtFailure e) {
            throw new ProvisioningException("cannot define " + name + " from " + settings.template().file() + " on "
                    + host().uri() + ": " + reason(e), e);
        }
        try {
            host().start(name);
            Endpoint endpoint = endpoint(name);
            log.info("defined and started {} ({}), answering at {}", name, settings.domainType(), endpoint);
            return new Replica(name, host().uri(), endpoint);
        } catch (LibvirtFailure | ProvisioningException e) {
            removeQuietly(name);
            throw new ProvisioningException("cannot start " + name + " on " + host().uri() + ": " + reason(e)
                    + " (its definition was removed)", e);
        }
    }

    /** base + number when free, else the next port that is neither ours nor taken on loopback. */
    private int freeHostPort(int number, Map<Integer, DomainStats> domains) {
        Set<Integer> used = new HashSet<>();
        for (DomainStats domain : domains.values()) {
            Endpoints.fromMetadata(host(), domain.name()).ifPresent(e -> used.add(e.port()));
        }
        for (int port = settings.hostPortBase() + number; port <= 65535; port++) {
            if (!used.contains(port) && udpPortFree(port)) {
                return port;
            }
        }
        throw new ProvisioningException("no free UDP port on 127.0.0.1 from " + settings.hostPortBase());
    }

    private static boolean udpPortFree(int port) {
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private Endpoint endpoint(String name) {
        if (settings.portForward()) {
            return Endpoints.fromMetadata(host(), name).orElseThrow(() -> new ProvisioningException(name
                    + " has no <vmscale:replica ip='...' port='...'/> element (namespace " + Endpoints.NAMESPACE
                    + ") in its metadata: port-forward mode needs it"));
        }
        // NAT mode: the lease appears once the guest asked for it; until then the guest port on no address
        return Endpoints.fromLease(host(), name, settings.guestPort())
                .orElse(new Endpoint("0.0.0.0", settings.guestPort()));
    }

    @Override
    public synchronized String scaleDownCandidate() {
        return ours().entrySet().stream()
                .filter(e -> e.getValue().state().active())
                .max(Map.Entry.comparingByKey())
                .map(e -> e.getValue().name())
                .orElseThrow(() -> new ProvisioningException("no running " + settings.names().prefix()
                        + "-* domain on " + host().uri()));
    }

    @Override
    public synchronized void stop(String domain) {
        OptionalInt number = settings.names().number(domain);
        if (number.isEmpty()) {
            throw new IllegalArgumentException(domain + " is not a domain of the prefix " + settings.names().prefix());
        }
        try {
            DomainStats stats = host().domain(domain).orElseThrow(
                    () -> new ProvisioningException("no domain " + domain + " on " + host().uri()));
            if (stats.state().active()) {
                host().destroy(domain);
            }
            if (templateMode && settings.undefineOnStop()) {
                host().undefine(domain);
            }
            log.info("stopped {}{}", domain, templateMode && settings.undefineOnStop() ? " and removed it" : "");
        } catch (LibvirtFailure e) {
            throw new ProvisioningException("cannot stop " + domain + " on " + host().uri() + ": " + reason(e), e);
        }
    }

    @Override
    public synchronized List<Replica> running() {
        List<Replica> replicas = new ArrayList<>();
        ours().entrySet().stream()
                .filter(e -> e.getValue().state().active())
                .sorted(Map.Entry.comparingByKey(Comparator.naturalOrder()))
                .forEach(e -> replicas.add(new Replica(e.getValue().name(), host().uri(), endpoint(e.getValue().name()))));
        return replicas;
    }

    private void removeQuietly(String name) {
        try {
            host().domain(name).filter(d -> d.state().active()).ifPresent(d -> host().destroy(name));
        } catch (LibvirtFailure e) {
            log.debug("cleanup of {}: {}", name, e.getMessage());
        }
        try {
            host().undefine(name);
        } catch (LibvirtFailure e) {
            log.warn("could not remove the definition of {}: {}", name, e.getMessage());
        }
    }

    /** libvirt's own words, without our "host: operation:" prefix. */
    private static String reason(RuntimeException e) {
        String message = e.getMessage();
        int colon = message.indexOf(": ", message.indexOf(": ") + 2);
        return e instanceof LibvirtFailure && colon > 0 ? message.substring(colon + 2) : message;
    }
}
