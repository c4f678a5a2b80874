package io.vmscale.scaler.health;

import io.vmscale.broker.event.Endpoint;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.time.Instant;

/** {@code GET path} on the replica's port answers a status in the healthy range; the body is read and dropped. */
final class HttpCheck implements HealthCheck {
    private final String path;
    private final int statusMin;
    private final int statusMax;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER).build();

    HttpCheck(String path, int statusMin, int statusMax) {
        this.path = path;
        this.statusMin = statusMin;
        this.statusMax = statusMax;
    }

    @Override
    public Result check(Endpoint target, Duration timeout) {
        long t0 = System.nanoTime();
        String host = target.ip().contains(":") ? "[" + target.ip() + "]" : target.ip();
        try {
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + host + ":" + target.port() + path))
                    .timeout(timeout).header("User-Agent", "vmscale-health-check").GET().build();
            HttpResponse<Void> response = client.send(request, HttpResponse.BodyHandlers.discarding());
            int status = response.statusCode();
            boolean passed = status >= statusMin && status <= statusMax;
            return new Result(passed, "HTTP " + status + (passed ? "" : " (healthy: " + statusMin + "-" + statusMax + ")"),
                    HealthCheck.since(t0), Instant.now());
        } catch (HttpTimeoutException e) {
            return new Result(false, "no answer to GET " + path + " in " + timeout.toMillis() + " ms",
                    HealthCheck.since(t0), Instant.now());
        } catch (ConnectException e) {
            return new Result(false, "connection refused", HealthCheck.since(t0), Instant.now());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(false, "interrupted", HealthCheck.since(t0), Instant.now());
        } catch (IOException e) {
            String message = String.valueOf(e.getMessage());
            return new Result(false, message.contains("received no bytes") ? "the connection closed without an answer"
                    : "no HTTP answer: " + message, HealthCheck.since(t0), Instant.now());
        } catch (RuntimeException e) {
            return new Result(false, e.getClass().getSimpleName() + ": " + e.getMessage(), HealthCheck.since(t0),
                    Instant.now());
        }
    }
}
