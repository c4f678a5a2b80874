package io.vmscale.libvirt;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.DomainInterface;
import org.libvirt.LibvirtException;

/**
 * The domain calls on one {@link HostConnection}: list and look up, define, start, stop, suspend,
 * save, migrate, their XML, addresses and metadata, and the host's capabilities. Thread-safe.
 */
public final class Domains {
    private final HostConnection connection;

    Domains(HostConnection connection) {
        this.connection = connection;
    }

    /** Names of all domains, running or not, that pass the filter. */
    public List<String> names(Predicate<String> names) {
        return connection.call("list domains", c -> {
            List<String> result = new ArrayList<>();
            for (Domain domain : c.listAllDomains(0)) {
                String name = domain.getName();
                if (names.test(name)) {
                    result.add(name);
                }
            }
            return result;
        });
    }

    /** The domain's figures, or empty when there is no such domain. */
    public Optional<DomainStats> find(String name) {
        return connection.call("look up " + name, c -> {
            try {
                return Optional.of(Stats.read(c.domainLookupByName(name), name));
            } catch (LibvirtException e) {
                if (HostConnection.is(e, "VIR_ERR_NO_DOMAIN")) {
                    return Optional.empty();
                }
                throw e;
            }
        });
    }

    /** Defines a persistent domain from XML; returns its name. */
    public String define(String xml) {
        return connection.call("define", c -> c.domainDefineXML(xml).getName());
    }

    public void start(String name) {
        connection.call("start " + name, c -> c.domainLookupByName(name).create());
    }

    /** Creates and starts a transient domain: it is gone, definition and all, when it stops. */
    public String createTransient(String xml) {
        return connection.call("create", c -> c.domainCreateXML(xml, 0).getName());
    }

    /** The host's capabilities XML (guest architectures and domain types it offers). */
    public String capabilities() {
        return connection.call("read capabilities", Connect::getCapabilities);
    }

    /** Starts it with its vCPUs paused (VIR_DOMAIN_START_PAUSED). */
    public void startPaused(String name) {
        connection.call("start paused " + name, c -> c.domainLookupByName(name).create(1));
    }

    /** Asks the guest to shut down (ACPI); returns at once. */
    public void shutdown(String name) {
        connection.call("shut down " + name, c -> {
            c.domainLookupByName(name).shutdown();
            return null;
        });
    }

    /** Stops it at once, like pulling the plug. */
    public void destroy(String name) {
        connection.call("destroy " + name, c -> {
            c.domainLookupByName(name).destroy();
            return null;
        });
    }

    /**
     * Removes its definition and its managed save image (VIR_DOMAIN_UNDEFINE_MANAGED_SAVE); a running
     * domain becomes transient and goes when it stops.
     */
    public void undefine(String name) {
        connection.call("undefine " + name, c -> {
            c.domainLookupByName(name).undefine(1);
            return null;
        });
    }

    /** Suspends its vCPUs (virDomainSuspend). */
    public void suspend(String name) {
        connection.call("suspend " + name, c -> {
            c.domainLookupByName(name).suspend();
            return null;
        });
    }

    /** Lets a suspended domain run again (virDomainResume). */
    public void resume(String name) {
        connection.call("resume " + name, c -> {
            c.domainLookupByName(name).resume();
            return null;
        });
    }

    /** Saves it to its managed save image and stops it (virDomainManagedSave); starting it restores it. */
    public void managedSave(String name) {
        connection.call("save " + name, c -> c.domainLookupByName(name).managedSave());
    }

    /** True when it has a managed save image (virDomainHasManagedSaveImage). */
    public boolean hasManagedSave(String name) {
        return connection.call("look for the save image of " + name, c -> c.domainLookupByName(name).hasManagedSaveImage() == 1);
    }

    /** The domain's XML description. */
    public String xml(String name) {
        return connection.call("read the XML of " + name, c -> c.domainLookupByName(name).getXMLDesc(0));
    }

    /**
     * The domain's XML as a migration's destination may be given it (VIR_DOMAIN_XML_MIGRATABLE), running or
     * persistent (VIR_DOMAIN_XML_INACTIVE).
     */
    public String migratableXml(String name, boolean persistent) {
        return connection.call("read the migratable XML of " + name, c -> c.domainLookupByName(name).getXMLDesc(persistent ? 8 | 2 : 8));
    }

