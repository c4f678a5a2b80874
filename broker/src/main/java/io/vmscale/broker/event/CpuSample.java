package io.vmscale.broker.event;

/**
 * {@code cpu.sample}: one domain's CPU over one monitoring interval.
 *
 * @param host        the libvirt URI or host name the domain runs on
 * @param domain      the domain's name
 * @param state       the domain's state as libvirt reports it (RUNNING, PAUSED, SHUTOFF, ...)
 * @param vcpus       number of virtual CPUs
 * @param cpuTimeNs   cumulative CPU time of the domain in nanoseconds
 * @param cpuPercent  CPU used over the interval as a percentage of all its vCPUs (100 = every vCPU busy)
 * @param intervalMs  the wall-clock interval the percentage was computed over
 */
public record CpuSample(String host, String domain, String state, int vcpus, long cpuTimeNs, double cpuPercent,
                        long intervalMs) implements Event {
    public CpuSample {
        Fields.text("host", host);
        Fields.text("domain", domain);
        Fields.text("state", state);
        if (vcpus < 1) {
            throw new IllegalArgumentException("vcpus must be >= 1, got " + vcpus);
        }
        Fields.notNegative("cpuTimeNs", cpuTimeNs);
        Fields.finiteNotNegative("cpuPercent", cpuPercent);
        Fields.notNegative("intervalMs", intervalMs);
    }
}
