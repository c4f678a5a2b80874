package io.vmscale.monitor;

import io.vmscale.libvirt.DomainState;
import io.vmscale.libvirt.DomainStats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * CPU % per domain from two consecutive readings: the change of cumulative CPU time over the
 * change of wall time (a monotonic clock), divided by the number of vCPUs, so 100 means every
 * vCPU busy. Pure bookkeeping, no I/O and no clock of its own: the caller passes when it asked for
 * each tick's stats and when they came back. Not thread-safe: one meter per host, used by one
 * thread; only the counters may be read from anywhere.
 *
 * <p>No reading is invented: a domain seen for the first time, or seen again after a restart
 * (a new run id, or CPU time going backwards), only sets a baseline; a domain that is not
 * running gives no reading; a domain that vanished is forgotten.
 *
 * <p>A reading is stamped when the stats call returned. When the call took longer than half the
 * interval, nobody knows when within it the CPU times were read, so that tick gives no readings
 * (they are counted as dropped), but it is the baseline of the next. A reading above 100 % (libvirt's
 * CPU time includes QEMU's own threads, not only the vCPUs) is clamped to 100 and counted.
 */
public final class CpuMeter {

    /** One domain's CPU over the last interval: 0 to 100. */
    public record Reading(DomainStats stats, double percent, long intervalNanos) {
    }

    private record Baseline(int id, long cpuTimeNs, long atNanos) {
    }

    private final long slowCallNanos;
    private final Map<String, Baseline> baselines = new HashMap<>();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong clamped = new AtomicLong();

    /** @param interval the monitoring interval; a stats call longer than half of it gives no readings */
    public CpuMeter(Duration interval) {
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("interval must be positive, got " + interval);
        }
        this.slowCallNanos = interval.toNanos() / 2;
    }

    /** The readings of stats that took no time to read, at {@code nowNanos}. */
    public List<Reading> update(List<DomainStats> stats, long nowNanos) {
        return update(stats, nowNanos, nowNanos);
    }

    /**
     * The readings of this tick's stats, asked for at {@code askedNanos} and returned at
     * {@code answeredNanos}; remembers them as the baselines of the next tick.
     */
    public List<Reading> update(List<DomainStats> stats, long askedNanos, long answeredNanos) {
        List<Reading> readings = new ArrayList<>();
        int over = 0;
        Set<String> seen = new HashSet<>();
        for (DomainStats domain : stats) {
            seen.add(domain.uuid());
            if (!domain.state().active() || domain.state() == DomainState.PAUSED || domain.vcpus() < 1) {
                baselines.remove(domain.uuid()); // a paused domain is no load, not a load of zero (a warm pool's)
                continue;
            }
            Baseline previous = baselines.put(domain.uuid(),
                    new Baseline(domain.id(), domain.cpuTimeNs(), answeredNanos));
            if (previous == null || previous.id() != domain.id() || domain.cpuTimeNs() < previous.cpuTimeNs()) {
                continue; // first sight, or restarted since: a baseline only
            }
            long wall = answeredNanos - previous.atNanos();
            if (wall <= 0) {
                continue;
            }
            double percent = 100.0 * (domain.cpuTimeNs() - previous.cpuTimeNs()) / ((double) wall * domain.vcpus());
            if (percent > 100) {
                percent = 100;
                over++;
            }
            readings.add(new Reading(domain, percent, wall));
        }
        baselines.keySet().retainAll(seen);
        if (answeredNanos - askedNanos > slowCallNanos) {
            dropped.addAndGet(readings.size());
            return List.of();
        }
        clamped.addAndGet(over);
        return readings;
    }

    /** Domains with a baseline (for tests and status). */
    public int tracked() {
        return baselines.size();
    }

    /** Readings not given because their stats call took longer than half the interval. */
    public long dropped() {
        return dropped.get();
    }

    /** Readings above 100 % given as 100. */
    public long clamped() {
        return clamped.get();
    }
}
