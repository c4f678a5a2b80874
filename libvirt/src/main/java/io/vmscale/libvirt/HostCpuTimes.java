package io.vmscale.libvirt;

/**
 * A host's cumulative CPU times over all its CPUs since it booted (virNodeGetCPUStats), in
 * nanoseconds. Only the change between two readings means anything.
 */
public record HostCpuTimes(long kernelNs, long userNs, long idleNs, long iowaitNs) {
    /** Time the CPUs ran something. */
    public long busyNs() {
        return kernelNs + userNs;
    }

    /** Time the CPUs were there, busy or not. */
    public long totalNs() {
        return kernelNs + userNs + idleNs + iowaitNs;
    }
}
