package io.vmscale.monitor;

import io.vmscale.monitor.libvirt.DomainStats;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * CPU % per domain from two consecutive readings: the change of cumulative CPU time over the
 * change of wall time (a monotonic clock), divided by the number of vCPUs, so 100 means every
 * vCPU busy. Pure bookkeeping, no I/O and no clock of its own: the caller passes the time of
 * each reading. Not thread-safe: one meter per host, used by one thread.
 *
 * <p>No reading is invented: a domain seen for the first time, or seen again after a restart
 * (a new run id, or CPU time going backwards), only sets a baseline; a domain that is not
 * running gives no reading; a domain that vanished is forgotten.
 */
public final class CpuMeter {

    /** One domain's CPU over the last interval. */
    public record Reading(DomainStats stats, double percent, long intervalNanos) {
    }

    private record Baseline(int id, long cpuTimeNs, long atNanos) {
    }

    private final Map<String, Baseline> baselines = new HashMap<>();

    /** The readings for this tick's stats taken at {@code nowNanos}; remembers them for the next tick. */
    public List<Reading> update(List<DomainStats> stats, long nowNanos) {
        List<Reading> readings = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (DomainStats domain : stats) {
            seen.add(domain.uuid());
            if (!domain.state().active() || domain.vcpus() < 1) {
                baselines.remove(domain.uuid());
                continue;
            }
            Baseline previous = baselines.put(domain.uuid(), new Baseline(domain.id(), domain.cpuTimeNs(), nowNanos));
            if (previous == null || previous.id() != domain.id() || domain.cpuTimeNs() < previous.cpuTimeNs()) {
                continue; // first sight, or restarted since: a baseline only
            }
            long wall = nowNanos - previous.atNanos();
            if (wall <= 0) {
                continue;
            }
            double percent = 100.0 * (domain.cpuTimeNs() - previous.cpuTimeNs()) / ((double) wall * domain.vcpus());
            readings.add(new Reading(domain, percent, wall));
        }
        baselines.keySet().retainAll(seen);
        return readings;
    }

    /** Domains with a baseline (for tests and status). */
    public int tracked() {
        return baselines.size();
    }
}
