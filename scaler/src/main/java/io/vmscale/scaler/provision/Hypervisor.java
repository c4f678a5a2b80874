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

    /** One domain as libvirt reports it now. */
    record Domain(String name, boolean active, int vcpus) {
    }

    /**
     * The host's size and what runs on it.
     *
     * @param cpus        physical CPUs (cores x threads) libvirt reports for the node
     * @param activeVcpus vCPUs of every active domain on the host, ours or not
     */
    record Host(int cpus, int activeVcpus) {
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

    /** Defines a persistent domain from XML. */
    void define(String xml);

    void start(String name);

    /** Stops it at once; a domain that is not running or does not exist is not an error. */
    void destroy(String name);

    /** Removes its definition; a domain that does not exist is not an error. */
    void undefine(String name);

    /** True when the host answers now. */
    boolean reachable();
}
