package io.vmscale.monitor;

import io.vmscale.libvirt.HostCpuTimes;

/**
 * How busy a host's CPUs were between two readings of its cumulative CPU times: the change of busy
 * time over the change of all time, 0 to 100. Pure; one meter per host, used by one thread.
 */
final class HostCpuMeter {
    /** Not known: the first reading, or counters that did not move forwards (a reboot, a fake driver). */
    static final double UNKNOWN = -1;

    private HostCpuTimes previous;

    /** The busy % since the previous times, or {@link #UNKNOWN}; remembers these for the next call. */
    double update(HostCpuTimes now) {
        HostCpuTimes before = previous;
        previous = now;
        if (before == null) {
            return UNKNOWN;
        }
        long total = now.totalNs() - before.totalNs();
        long busy = now.busyNs() - before.busyNs();
        if (total <= 0 || busy < 0) {
            return UNKNOWN;
        }
        return Math.min(100, 100.0 * busy / total);
    }
}
