package io.vmscale.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.event.Endpoint;
import io.vmscale.guest.Wire;
import java.time.Duration;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.VmLifecycle;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Calibration at saturation against real guest servers on loopback (one worker each). */
class CalibrationTest extends BalancerOnGuests {
    private static final long WORK = 200_000;

    /** Requests per second one core does of {@code WORK}, in-process, no network: an upper bound for one worker. */
    private static double directCapacity() {
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 50; i++) {
            long t0 = System.nanoTime();
            Wire.work(WORK);
            best = Math.min(best, System.nanoTime() - t0);
        }
        return 1e9 / best;
    }

    private static Balancer.Settings uncalibrated(Duration slowStart) {
        return uncalibrated(slowStart, Duration.ofMillis(200));
    }

    private static Balancer.Settings uncalibrated(Duration slowStart, Duration statsInterval) {
        return new Balancer.Settings(WORK, 0, Map.of("low", 0.3, "mid", 0.5, "high", 0.85), new LoadMode("low", 0.3),
                "least-outstanding", 16, Duration.ofSeconds(2), 3, Duration.ofSeconds(2), statsInterval)
                .withSlowStart(slowStart);
    }

    @Test
    void theFirstReplicaIsMeasuredAtSaturationAndTheModesFollowTheEstimate() throws Exception {
        Endpoint first = guests.start();
        balancer = Balancer.start(uncalibrated(Duration.ZERO), e -> { }, List::of, "balancer@test");
        balancer.addServer(first);
        await().atMost(Duration.ofSeconds(30)).until(() -> balancer.calibrations() == 1);
        Calibration result = balancer.calibration();
        double direct = directCapacity();
        assertThat(result.replica()).isEqualTo(first);
        assertThat(result.capacityPerSecond()).as("%s against %.0f/s in-process", result, direct)
                .isBetween(direct * 0.4, direct * 1.1);
        assertThat(result.realPerSecond()).as("no load is offered before the first estimate").isZero();
        assertThat(balancer.capacity()).isEqualTo(result.capacityPerSecond());
        // at low, 30 % of one replica: the offered rate follows the estimate
        double one = balancer.capacity();
        await().atMost(Duration.ofSeconds(30)).until(() -> balancer.lastStats() != null
                && balancer.lastStats().sent() > 0.3 * one);
        assertThat(balancer.lastStats().throughput()).isBetween(0.15 * one, 0.45 * one);
        assertThat(balancer.totals().timedOut()).isZero();
    }

    /**
     * A replica added because the load is high serves real requests from the start: while it is
     * measured it takes every real request it has room for, and the calibration's own requests only
     * fill what is left (at 1.3 replicas' worth, hardly anything).
     */
    @Test
    void aReplicaThatJoinsUnderHighLoadServesItsShareOfRealTrafficWhileItIsMeasured() throws Exception {
        Endpoint first = guests.start();
        Endpoint second = guests.start();
        Duration slowStart = Duration.ofSeconds(1);
        balancer = Balancer.start(uncalibrated(slowStart), e -> { }, List::of, "balancer@test");
        balancer.addServer(first);
        await().atMost(Duration.ofSeconds(30)).until(() -> balancer.calibrations() == 1);
        double one = balancer.capacity();
        balancer.setMode(LoadMode.custom(1.3));
        await().atMost(Duration.ofSeconds(10)).until(() -> balancer.lastStats() != null
                && balancer.lastStats().throughput() > 0.8 * one);

        long added = System.nanoTime();
        balancer.addServer(second);
        await().atMost(Duration.ofSeconds(30)).until(() -> balancer.calibrations() == 2);
        double took = (System.nanoTime() - added) / 1e9;
        Calibration measured = balancer.calibration();
        assertThat(measured.replica()).isEqualTo(second);
        assertThat(took).as("measured after its slow start").isGreaterThan(
                (slowStart.plus(Calibrator.RAMP).plus(Calibrator.TIME).toMillis()) / 1000.0);
        assertThat(measured.realPerSecond()).as("%s; one replica %.0f/s", measured, one)
                .isGreaterThan(0.5 * measured.capacityPerSecond())
                .isGreaterThan(0.4 * one);
        assertThat(measured.capacityPerSecond()).as("%s; the first %.0f/s", measured, one)
                .isBetween(0.5 * one, 1.5 * one);
        assertThat(balancer.capacity()).as("the median of two: their mean")
                .isEqualTo((one + measured.capacityPerSecond()) / 2);
        assertThat(balancer.totals().timedOut()).isZero();
    }

    /**
     * The first replica is measured at once (no load is offered before a figure) but kept saturated until its slow
     * start is over before its answers count, so that a cold JVM is not what is measured. The measurement is
     * announced in {@code lb.stats} as it starts and as it ends (not at the next interval), so that the scaler
     * can leave its CPU out however long it lasts.
     */
    @Test
    void theFirstReplicaIsKeptSaturatedUntilItsSlowStartIsOverAndTheMeasurementIsAnnounced() throws Exception {
        Endpoint first = guests.start();
        Duration slowStart = Duration.ofSeconds(5);
        List<LbStats> published = new CopyOnWriteArrayList<>();
        balancer = Balancer.start(uncalibrated(slowStart, Duration.ofSeconds(20)), e -> {
            if (e instanceof LbStats stats) {
                published.add(stats);
            }
        }, List::of, "balancer@test");
        long added = System.nanoTime();
        balancer.addServer(first);
        await().atMost(Duration.ofSeconds(30)).until(() -> balancer.calibrations() == 1);
        double took = (System.nanoTime() - added) / 1e9;
        Calibration result = balancer.calibration();
        assertThat(result.replica()).isEqualTo(first);
        assertThat(took).as("counted after its slow start").isGreaterThan(
                (slowStart.plus(Calibrator.TIME).toMillis()) / 1000.0);
        assertThat(result.seconds()).as("counted for TIME only").isLessThan(Calibrator.TIME.toMillis() / 1000.0 + 0.5);
        // announced as it started and as it ended, well before the 20 s interval
        await().atMost(Duration.ofSeconds(5)).until(() -> published.size() >= 2
                && !calibrating(published.get(published.size() - 1), first));
        assertThat(published).extracting(s -> calibrating(s, first)).as("calibrating, then not").containsSubsequence(
                true, false);
        assertThat(took).isLessThan(20);
    }

    /**
     * A VM that boots or migrates takes CPU from the replica measured (a warm-pool boot made one read 69.6
     * requests/s where it had read 723): no measurement starts meanwhile, and one under way is abandoned and made
     * again once the lifecycle events say the VM is done.
     */
    @Test
    void noMeasurementWhileAnotherVmBootsAndOneUnderWayIsMadeAgainAfter() throws Exception {
        Endpoint first = guests.start();
        List<LbStats> published = new CopyOnWriteArrayList<>();
        balancer = Balancer.start(uncalibrated(Duration.ZERO), e -> {
            if (e instanceof LbStats stats) {
                published.add(stats);
            }
        }, List::of, "balancer@test");
        balancer.onLifecycle(new VmLifecycle("vmscale-0009", "qemu:///system", null, ReplicaState.WARMING, "pool"));
        balancer.addServer(first);
        Duration measurement = Calibrator.FIRST_RAMP.plus(Calibrator.TIME);
        await().during(measurement.plusSeconds(1)).atMost(measurement.plusSeconds(3))
                .until(() -> balancer.calibrations() == 0 && published.stream().noneMatch(s -> calibrating(s, first)));

        balancer.onLifecycle(new VmLifecycle("vmscale-0009", "qemu:///system", null, ReplicaState.POOLED, "paused"));
        await().atMost(Duration.ofSeconds(5)).until(() -> published.stream().anyMatch(s -> calibrating(s, first)));
        balancer.onLifecycle(new VmLifecycle("vmscale-0010", "qemu:///system", null, ReplicaState.STARTING, "boot"));
        await().atMost(Duration.ofSeconds(5)).until(() -> !calibrating(published.get(published.size() - 1), first));
        await().during(measurement.plusSeconds(1)).atMost(measurement.plusSeconds(3))
                .until(() -> balancer.calibrations() == 0);

        balancer.onLifecycle(new VmLifecycle("vmscale-0010", "qemu:///system", null, ReplicaState.FAILED, "gone"));
        await().atMost(Duration.ofSeconds(30)).until(() -> balancer.calibrations() == 1);
        assertThat(balancer.calibration().seconds()).as("a whole measurement").isGreaterThan(
                Calibrator.TIME.toMillis() / 1000.0 - 0.1);
    }

    private static boolean calibrating(LbStats stats, Endpoint replica) {
        LbStats.ServerStats server = stats.servers().get(replica.toString());
        return server != null && server.calibrating();
    }
}
