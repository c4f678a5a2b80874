package io.vmscale.cli.stack;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Subscription;
import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.Envelope;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.HostStatus;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.broker.event.Topic;
import io.vmscale.broker.event.VmLifecycle;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every group's figures for Prometheus, each labelled {@code group} (its prefix), read from the broker like every other client: per replica CPU and
 * state, the replica count and the count the scaler wants, decisions by action and reason, the
 * balancer's counters and latency histogram, each host's figures; the build and this JVM's own metrics. By
 * Prometheus' conventions: base units (CPU as a 0-1 ratio, seconds), counters named {@code _total}, no
 * per-second figures (a rate is PromQL's {@code rate()} of a counter). Served on {@code /metrics} in the
 * Prometheus text format. The metric names are listed in {@code conf/README.md}.
 */
final class Metrics implements AutoCloseable {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Gauge cpu = Gauge.builder().name("vmscale_replica_cpu_ratio")
            .help("a replica's CPU use, 0 to 1 of its vCPUs, as the monitor last read it")
            .labelNames("group", "domain", "host").register(registry);
    private final Gauge state = Gauge.builder().name("vmscale_replica_state")
            .help("1 for a replica's current state as the scaler last said it").labelNames("group", "domain", "state")
            .register(registry);
    private final Gauge desired = Gauge.builder().name("vmscale_replicas_desired")
            .help("the replica count of the scaler's last UP, DOWN or REPLACE").labelNames("group").register(registry);
    private final Counter decisions = Counter.builder().name("vmscale_decisions_total")
            .help("the scaler's decisions by action and reason code (a repeated HOLD is published as a heartbeat)")
            .labelNames("group", "action", "reason").register(registry);
    private final Gauge ejected = Gauge.builder().name("vmscale_balancer_replica_ejected")
            .help("1 while the balancer has a replica ejected as an outlier").labelNames("group", "endpoint")
            .register(registry);
    private final Gauge inFlight = Gauge.builder().name("vmscale_balancer_replica_in_flight")
            .help("requests in flight to a replica").labelNames("group", "endpoint").register(registry);
    private final Gauge hostUp = Gauge.builder().name("vmscale_host_up")
            .help("1 while the monitor is connected to the libvirt host").labelNames("host").register(registry);
    private final Gauge hostCpu = Gauge.builder().name("vmscale_host_cpu_ratio")
            .help("the host's busy CPU, 0 to 1 of all its cores, as the monitor last read it").labelNames("host")
            .register(registry);
    private final Gauge hostVcpus = Gauge.builder().name("vmscale_host_active_vcpus")
            .help("vCPUs of the host's active domains").labelNames("host").register(registry);
    private final Map<String, ReplicaState> states = new ConcurrentHashMap<>();
    /** Each group's balancer or traffic driver's last stats. */
    private final Map<String, LbStats> lastStats = new ConcurrentHashMap<>();
    /** The groups' prefixes, the first (what an event naming no group is of) first. */
    private final java.util.concurrent.CopyOnWriteArrayList<String> groups;
    private final Subscription subscription;
    private final HTTPServer server;

    private Metrics(BrokerConnection viewer, InetSocketAddress at, java.util.List<String> groups) {
        if (groups.isEmpty()) {
            throw new IllegalArgumentException("no group");
        }
        this.groups = new java.util.concurrent.CopyOnWriteArrayList<>(groups);
        GaugeWithCallback.builder().name("vmscale_replicas").help("replicas in a state, as the scaler last said")
                .labelNames("group", "state").callback(callback -> {
                    for (String group : this.groups) {
                        for (ReplicaState s : ReplicaState.values()) {
                            long n = states.entrySet().stream()
                                    .filter(e -> e.getValue() == s && groupOf(e.getKey()).equals(group)).count();
                            if (n > 0 || s == ReplicaState.READY) { // READY 0: an alert's figure
                                callback.call(n, group, s.name());
                            }
                        }
                    }
                }).register(registry);
        balancerCounter("vmscale_balancer_sent", "requests the balancer sent", LbStats::sent);
        balancerCounter("vmscale_balancer_answered", "correct answers the balancer received", LbStats::answered);
        balancerCounter("vmscale_balancer_timed_out", "requests that timed out", LbStats::timedOut);
        balancerCounter("vmscale_balancer_wrong", "wrong answers", LbStats::wrong);
        registry.register(this::latencyHistogram);
        Gauge.builder().name("vmscale_build_info").help("1, labelled with the running vmscale's version")
                .labelNames("version").register(registry).labelValues(io.vmscale.cli.common.Version.NUMBER).set(1);
        io.prometheus.metrics.instrumentation.jvm.JvmMetrics.builder().register(registry);
        this.subscription = viewer.subscribeAll(Topic.PREFIX + "*", this::accept);
        try {
            this.server = HTTPServer.builder().inetAddress(at.getAddress()).port(at.getPort()).registry(registry)
                    .buildAndStart();
        } catch (IOException e) {
            subscription.close();
            throw new UncheckedIOException("cannot serve /metrics on " + at + ": " + e.getMessage(), e);
        }
    }

    /**
     * Subscribes to every live topic with the given (viewer) connection and serves {@code /metrics} there, for the
     * groups of those prefixes (the first: what an event naming no group is of).
     */
    static Metrics serve(BrokerConnection viewer, InetSocketAddress at, java.util.List<String> groups) {
        return new Metrics(viewer, at, groups);
    }

    /** The group of a domain: the prefix it is named by ({@code PREFIX-NNNN}), the first group's when none. */
    private String groupOf(String domain) {
        for (String group : groups) {
            if (io.vmscale.libvirt.LibvirtConfig.ours(group, domain)) {
                return group;
            }
        }
        return groups.get(0);
    }

    private String named(String group) {
        return group.isEmpty() ? groups.get(0) : group;
    }

    private void balancerCounter(String name, String help, java.util.function.ToLongFunction<LbStats> value) {
        CounterWithCallback.builder().name(name).help(help + " since the balancer started").labelNames("group")
                .callback(callback -> lastStats.forEach((group, stats) -> callback.call(value.applyAsLong(stats), group)))
                .register(registry);
    }

    /**
     * The balancer's answers by latency since it started, as a histogram in seconds (the balancer sums its
     * intervals into {@link LbStats#latencyBuckets}); none before its first stats or from a traffic driver.
     */
    private io.prometheus.metrics.model.snapshots.MetricSnapshot latencyHistogram() {
        var histogram = io.prometheus.metrics.model.snapshots.HistogramSnapshot.builder()
                .name("vmscale_balancer_request_duration_seconds")
                .help("the balancer's answers by time from request to correct answer, since it started");
        lastStats.forEach((group, stats) -> {
            if (stats.latencyBuckets().isEmpty()) {
                return;
            }
            double[] bounds = LbStats.LATENCY_BOUNDS_SECONDS.stream().mapToDouble(Double::doubleValue).toArray();
            long[] each = new long[bounds.length]; // the client wants each bucket's own count, not cumulative
            for (int i = 0; i < each.length; i++) {
                each[i] = stats.latencyBuckets().get(i) - (i == 0 ? 0 : stats.latencyBuckets().get(i - 1));
            }
            histogram.dataPoint(io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot
                    .builder().classicHistogramBuckets(io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets
                            .of(bounds, each)).sum(stats.latencySumSeconds())
                    .labels(io.prometheus.metrics.model.snapshots.Labels.of("group", group)).build());
        });
        return histogram.build();
    }

    /** The port it serves on (useful when asked for port 0). */
    int port() {
        return server.getPort();
    }

    void accept(Envelope<? extends Event> envelope) {
        Event event = envelope.body();
        if (event instanceof CpuSample s) {
            if (!inPool(states.get(s.domain()))) {
                cpu.labelValues(groupOf(s.domain()), s.domain(), s.host()).set(s.cpuPercent() / 100); // pool: no load
            }
        } else if (event instanceof VmLifecycle v && envelope.source().startsWith("scaler@")) {
            String group = groupOf(v.domain());
            state.remove(group, v.domain(), String.valueOf(states.get(v.domain())));
            if (v.state() == ReplicaState.STOPPED || v.state() == ReplicaState.UNDEFINED) {
                states.remove(v.domain());
                cpu.removeIf(labels -> labels.get(1).equals(v.domain()));
            } else {
                states.put(v.domain(), v.state());
                state.labelValues(group, v.domain(), v.state().name()).set(1);
                if (inPool(v.state())) {
                    cpu.removeIf(labels -> labels.get(1).equals(v.domain()));
                }
            }
        } else if (event instanceof ScaleDecision d) {
            String group = named(d.group());
            decisions.labelValues(group, d.action().name(), d.reasonCode()).inc();
            if (d.action() != ScaleAction.HOLD) {
                desired.labelValues(group).set(d.toReplicas());
            }
        } else if (event instanceof LbStats l) {
            String group = named(l.group());
            lastStats.put(group, l);
            ejected.removeIf(labels -> labels.get(0).equals(group));
            inFlight.removeIf(labels -> labels.get(0).equals(group));
            l.servers().forEach((endpoint, server) -> {
                if (!server.removed()) {
                    ejected.labelValues(group, endpoint).set(server.ejected() ? 1 : 0);
                    inFlight.labelValues(group, endpoint).set(server.inFlight());
                }
            });
        } else if (event instanceof io.vmscale.broker.event.GroupChange g) { // made or removed at run time
            if (g.change().equals(io.vmscale.broker.event.GroupChange.CREATED)) {
                groups.addIfAbsent(g.group());
            } else if (g.change().equals(io.vmscale.broker.event.GroupChange.DELETED)
                    && !g.group().equals(groups.get(0))) {
                states.keySet().removeIf(domain -> groupOf(domain).equals(g.group()));
                groups.remove(g.group());
                lastStats.remove(g.group());
                desired.remove(g.group());
                for (var gauge : List.of(cpu, state, ejected, inFlight)) {
                    gauge.removeIf(labels -> labels.get(0).equals(g.group()));
                }
            }
        } else if (event instanceof HostStatus h) {
            hostUp.labelValues(h.host()).set(h.connected() ? 1 : 0);
            if (h.cpuPercent() >= 0) {
                hostCpu.labelValues(h.host()).set(h.cpuPercent() / 100);
            }
            if (h.domainVcpus() >= 0) {
                hostVcpus.labelValues(h.host()).set(h.domainVcpus());
            }
        }
    }

    private static boolean inPool(ReplicaState state) {
        return state == ReplicaState.WARMING || state == ReplicaState.POOLED;
    }

    @Override
    public void close() {
        server.close();
        subscription.close();
    }
}
