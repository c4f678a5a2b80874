package io.vmscale.cli.chart;

import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.Envelope;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.broker.event.VmLifecycle;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What the chart shows, built from events (live, replayed or read from a log): CPU % per VM, the
 * replica count, decisions and failures as markers with their reason, the balancer's calibrations as
 * shaded stretches (a replica kept saturated on purpose), the balancer's throughput and p99 latency. Points older than the window (behind the newest event) are dropped. Thread-safe.
 */
public final class ChartModel {
    /** One value at one time. */
    public record Point(Instant at, double value) {
    }

    /** A decision or a failure, with what it says. */
    public record Marker(Instant at, Kind kind, String label) {
    }

    public enum Kind { UP, DOWN, REPLACE, FAILED, MIGRATE }

    /** A stretch of time: a replica the balancer kept saturated to measure it (its CPU then is not load). */
    public record Span(Instant from, Instant to, String label) {
    }

    private final Duration window;
    private final double high;
    private final double low;
    private final Map<String, List<Point>> cpu = new TreeMap<>();
    private final List<Point> replicas = new ArrayList<>();
    private final List<Point> throughput = new ArrayList<>();
    private final List<Point> p99 = new ArrayList<>();
    private final List<Marker> markers = new ArrayList<>();
    private final TreeSet<String> ready = new TreeSet<>();
    /** The host each ready replica serves from: a departure heard from another host (a migration's source) is not one. */
    private final Map<String, String> readyOn = new java.util.HashMap<>();
    /** Replicas being live-migrated: the monitor's word on them (suspended, stopped: migrated) is not a departure. */
    private final java.util.Set<String> migrating = new java.util.HashSet<>();
    private final List<Point> pool = new ArrayList<>();
    /** Replicas in the warm pool (WARMING, POOLED): their CPU is not load. */
    private final TreeSet<String> pooled = new TreeSet<>();
    private final TreeSet<String> parked = new TreeSet<>();
    /** Replicas (endpoints) the balancer's stats mark calibrating, since when; and the measurements over. */
    private final Map<String, Instant> calibrating = new TreeMap<>();
    private final List<Span> calibrations = new ArrayList<>();
    private Instant newest;
    /** The one group charted, by prefix; null: every event. */
    private String group;
    private boolean firstGroup;

    /** @param window how much history to keep; null keeps everything (a log rendered whole) */
    public ChartModel(Duration window, double high, double low) {
        this.window = window;
        this.high = high;
        this.low = low;
    }

    /**
     * Only the group of that prefix from now on: its domains' samples and states, its decisions and its traffic's
     * stats ({@code first}: the first group, whose are also those naming no group). Without it, everything.
     */
    public synchronized ChartModel of(String prefix, boolean first) {
        this.group = prefix;
        this.firstGroup = first;
        return this;
    }

    private boolean ours(Event event) {
        if (group == null) {
            return true;
        }
        String named = event instanceof ScaleDecision d ? d.group() : event instanceof LbStats l ? l.group() : null;
        if (named != null) {
            return named.equals(group) || named.isEmpty() && firstGroup;
        }
        String domain = event instanceof CpuSample s ? s.domain() : event instanceof VmLifecycle v ? v.domain() : null;
        return domain == null || io.vmscale.libvirt.LibvirtConfig.ours(group, domain);
    }

