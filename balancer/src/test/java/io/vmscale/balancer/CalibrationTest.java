package io.vmscale.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.LbStats;
import io.vmscale.guest.Wire;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Calibration at saturation against real guest servers on loopback (one worker each). */
class CalibrationTest {
    private static final long WORK = 200_000;
    private final Guests guests = new Guests();
    private Balancer balancer;

    @AfterEach
    void stop() {
        if (balancer != null) {
            balancer.close();
        }
        guests.close();
    }

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

    @Test
    void theCapacityAtSaturationIsWhatOneWorkerCanDo() throws Exception {
        Endpoint replica = guests.start();
        Calibration.Result result = Calibration.measure(replica, WORK, Duration.ofSeconds(2), Calibration.WINDOW,
                Duration.ofSeconds(5), () -> 0);
        double direct = directCapacity();
        assertThat(result.capacityPerSecond()).as("%s against %.0f/s in-process", result, direct)
                .isBetween(direct * 0.4, direct * 1.1);
        assertThat(result.othersPerSecond()).isZero();
        assertThat(result.ownPerSecond()).isEqualTo(result.capacityPerSecond());
    }

    @Test
    void aReplicaServingTheBalancerMeasuresAboutTheSameItsOwnPlusTheBalancersAnswers() throws Exception {
        Endpoint replica = guests.start();
        Calibration.Result idle = Calibration.measure(replica, WORK, Duration.ofSeconds(2), Calibration.WINDOW,
                Duration.ofSeconds(5), () -> 0);
        // the balancer keeps half of that going to it while it is measured again
        balancer = Balancer.start(new Balancer.Settings(WORK, idle.capacityPerSecond(),
                Map.of("low", 0.3, "mid", 0.5, "high", 0.85), new LoadMode("mid", 0.5), "round-robin", 16,
                Duration.ofSeconds(2), 3, Duration.ofSeconds(5), Duration.ofMillis(100)), e -> { }, List::of,
                "balancer@test");
        balancer.addServer(replica);
        await().atMost(Duration.ofSeconds(10)).until(() -> balancer.totals().answered() > idle.capacityPerSecond() / 4);
        Calibration.Result busy = Calibration.measure(replica, WORK, Duration.ofSeconds(2), Calibration.WINDOW,
                Duration.ofSeconds(5), () -> {
                    LbStats s = balancer.lastStats();
                    return s == null ? 0 : s.servers().get(replica.toString()).answered();
                });
        assertThat(busy.othersPerSecond()).as("%s", busy).isPositive();
        assertThat(busy.ownPerSecond()).as("%s; idle %s", busy, idle).isLessThan(idle.capacityPerSecond() * 0.9);
        assertThat(busy.capacityPerSecond()).as("%s; idle %s", busy, idle)
                .isBetween(idle.capacityPerSecond() * 0.7, idle.capacityPerSecond() * 1.3);
    }

    @Test
    void aBalancerWithoutACapacityCalibratesEveryNewReplicaBlendsThemAndScalesTheModesByIt() throws Exception {
        Endpoint first = guests.start();
        Endpoint second = guests.start();
        Balancer.Settings settings = new Balancer.Settings(WORK, 0, Map.of("low", 0.3, "mid", 0.5, "high", 0.85),
                new LoadMode("low", 0.3), "round-robin", 16, Duration.ofSeconds(1), 3, Duration.ofSeconds(2),
                Duration.ofMillis(500));
        balancer = Balancer.start(settings, e -> { }, List::of, "balancer@test");
        balancer.addServer(first);
        await().atMost(Duration.ofSeconds(30)).until(() -> balancer.calibrations() == 1);
        double one = balancer.capacity();
        assertThat(one).isEqualTo(balancer.calibration().capacityPerSecond()).isPositive();
        assertThat(balancer.calibration().replica()).isEqualTo(first);
        // at low, 30 % of one replica: the offered rate follows the calibrated capacity
        await().atMost(Duration.ofSeconds(30)).until(() -> balancer.lastStats() != null
                && balancer.lastStats().sent() > 0.3 * one);
        assertThat(balancer.lastStats().throughput()).isBetween(0.15 * one, 0.45 * one);

        balancer.addServer(second); // measured in the background, while the first one serves
        await().atMost(Duration.ofSeconds(30)).until(() -> balancer.calibrations() == 2);
        double other = balancer.calibration().capacityPerSecond();
        assertThat(balancer.calibration().replica()).isEqualTo(second);
        assertThat(balancer.capacity()).as("the median of two: their mean").isEqualTo((one + other) / 2);
        assertThat(balancer.totals().timedOut()).isZero();
    }
}
