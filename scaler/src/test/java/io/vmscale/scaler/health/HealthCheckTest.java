package io.vmscale.scaler.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.config.InvalidValueException;
import io.vmscale.guest.GuestServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Each check against real servers on loopback: what passes, what fails, and the words it says. */
class HealthCheckTest {
    private static final Duration TIMEOUT = Duration.ofMillis(500);

    private static HealthCheckConfig http(int min, int max) {
        return new HealthCheckConfig("http", "/healthz", min, max, 1000, 500, 1, 3, 0);
    }

    /** A port nobody listens on (bound, then closed). */
    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void httpPassesOnAStatusInTheRangeAndSaysWhichStatusFailed() throws Exception {
        AtomicInteger status = new AtomicInteger(200);
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/healthz", exchange -> {
            exchange.sendResponseHeaders(status.get(), -1);
            exchange.close();
        });
        server.start();
        try {
            Endpoint endpoint = new Endpoint("127.0.0.1", server.getAddress().getPort());
            HealthCheck check = HealthCheck.of(http(200, 299));
            assertThat(check.check(endpoint, TIMEOUT)).satisfies(r -> {
                assertThat(r.passed()).isTrue();
                assertThat(r.detail()).isEqualTo("HTTP 200");
            });
            status.set(503);
            assertThat(check.check(endpoint, TIMEOUT)).satisfies(r -> {
                assertThat(r.passed()).isFalse();
                assertThat(r.detail()).isEqualTo("HTTP 503 (healthy: 200-299)");
            });
            status.set(302);
            assertThat(check.check(endpoint, TIMEOUT).passed()).as("a redirect is not followed: 302 is outside 200-299")
                    .isFalse();
            assertThat(HealthCheck.of(http(200, 399)).check(endpoint, TIMEOUT).passed()).isTrue();
        } finally {
            server.stop(0);
        }
    }

    @Test
    void httpThatDoesNotAnswerInTimeFailsWithTheTimeout() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/healthz", exchange -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.close();
        });
        server.start();
        try {
            HealthCheck.Result r = HealthCheck.of(http(200, 399)).check(new Endpoint("127.0.0.1",
                    server.getAddress().getPort()), Duration.ofMillis(200));
            assertThat(r.passed()).isFalse();
            assertThat(r.detail()).isEqualTo("no answer to GET /healthz in 200 ms");
            assertThat(r.millis()).isBetween(200L, 2_000L);
        } finally {
            release.countDown();
            server.stop(0);
        }
    }

    @Test
    void tcpPassesOnAnAcceptedConnectionAndFailsOnARefusedOne() throws Exception {
        HealthCheck tcp = HealthCheck.of(new HealthCheckConfig("tcp", "/", 200, 399, 1000, 500, 1, 3, 0));
        try (ServerSocket listening = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            assertThat(tcp.check(new Endpoint("127.0.0.1", listening.getLocalPort()), TIMEOUT).detail())
                    .isEqualTo("connected");
        }
        HealthCheck.Result refused = tcp.check(new Endpoint("127.0.0.1", closedPort()), TIMEOUT);
        assertThat(refused.passed()).isFalse();
        assertThat(refused.detail()).isEqualTo("connection refused");
        assertThat(HealthCheck.of(http(200, 399)).check(new Endpoint("127.0.0.1", closedPort()), TIMEOUT).detail())
                .isEqualTo("connection refused");
    }

    @Test
    void udpWirePassesOnTheRightAnswerOnlyAndAsksAgainWithinItsTimeout() throws Exception {
        HealthCheck udp = HealthCheck.of(HealthCheckConfig.UDP_WIRE);
        try (GuestServer guest = GuestServer.start(GuestServer.Options.defaults(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)))) {
            HealthCheck.Result r = udp.check(new Endpoint("127.0.0.1", guest.address().getPort()), TIMEOUT, Duration.ofMillis(50));
            assertThat(r.passed()).isTrue();
            assertThat(r.detail()).isEqualTo("answered correctly");
        }
        HealthCheck.Result silent = udp.check(new Endpoint("127.0.0.1", closedPort()), Duration.ofMillis(200),
                Duration.ofMillis(50));
        assertThat(silent.passed()).isFalse();
        assertThat(silent.millis()).isGreaterThanOrEqualTo(200);
    }

    @Test
    void aBadSettingNamesItsKey() {
        assertThatThrownBy(() -> new HealthCheckConfig("icmp", "/", 200, 399, 1000, 500, 1, 3, 0))
                .isInstanceOf(InvalidValueException.class).hasMessage("key 'type': expected one of udp-wire, tcp, http, "
                        + "got \"icmp\"");
        assertThatThrownBy(() -> new HealthCheckConfig("http", "healthz", 200, 399, 1000, 500, 1, 3, 0))
                .hasMessage("key 'path': expected a path starting with /, got \"healthz\"");
        assertThatThrownBy(() -> new HealthCheckConfig("http", "/", 200, 399, 1000, 1500, 1, 3, 0))
                .hasMessage("key 'timeoutMs': expected an integer from 10 to 1000, got 1500");
        assertThatThrownBy(() -> new HealthCheckConfig("http", "/", 400, 300, 1000, 500, 1, 3, 0))
                .hasMessage("key 'statusMax': expected an integer from 400 to 599, got 300");
    }
}
