package io.vmscale.balancer;

import io.vmscale.broker.event.LbStats;
import java.time.Duration;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;

/**
 * The balancer's counts since start, the latency of the current interval (HdrHistogram's
 * {@link SingleWriterRecorder}, since only the balancer's thread records: no atomic counts per answer; each interval's histogram is taken and the next one starts empty), and when the
 * next {@code lb.stats} are due: every interval, and soon after a removal, since a drain waits for
 * the acknowledgement. Touched by the balancer's thread only.
 */
final class Stats {
    /** After a removal the next stats go out this soon after the last ones (at once if that is past). */
    static final Duration REMOVAL_STATS_GAP = Duration.ofMillis(50);
    private static final long HIGHEST_LATENCY = 60_000_000_000L;

    private final long intervalNanos;
    private final SingleWriterRecorder recorder = new SingleWriterRecorder(HIGHEST_LATENCY, 3);
    private Histogram interval;
    /** Every answer's latency since start (what {@link Balancer#latencySinceStart} copies for the bench). */
    final Histogram total = new Histogram(HIGHEST_LATENCY, 3);
    long sent;
    long answered;
    long timedOut;
    long wrong;
    long unsent;
    private long lastAt;
    private long nextAt;
    private long answeredAtLast;
    /** Answers within each of {@link LbStats#LATENCY_BOUNDS_SECONDS} since start, added up per interval. */
    private final long[] buckets = new long[LbStats.LATENCY_BOUNDS_SECONDS.size()];
    private double latencySumSeconds;

    Stats(Duration interval, long now) {
        this.intervalNanos = interval.toNanos();
        this.lastAt = now;
        this.nextAt = now + intervalNanos;
    }

    /** A correct answer after {@code latencyNanos}. */
    void answered(long latencyNanos) {
        answered++;
        long value = Math.max(0, Math.min(latencyNanos, HIGHEST_LATENCY));
        recorder.recordValue(value);
        total.recordValue(value);
    }

    /** Brings the next stats forward to shortly after the last ones: a replica was taken out, or a calibration started or ended. */
    void soon() {
        nextAt = Math.min(nextAt, lastAt + REMOVAL_STATS_GAP.toNanos());
    }

    /** How long until the next stats are due (0 or less: due). */
    long nanosUntilDue(long now) {
        return nextAt - now;
    }

    boolean due(long now) {
        return now - nextAt >= 0;
    }

    /** The stats of the interval that ends now; the next one starts. */
    LbStats interval(long now, Map<String, LbStats.ServerStats> perReplica, String mode, double capacity) {
        long nanos = now - lastAt;
        lastAt = now;
        nextAt = now + intervalNanos;
        interval = recorder.getIntervalHistogram(interval);
        long count = interval.getTotalCount();
        if (count > 0) { // once per interval, off the per-answer path
            for (int i = 0; i < buckets.length; i++) {
                double bound = LbStats.LATENCY_BOUNDS_SECONDS.get(i);
                buckets[i] += Double.isInfinite(bound) ? count
                        : interval.getCountBetweenValues(0, (long) (bound * 1e9));
            }
            latencySumSeconds += interval.getMean() * count / 1e9;
        }
        double seconds = Math.max(1e-9, nanos / 1e9);
        LbStats stats = new LbStats(sent, answered, timedOut, wrong, (answered - answeredAtLast) / seconds,
                percentile(50), percentile(90), percentile(99), perReplica, mode, nanos / 1_000_000, capacity,
                java.util.Arrays.stream(buckets).boxed().toList(), latencySumSeconds);
        answeredAtLast = answered;
        return stats;
    }

    private double percentile(double p) {
        return interval.getTotalCount() == 0 ? 0 : interval.getValueAtPercentile(p) / 1e6;
    }

    Balancer.Totals totals() {
        return new Balancer.Totals(sent, answered, timedOut, wrong, unsent);
    }
}
