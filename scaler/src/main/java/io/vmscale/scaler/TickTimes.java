package io.vmscale.scaler;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * How long the reconciler's ticks take: wall time and the loop thread's CPU time of each, kept in HdrHistogram
 * recorders so that a reader takes the ticks since its last look without stopping the loop.
 */
final class TickTimes {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private final Recorder wall = new Recorder(3);
    private final Recorder cpu = new Recorder(3);
    private long wall0;
    private long cpu0;

    /** A tick begins (loop thread). */
    void begin() {
        wall0 = System.nanoTime();
        cpu0 = THREADS.getCurrentThreadCpuTime();
    }

    /** It ended (loop thread). */
    void end() {
        wall.recordValue(Math.max(0, System.nanoTime() - wall0));
        cpu.recordValue(Math.max(0, THREADS.getCurrentThreadCpuTime() - cpu0));
    }

    /** The ticks since the last call (any thread). */
    Scaler.Ticks take() {
        Histogram w = wall.getIntervalHistogram();
        Histogram c = cpu.getIntervalHistogram();
        return new Scaler.Ticks(w.getTotalCount(), w.getValueAtPercentile(50), w.getValueAtPercentile(99),
                w.getMaxValue(), c.getValueAtPercentile(50), c.getValueAtPercentile(99));
    }
}
