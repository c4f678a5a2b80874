package io.vmscale.broker.event;

import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import java.util.Map;

/**
 * {@code lb.stats}: the balancer's figures for the last interval (counts are cumulative since start).
 *
 * @param sent        requests sent
 * @param answered    correct answers received
 * @param timedOut    requests that got no answer in time
 * @param wrong       answers that were not {@code 2^n mod 1021}
 * @param throughput  answers per second over the interval
 * @param p50Ms       median latency over the interval, milliseconds
 * @param p90Ms       90th percentile latency, milliseconds
 * @param p99Ms       99th percentile latency, milliseconds
 * @param servers     per replica endpoint ({@code ip:port}) counts and requests in flight: the members,
 *                    and each replica removed from them while it still has requests in flight and for a
 *                    few intervals after (marked {@link ServerStats#removed()}), then no more
 * @param mode        the current load mode ({@code low}, {@code mid}, {@code high}, {@code custom 0.3}, ...)
 * @param intervalMs  the interval the rates and percentiles cover
 * @param capacity    one replica's capacity the load modes scale, requests per second (configured, or the
 *                    balancer's calibrations blended); 0 before the first calibration or in logs recorded
 *                    before this field
 * @param latencyBuckets the answers' latency since the balancer started, as a cumulative histogram: the i-th count
 *                    is of answers within {@link #LATENCY_BOUNDS_SECONDS}[i] seconds (the last bound is +Inf, so
 *                    it counts all of them); empty from a balancer that does not time its answers (a traffic
 *                    driver) and in logs recorded before this field
 * @param latencySumSeconds the sum of those answers' latencies, seconds
 * @param group       the group whose traffic this is (its {@code libvirt.prefix}): each group's traffic has its own
 *                    balancer or driver, and a drain waits for its own group's; empty when not said (an earlier
 *                    release, or a balancer carrying the first group's)
 */
