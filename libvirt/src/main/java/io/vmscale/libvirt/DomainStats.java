package io.vmscale.libvirt;

/**
 * One domain's figures from one stats call.
 *
 * @param name      the domain's name
 * @param uuid      its UUID, stable across restarts
 * @param id        its run id: a new one at every start, -1 when not running
 * @param state     libvirt's state
 * @param vcpus     current virtual CPUs, 0 when not running
 * @param cpuTimeNs cumulative CPU time of the domain, 0 when not running
 * @param memoryKiB its maximum memory, 0 when libvirt could not say
 */
public record DomainStats(String name, String uuid, int id, DomainState state, int vcpus, long cpuTimeNs,
                          long memoryKiB) {
    public DomainStats(String name, String uuid, int id, DomainState state, int vcpus, long cpuTimeNs) {
        this(name, uuid, id, state, vcpus, cpuTimeNs, 0);
    }
}
