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
    void theServiceTimeGrowsWithTheWork() throws Exception {
        try (GuestServer server = GuestServer.start(GuestServer.Options.defaults(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)))) {
            Endpoint endpoint = new Endpoint("127.0.0.1", server.address().getPort());
            Calibration.Result small = Calibration.measure(endpoint, 500_000, 1, 15, Duration.ofSeconds(5));
            Calibration.Result large = Calibration.measure(endpoint, 5_000_000, 1, 15, Duration.ofSeconds(5));
            double ratio = large.serviceMillis() / small.serviceMillis();
            // the work is linear in n: ten times n, about ten times the service time
            assertThat(ratio).as("service time ratio %.3f / %.3f", large.serviceMillis(), small.serviceMillis())
                    .isBetween(5.0, 20.0);
            assertThat(small.capacityPerSecond()).isCloseTo(1000 / small.serviceMillis(),
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
