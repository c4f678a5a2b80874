package io.vmscale.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.event.Endpoint;
import io.vmscale.guest.GuestServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Calibration against a real guest server on loopback. */
class CalibrationTest {

    @Test
    void theEstimateMatchesTheCostOfTheWorkMeasuredDirectly() throws Exception {
        try (GuestServer server = GuestServer.start(GuestServer.Options.defaults(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)));
             java.net.DatagramSocket client = new java.net.DatagramSocket()) {
            Endpoint endpoint = new Endpoint("127.0.0.1", server.address().getPort());
            // a small work, estimated from larger ones scaled down (it is linear in n)
            Calibration.Result estimate = Calibration.measure(endpoint, 200_000, 1, 15, Duration.ofSeconds(5));
            // the same work in-process, with no network at all: what a request of it costs the CPU
            long best = Long.MAX_VALUE;
            for (int i = 0; i < 50; i++) {
                long t0 = System.nanoTime();
                io.vmscale.guest.Wire.work(200_000);
                best = Math.min(best, System.nanoTime() - t0);
            }
            double direct = best / 1e6;
            assertThat(estimate.serviceMillis()).as("estimate %.4f ms, direct %.4f ms", estimate.serviceMillis(), direct)
                    .isBetween(direct * 0.5, direct * 2.0);
            assertThat(estimate.capacityPerSecond()).isCloseTo(1000 / estimate.serviceMillis(),
                    org.assertj.core.data.Percentage.withPercentage(0.01));
        }
    }

    @Test
    void aBalancerWithoutACapacityCalibratesOnTheFirstReplicaAndScalesTheModesByIt() throws Exception {
        try (GuestServer server = GuestServer.start(GuestServer.Options.defaults(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)))) {
            Balancer.Settings settings = new Balancer.Settings(1_000_000, 0, Map.of("low", 0.3, "mid", 0.5, "high", 0.85),
                    new LoadMode("low", 0.3), "round-robin", 8, Duration.ofSeconds(1), 3, Duration.ofSeconds(2),
                    Duration.ofMillis(500));
            try (Balancer balancer = Balancer.start(settings, e -> { }, List::of, "balancer@test")) {
                balancer.addServer(new Endpoint("127.0.0.1", server.address().getPort()));
                await().atMost(Duration.ofSeconds(30)).until(() -> balancer.calibration() != null);
                double capacity = balancer.calibration().capacityPerSecond();
                assertThat(capacity).isPositive();
                // at low, 30 % of one replica: the offered rate follows the calibrated capacity
                await().atMost(Duration.ofSeconds(30)).until(() -> balancer.lastStats() != null
                        && balancer.lastStats().sent() > 0.3 * capacity);
                assertThat(balancer.lastStats().throughput()).isBetween(0.15 * capacity, 0.45 * capacity);
            }
        }
    }
}