public record LbStats(long sent, long answered, long timedOut, long wrong, double throughput, double p50Ms,
                      double p90Ms, double p99Ms, Map<String, ServerStats> servers, String mode, long intervalMs,
                      @JsonSetter(nulls = Nulls.AS_EMPTY) double capacity,
                      @JsonSetter(nulls = Nulls.AS_EMPTY) java.util.List<Long> latencyBuckets,
                      @JsonSetter(nulls = Nulls.AS_EMPTY) double latencySumSeconds, String group)
        implements Event {
    /** The upper bounds of {@link #latencyBuckets}, seconds: 0.5 ms to 10 s, then +Inf. */
    public static final java.util.List<Double> LATENCY_BOUNDS_SECONDS = java.util.List.of(0.0005, 0.001, 0.0025,
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, Double.POSITIVE_INFINITY);

    /** The same figures as {@code other}, over whatever interval: nothing happened between the two. */
    public boolean sameFiguresAs(LbStats other) {
        return other != null && equals(new LbStats(other.sent, other.answered, other.timedOut, other.wrong,
                other.throughput, other.p50Ms, other.p90Ms, other.p99Ms, other.servers, other.mode, intervalMs,
                other.capacity, other.latencyBuckets, other.latencySumSeconds, other.group));
    }

    /** Naming no group (the first's, read by a scaler of several). */
    public LbStats(long sent, long answered, long timedOut, long wrong, double throughput, double p50Ms, double p90Ms,
                   double p99Ms, Map<String, ServerStats> servers, String mode, long intervalMs, double capacity,
                   java.util.List<Long> latencyBuckets, double latencySumSeconds) {
        this(sent, answered, timedOut, wrong, throughput, p50Ms, p90Ms, p99Ms, servers, mode, intervalMs, capacity,
                latencyBuckets, latencySumSeconds, "");
    }

    /** {@code event} as published for the group {@code name}: a balancer's stats stamped with it, the rest as it is. */
    public static Event ofGroup(Event event, String name) {
        return event instanceof LbStats stats && !name.isEmpty() ? stats.forGroup(name) : event;
    }

    /** The same figures, of that group. */
    public LbStats forGroup(String name) {
        return new LbStats(sent, answered, timedOut, wrong, throughput, p50Ms, p90Ms, p99Ms, servers, mode, intervalMs,
                capacity, latencyBuckets, latencySumSeconds, name);
    }

    /**
     * One replica's share of the traffic, as the balancer sees it.
     *
     * @param sent      requests sent to it
     * @param answered  correct answers it gave
     * @param timedOut  its requests that got no answer in time
     * @param wrong     its answers that were not {@code 2^n mod 1021}
     * @param inFlight  its requests sent and not yet answered or timed out, when the stats were built
     * @param ejected   taken out for a while after timeouts in a row; it comes back after a probe
     * @param removed   the balancer's acknowledgement that it has taken this replica out of its
     *                  membership (it was DRAINING, stopped or failed, or an operator removed it): no
     *                  new request goes to it, and {@code inFlight} is what is still outstanding. So
     *                  {@code removed && inFlight == 0} tells a drain it is over, which
     *                  {@code inFlight == 0} alone cannot: stats built before the balancer handled the
     *                  removal say {@code false}. Absent (JSON recorded before this field) reads as
     *                  {@code false}: {@code Nulls.AS_EMPTY}, since the codec refuses a missing primitive.
     * @param calibrating the balancer is measuring its capacity: it is kept saturated on purpose, so its
     *                  CPU is the measurement's, not the clients' load. Published at once when a
     *                  measurement starts and when it ends. Absent reads as {@code false}.
     */
    public record ServerStats(long sent, long answered, long timedOut, long wrong, int inFlight, boolean ejected,
                              @JsonSetter(nulls = Nulls.AS_EMPTY) boolean removed,
                              @JsonSetter(nulls = Nulls.AS_EMPTY) boolean calibrating) {
        /** Not being calibrated. */
        public ServerStats(long sent, long answered, long timedOut, long wrong, int inFlight, boolean ejected,
                           boolean removed) {
            this(sent, answered, timedOut, wrong, inFlight, ejected, removed, false);
        }

        public ServerStats {
            Fields.notNegative("sent", sent);
            Fields.notNegative("answered", answered);
            Fields.notNegative("timedOut", timedOut);
            Fields.notNegative("wrong", wrong);
            Fields.notNegative("inFlight", inFlight);
        }
    }

    /** Without a latency histogram, as before it was published. */
    public LbStats(long sent, long answered, long timedOut, long wrong, double throughput, double p50Ms, double p90Ms,
                   double p99Ms, Map<String, ServerStats> servers, String mode, long intervalMs, double capacity) {
        this(sent, answered, timedOut, wrong, throughput, p50Ms, p90Ms, p99Ms, servers, mode, intervalMs, capacity,
                java.util.List.of(), 0);
    }

    /** Without a capacity (0), as before it was published. */
    public LbStats(long sent, long answered, long timedOut, long wrong, double throughput, double p50Ms, double p90Ms,
                   double p99Ms, Map<String, ServerStats> servers, String mode, long intervalMs) {
        this(sent, answered, timedOut, wrong, throughput, p50Ms, p90Ms, p99Ms, servers, mode, intervalMs, 0);
    }

    public LbStats {
        group = group == null ? "" : group;
        Fields.notNegative("sent", sent);
        Fields.notNegative("answered", answered);
        Fields.notNegative("timedOut", timedOut);
        Fields.notNegative("wrong", wrong);
        Fields.finiteNotNegative("throughput", throughput);
        Fields.finiteNotNegative("p50Ms", p50Ms);
        Fields.finiteNotNegative("p90Ms", p90Ms);
        Fields.finiteNotNegative("p99Ms", p99Ms);
        servers = Fields.map("servers", servers);
        Fields.text("mode", mode);
        Fields.notNegative("intervalMs", intervalMs);
        Fields.finiteNotNegative("capacity", capacity);
        latencyBuckets = latencyBuckets == null ? java.util.List.of() : java.util.List.copyOf(latencyBuckets);
        if (!latencyBuckets.isEmpty() && latencyBuckets.size() != LATENCY_BOUNDS_SECONDS.size()) {
            throw new IllegalArgumentException("latencyBuckets has " + latencyBuckets.size() + " counts, not one per "
                    + "bound (" + LATENCY_BOUNDS_SECONDS.size() + ")");
        }
        for (int i = 0; i < latencyBuckets.size(); i++) {
            Fields.notNegative("latencyBuckets[" + i + "]", latencyBuckets.get(i));
            if (i > 0 && latencyBuckets.get(i) < latencyBuckets.get(i - 1)) {
                throw new IllegalArgumentException("latencyBuckets must not decrease: " + latencyBuckets);
            }
        }
        Fields.finiteNotNegative("latencySumSeconds", latencySumSeconds);
    }
}