    /**
     * Live-migrates a running domain to another host (virDomainMigrate3, managed by this client: both hosts
     * are connected here): persistent there, undefined here. Returns once the domain runs on the destination.
     *
     * @param destinationXml its running definition on the destination (another port-forward address, say)
     * @param persistentXml  its persistent definition there (else the source's persistent one is kept, old address and all)
     * @param address        the destination's address for the migration stream: where its QEMU listens and is reached
     */
    public void migrate(String name, HostConnection destination, String destinationXml, String persistentXml,
                        String address) {
        HostConnection.RawConnect target = destination.current();
        if (target == null) {
            throw new LibvirtFailure(destination.uri() + ": migrate " + name + " here: not connected (reconnecting)");
        }
        org.libvirt.TypedParameter[] params = {
                new org.libvirt.TypedStringParameter("destination_xml", destinationXml),
                new org.libvirt.TypedStringParameter("persistent_xml", persistentXml),
                new org.libvirt.TypedStringParameter("migrate_uri", "tcp://" + address),
                new org.libvirt.TypedStringParameter("listen_address", address)};
        long flags = Domain.MigrateFlags.LIVE | Domain.MigrateFlags.PERSIST_DEST | Domain.MigrateFlags.UNDEFINE_SOURCE;
        connection.call("migrate " + name + " to " + destination.uri(), c -> {
            Domain migrated = c.domainLookupByName(name).migrate(target, params, flags);
            if (migrated == null) {
                throw new LibvirtFailure(connection.uri() + ": migrate " + name + " to " + destination.uri() + ": libvirt returned no domain");
            }
            return null;
        });
    }

    /**
     * Addresses of the domain's interfaces.
     *
     * @param source 0 DHCP lease (libvirt's NAT network), 1 guest agent, 2 ARP table
     */
    public List<InterfaceAddress> interfaceAddresses(String name, int source) {
        return connection.call("interface addresses of " + name, c -> {
            List<InterfaceAddress> result = new ArrayList<>();
            Collection<DomainInterface> interfaces = c.domainLookupByName(name).interfaceAddresses(source, 0);
            for (DomainInterface nic : interfaces) {
                for (DomainInterface.InterfaceAddress address : nic.addrs) {
                    result.add(new InterfaceAddress(nic.name, nic.hwAddr, address.address.getHostAddress(),
                            address.prefixLength));
                }
            }
            return result;
        });
    }

    /** Our metadata element in the domain's persistent definition, or empty when it has none. */
    public Optional<String> metadata(String name, String namespaceUri) {
        return connection.call("read metadata of " + name, c -> {
            try {
                // VIR_DOMAIN_METADATA_ELEMENT, VIR_DOMAIN_AFFECT_CONFIG
                return Optional.ofNullable(c.domainLookupByName(name).getMetadata(2, namespaceUri, 2));
            } catch (LibvirtException e) {
                if (HostConnection.is(e, "VIR_ERR_NO_DOMAIN_METADATA")) {
                    return Optional.empty();
                }
                if (HostConnection.is(e, "VIR_ERR_OPERATION_INVALID") && c.domainLookupByName(name).isPersistent() == 0) {
                    try { // transient (arriving by a live migration, say): its running definition, VIR_DOMAIN_AFFECT_LIVE
                        return Optional.ofNullable(c.domainLookupByName(name).getMetadata(2, namespaceUri, 1));
                    } catch (LibvirtException live) {
                        if (HostConnection.is(live, "VIR_ERR_NO_DOMAIN_METADATA")) {
                            return Optional.empty();
                        }
                        throw live;
                    }
                }
                throw e;
            }
        });
    }

    /** Writes our metadata element into the domain's persistent definition. */
    public void setMetadata(String name, String key, String namespaceUri, String xml) {
        connection.call("write metadata of " + name, c -> {
            c.domainLookupByName(name).setMetadata(2, xml, key, namespaceUri, 2);
            return null;
        });
    }
}
