package io.vmscale.broker.event;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * {@code host.status}: the monitor's connection to a hypervisor came or went, or one tick's figures
 * of a connected host. While a host is disconnected its domains get no samples; that is not a load
 * of zero. A figure the monitor could not read is -1 (unknown), as in logs written before the
 * figures existed.
 *
 * @param host          the libvirt URI
 * @param connected     whether the monitor is connected now
 * @param reason        why, in words ("connected", "closed: EOF", "cannot connect: ...", "figures")
 * @param cpus          the host's logical CPUs (virNodeGetInfo), -1 when unknown
 * @param cpuPercent    how busy the host's CPUs were since the previous figures, 0 to 100 (all CPUs
 *                      busy), -1 when unknown
 * @param domainVcpus   vCPUs of every active domain on the host, ours or not, -1 when unknown
 * @param memoryKiB     the host's memory, -1 when unknown
 * @param freeMemoryKiB the host's free memory, -1 when unknown
 */
public record HostStatus(String host, boolean connected, String reason, int cpus, double cpuPercent,
                         int domainVcpus, long memoryKiB, long freeMemoryKiB) implements Event {
    /** A figure not known. */
    public static final int UNKNOWN = -1;

    public HostStatus {
        Fields.text("host", host);
        reason = reason == null ? "" : reason;
        Fields.notNegativeOrUnknown("cpus", cpus);
        if (cpuPercent != UNKNOWN && !(cpuPercent >= 0 && cpuPercent <= 100)) {
            throw new IllegalArgumentException("cpuPercent must be 0 to 100 or -1 (unknown), got " + cpuPercent);
        }
        Fields.notNegativeOrUnknown("domainVcpus", domainVcpus);
        Fields.notNegativeOrUnknown("memoryKiB", memoryKiB);
        Fields.notNegativeOrUnknown("freeMemoryKiB", freeMemoryKiB);
    }

    /** A connection change, without figures. */
    public HostStatus(String host, boolean connected, String reason) {
        this(host, connected, reason, UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN);
    }

    /** Reads a body; a figure it lacks (a log written before the figures existed) is unknown. */
    @JsonCreator
    static HostStatus read(@JsonProperty("host") String host, @JsonProperty("connected") boolean connected,
                           @JsonProperty("reason") String reason, @JsonProperty("cpus") Integer cpus,
                           @JsonProperty("cpuPercent") Double cpuPercent,
                           @JsonProperty("domainVcpus") Integer domainVcpus,
                           @JsonProperty("memoryKiB") Long memoryKiB,
                           @JsonProperty("freeMemoryKiB") Long freeMemoryKiB) {
        return new HostStatus(host, connected, reason, cpus == null ? UNKNOWN : cpus,
                cpuPercent == null ? UNKNOWN : cpuPercent, domainVcpus == null ? UNKNOWN : domainVcpus,
                memoryKiB == null ? UNKNOWN : memoryKiB, freeMemoryKiB == null ? UNKNOWN : freeMemoryKiB);
    }
}
