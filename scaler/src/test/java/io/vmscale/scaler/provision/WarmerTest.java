package io.vmscale.scaler.provision;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.vmscale.broker.event.Endpoint;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** An application's HTTP warm-up against a real HTTP server on loopback. */
class WarmerTest {
    @Test
    void asksThePathTheGivenNumberOfTimesAndCountsOnlyTwoHundreds() throws Exception {
        AtomicInteger n = new AtomicInteger();
        List<String> asked = new CopyOnWriteArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/", exchange -> {
            asked.add(exchange.getRequestURI().toString());
            int status = n.incrementAndGet() % 4 == 0 ? 503 : 200; // every fourth fails
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        server.start();
        try {
            Endpoint at = new Endpoint("127.0.0.1", server.getAddress().getPort());
            Warmer.Result result = Warmer.warmHttp(at, "/work?n=5", 8, Duration.ofSeconds(20), () -> true);
            assertThat(asked).hasSize(8).containsOnly("/work?n=5");
            assertThat(result.asked()).isEqualTo(8);
            assertThat(result.answered()).isEqualTo(6);
            assertThat(result.toString()).startsWith("6 of 8 GET /work?n=5 answered in ");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void nobodyListeningIsNoAnswerNotAnError() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Warmer.Result result = Warmer.warmHttp(new Endpoint("127.0.0.1", port), "/", 3, Duration.ofSeconds(20),
                () -> true);
        assertThat(result.asked()).isEqualTo(3);
        assertThat(result.answered()).isZero();
    }

    @Test
    void stopsWhenToldTo() throws Exception {
        AtomicInteger left = new AtomicInteger(2);
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Warmer.Result result = Warmer.warmHttp(new Endpoint("127.0.0.1", port), "/", 100, Duration.ofSeconds(20),
                () -> left.getAndDecrement() > 0);
        assertThat(result.asked()).isEqualTo(2);
    }
}
