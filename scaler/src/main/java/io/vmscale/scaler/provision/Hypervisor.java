package io.vmscale.scaler.provision;

import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The libvirt operations the scaler needs, on one host: a narrow seam with the real implementation
 * ({@link LibvirtHypervisor}) and a fake for scenario tests. Every call may throw a
 * {@link RuntimeException} naming the host and the operation (libvirt unreachable, domain refused).
 */
public interface Hypervisor {

    /** What a domain is doing: a warm pool keeps its replicas PAUSED or SAVED. */
    enum Power {
        /** Running (or blocked, or shutting down): it has a QEMU process and its vCPUs run. */
        RUNNING,
        /** Suspended: its QEMU process holds its memory, its vCPUs do not run. */
        PAUSED,
        /** Shut off with a managed save image: starting it restores it where it was. */
        SAVED,
        /** Shut off. */
        OFF;

        /** It has a QEMU process (libvirt's "active"). */
        public boolean active() {
            return this == RUNNING || this == PAUSED;
        }
    }

    /**
     * One domain as libvirt reports it now.
     *
     * @param vcpus     its vCPUs when active, else 0
     * @param memoryKiB its memory, 0 when not known
     * @param run       this run of it (UUID and run id) when active: what is read of its definition holds while the
     *                  run does; null when not active or not known
     */
    record Domain(String name, Power power, int vcpus, long memoryKiB, String run) {
        public Domain(String name, Power power, int vcpus, long memoryKiB) {
            this(name, power, vcpus, memoryKiB, null);
        }

        public boolean active() {
            return power.active();
        }
    }

    /**
     * The host's size and what runs on it.
     *
     * @param cpus          physical CPUs (cores x threads) libvirt reports for the node
     * @param activeVcpus   vCPUs of every active domain on the host, ours or not (paused ones too: they come back)
     * @param freeMemoryKiB the node's free memory, -1 when not known
     */
    record Host(int cpus, int activeVcpus, long freeMemoryKiB) {
        public Host(int cpus, int activeVcpus) {
            this(cpus, activeVcpus, -1);
        }
    }

    /** The libvirt URI. */
    String uri();

    /** Every domain whose name passes the filter, running or not. */
    List<Domain> domains(Predicate<String> names);

    /** Our metadata element ({@code <vmscale:replica .../>}) of the domain's definition, or empty. */
    Optional<String> metadata(String name, String namespaceUri);

    /** NAT mode: the IPv4 address of the domain's DHCP lease, once it has one. */
    Optional<String> leaseAddress(String name);

    /** The node's physical CPUs (cores x threads). */
    int cpus();

    /** The node's free memory in KiB. */
    long freeMemoryKiB();

    /** The host's capabilities XML: the guest architectures and domain types (qemu, kvm) it offers. */
    String capabilities();

    /** Defines a persistent domain from XML. */
    void define(String xml);

    /** Creates and starts a transient domain from XML: it is gone, definition and all, when it stops. */
    void createTransient(String xml);

    /** Starts it; one with a managed save image is restored from it (libvirt's rule). */
    void start(String name);

    /** Suspends its vCPUs; it keeps its memory and its QEMU process. */
    void suspend(String name);

    /** Lets a suspended domain run again. */
    void resume(String name);

    /** Saves its memory to the host's managed save image and stops it; {@link #start} restores it. */
    void save(String name);

    /** Asks the guest to shut down (ACPI power button) and returns at once; a domain not running is not an error. */
    void shutdown(String name);

    /** Stops it at once; a domain that is not running or does not exist is not an error. */
    void destroy(String name);

    /** Removes its definition and its managed save image; a domain that does not exist is not an error. */
    void undefine(String name);

    /** Its definition as a migration's destination may be given it: the running one, or the persistent one. */
    String migratableXml(String name, boolean persistent);

    /**
     * Live-migrates a running domain to another host of the same kind: it runs there with {@code destinationXml},
     * defined there with {@code persistentXml}, and is undefined here. Returns once it runs on the destination.
     *
     * @param address the destination's address for the migration stream
     */
    void migrate(String name, Hypervisor destination, String destinationXml, String persistentXml, String address);

    /**
     * Creates {@code name} in the storage pool: a qcow2 overlay whose backing store is the pool's {@code base}
     * volume; returns its path. Fails (naming the pool and the base) when either is missing.
     */
    String createOverlay(String pool, String base, String name);

    /** Creates {@code name} in the storage pool holding {@code content}, uploaded through libvirt; returns its path. */
    String upload(String pool, String name, byte[] content);

    /** Deletes the volume; returns false when there was none. */
    boolean deleteVolume(String pool, String name);

    /** The names of the pool's volumes. */
    List<String> volumes(String pool);

    /** True when the host answers now. */
    boolean reachable();
}