    public synchronized void accept(Envelope<? extends Event> envelope) {
        Instant at = envelope.ts();
        Event event = envelope.body();
        if (!ours(event)) {
            return;
        }
        if (event instanceof CpuSample s) {
            if (pooled.contains(s.domain())) {
                return; // a warm pool's replica booting or being warmed: not load
            }
            cpu.computeIfAbsent(s.domain(), d -> new ArrayList<>()).add(new Point(at, s.cpuPercent()));
        } else if (event instanceof VmLifecycle v) {
            boolean byScaler = envelope.source().startsWith("scaler@");
            if (v.state() == ReplicaState.MIGRATING) {
                migrating.add(v.domain());
            } else if (byScaler) {
                migrating.remove(v.domain());
            }
            boolean elsewhere = !v.host().equals(readyOn.getOrDefault(v.domain(), v.host()))
                    || migrating.contains(v.domain());
            if (v.state() == ReplicaState.READY) {
                readyOn.put(v.domain(), v.host());
            }
            boolean changed = v.state() == ReplicaState.READY ? ready.add(v.domain())
                    : v.state() != ReplicaState.STARTING && v.state() != ReplicaState.RUNNING
                    && v.state() != ReplicaState.DEFINED && v.state() != ReplicaState.MIGRATING && !elsewhere
                    && ready.remove(v.domain());
            if (changed || replicas.isEmpty()) {
                replicas.add(new Point(at, ready.size()));
            }
            // the pool as the scaler says it (the monitor's STOPPED of a replica being saved is not a departure)
            boolean inPool = v.state() == ReplicaState.WARMING || v.state() == ReplicaState.POOLED;
            boolean leavesPool = byScaler && !inPool;
            if (inPool) {
                pooled.add(v.domain());
            } else if (leavesPool) {
                pooled.remove(v.domain());
            }
            boolean parkedChanged = v.state() == ReplicaState.POOLED ? parked.add(v.domain())
                    : leavesPool && parked.remove(v.domain());
            if (parkedChanged) {
                pool.add(new Point(at, parked.size()));
            }
            if (v.state() == ReplicaState.FAILED) {
                markers.add(new Marker(at, Kind.FAILED, v.domain() + " failed: " + v.reason()));
            }
        } else if (event instanceof ScaleDecision d && d.action() != ScaleAction.HOLD) {
            Kind kind = Kind.valueOf(d.action().name());
            markers.add(new Marker(at, kind, kind == Kind.MIGRATE ? "MIGRATE " + d.domain() + " " + d.reasonCode()
                    : d.action() + " " + d.fromReplicas() + "\u2192" + d.toReplicas() + " " + d.reasonCode()));
        } else if (event instanceof LbStats l) {
            throughput.add(new Point(at, l.throughput()));
            if (!measuresNoLatency(l)) {
                p99.add(new Point(at, l.p99Ms()));
            }
            l.servers().forEach((endpoint, server) -> {
                if (server.calibrating() && !server.removed()) {
                    calibrating.putIfAbsent(endpoint, at);
                }
            });
            calibrating.entrySet().removeIf(open -> {
                LbStats.ServerStats server = l.servers().get(open.getKey());
                if (server != null && server.calibrating() && !server.removed()) {
                    return false;
                }
                calibrations.add(new Span(open.getValue(), at, "calibrating " + open.getKey()));
                return true;
            });
        }
        if (newest == null || at.isAfter(newest)) {
            newest = at;
        }
        trim();
    }

    private void trim() {
        if (window == null || newest == null) {
            return;
        }
        Instant oldest = newest.minus(window);
        cpu.values().forEach(points -> points.removeIf(p -> p.at().isBefore(oldest)));
        cpu.values().removeIf(List::isEmpty);
        // keep the last replica count before the window: it still holds at the window's left edge
        while (replicas.size() > 1 && replicas.get(1).at().isBefore(oldest)) {
            replicas.remove(0);
        }
        while (pool.size() > 1 && pool.get(1).at().isBefore(oldest)) {
            pool.remove(0);
        }
        throughput.removeIf(p -> p.at().isBefore(oldest));
        p99.removeIf(p -> p.at().isBefore(oldest));
        markers.removeIf(m -> m.at().isBefore(oldest));
        calibrations.removeIf(c -> c.to().isBefore(oldest));
    }

    /** A consistent copy of everything, for drawing. */
    public synchronized Snapshot snapshot() {
        Map<String, List<Point>> cpuCopy = new TreeMap<>();
        cpu.forEach((d, points) -> cpuCopy.put(d, List.copyOf(points)));
        List<Point> replicaCopy = new ArrayList<>(replicas);
        if (!replicaCopy.isEmpty() && newest != null) {
            replicaCopy.add(new Point(newest, replicaCopy.get(replicaCopy.size() - 1).value())); // holds until now
        }
        List<Point> poolCopy = new ArrayList<>(pool);
        if (!poolCopy.isEmpty() && newest != null) {
            poolCopy.add(new Point(newest, poolCopy.get(poolCopy.size() - 1).value()));
        }
        List<Span> spans = new ArrayList<>(calibrations);
        calibrating.forEach((endpoint, since) -> spans.add(new Span(since, newest, "calibrating " + endpoint)));
        return new Snapshot(cpuCopy, replicaCopy, List.copyOf(throughput), List.copyOf(p99), List.copyOf(markers),
                high, low, poolCopy, spans);
    }

    /**
     * What one drawing shows.
     *
     * @param pool         the warm pool's parked replicas over time (empty without a pool)
     * @param calibrations when the balancer kept a replica saturated to measure it, one still going up to now
     */
    /** Stats of a traffic driver (HAProxy, a program): it reports sessions, not latencies; no p99 is not 0 ms. */
    static boolean measuresNoLatency(LbStats stats) {
        return !stats.mode().equals("builtin") && io.vmscale.balancer.traffic.TrafficConfig.DRIVERS.contains(stats.mode());
    }

    public record Snapshot(Map<String, List<Point>> cpu, List<Point> replicas, List<Point> throughput, List<Point> p99,
                           List<Marker> markers, double high, double low, List<Point> pool, List<Span> calibrations) {
    }
}
