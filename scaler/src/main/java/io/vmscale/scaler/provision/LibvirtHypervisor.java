package io.vmscale.scaler.provision;

import io.vmscale.libvirt.DomainState;
import io.vmscale.libvirt.DomainStats;
import io.vmscale.libvirt.HostConnection;
import io.vmscale.libvirt.InterfaceAddress;
import io.vmscale.libvirt.LibvirtFailure;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/** {@link Hypervisor} over one libvirt connection. */
public final class LibvirtHypervisor implements Hypervisor {
    /** VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE. */
    private static final int LEASE = 0;
    private final HostConnection host;
    /** The node's CPU count does not change: read once. */
    private volatile int cpus;

    public LibvirtHypervisor(HostConnection host) {
        this.host = host;
    }

    @Override
    public String uri() {
        return host.uri();
    }

    @Override
    public List<Domain> domains(Predicate<String> names) {
        return host.stats().listing(names).stream().map(d -> new Domain(d.name(), power(d), d.vcpus(), d.memoryKiB(),
                d.id() > 0 ? d.uuid() + "/" + d.id() : null)).toList();
    }

    private Power power(DomainStats domain) {
        if (domain.state() == DomainState.PAUSED) {
            return Power.PAUSED;
        }
        if (domain.state().active()) {
            return Power.RUNNING;
        }
        try {
            return host.domains().hasManagedSave(domain.name()) ? Power.SAVED : Power.OFF;
        } catch (LibvirtFailure e) {
            if (host.domains().find(domain.name()).isEmpty()) {
                return Power.OFF; // undefined meanwhile
            }
            throw e;
        }
    }

    @Override
    public Optional<String> metadata(String name, String namespaceUri) {
        return host.domains().metadata(name, namespaceUri);
    }

    /** The first IPv4 address of the domain's DHCP lease. */
    @Override
    public Optional<String> leaseAddress(String name) {
        for (InterfaceAddress address : host.domains().interfaceAddresses(name, LEASE)) {
            if (address.ip().indexOf(':') < 0) {
                return Optional.of(address.ip());
            }
        }
        return Optional.empty();
    }

    @Override
    public String capabilities() {
        return host.domains().capabilities();
    }

    @Override
    public int cpus() {
        if (cpus == 0) {
            cpus = host.stats().info().cpus();
        }
        return cpus;
    }

    @Override
    public long freeMemoryKiB() {
        return host.stats().freeMemoryKiB();
    }

    @Override
    public void suspend(String name) {
        host.domains().suspend(name);
    }

    @Override
    public void resume(String name) {
        host.domains().resume(name);
    }

    @Override
    public void save(String name) {
        host.domains().managedSave(name);
    }

    @Override
    public void define(String xml) {
        host.domains().define(xml);
    }

    @Override
    public void createTransient(String xml) {
        host.domains().createTransient(xml);
    }

    @Override
    public void start(String name) {
        host.domains().start(name);
    }

    @Override
    public String createOverlay(String pool, String base, String name) {
        return host.volumes().createOverlay(pool, base, name).path();
    }

    @Override
    public String upload(String pool, String name, byte[] content) {
        return host.volumes().upload(pool, name, content).path();
    }

    @Override
    public boolean deleteVolume(String pool, String name) {
        return host.volumes().delete(pool, name);
    }

    @Override
    public List<String> volumes(String pool) {
        return host.volumes().names(pool);
    }

    @Override
    public void shutdown(String name) {
        if (host.domains().find(name).map(d -> d.state().active()).orElse(false)) {
            host.domains().shutdown(name);
        }
    }

    @Override
    public void destroy(String name) {
        Optional<DomainStats> domain = host.domains().find(name);
        if (domain.isPresent() && domain.get().state().active()) {
            try {
                host.domains().destroy(name);
            } catch (LibvirtFailure e) {
                if (host.domains().find(name).map(d -> d.state().active()).orElse(false)) {
                    throw e;
                }
                // it stopped by itself meanwhile: what we wanted
            }
        }
    }

    @Override
    public void undefine(String name) {
        if (host.domains().find(name).isPresent()) {
            host.domains().undefine(name);
        }
    }

    @Override
    public String migratableXml(String name, boolean persistent) {
        return host.domains().migratableXml(name, persistent);
    }

    @Override
    public void migrate(String name, Hypervisor destination, String destinationXml, String persistentXml,
                        String address) {
        if (!(destination instanceof LibvirtHypervisor target)) {
            throw new IllegalArgumentException("cannot migrate from " + uri() + " to " + destination.uri()
                    + ": not a libvirt host");
        }
        host.domains().migrate(name, target.host, destinationXml, persistentXml, address);
    }

    @Override
    public boolean reachable() {
        return host.connected();
    }
}
