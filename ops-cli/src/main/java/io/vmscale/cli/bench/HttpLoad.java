package io.vmscale.cli.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Recorder;

/**
 * HTTP load at a set rate (an open loop: requests go out on schedule whether or not earlier ones were answered),
 * at most {@code maxInFlight} outstanding; a request due while that many are out is not sent and counted apart
 * (load shed, not lost). Every request sent ends as answered 2xx, answered with another status, or failed (no
 * connection, reset, timeout). Bounded: it stops at {@code atMost} on its own.
 */
public final class HttpLoad implements AutoCloseable {
    private static final long TICK_MS = 10;

    private final URI target;
    private final int maxInFlight;
    private final HttpClient client;
    private final ScheduledExecutorService ticker;
    private final long endNanos;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong ok = new AtomicLong();
    private final AtomicLong non2xx = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong unsent = new AtomicLong();
    private final Recorder latency = new Recorder(3);
    private volatile double rate;
    private double due;
    private volatile String lastFailure = "";

    /** Totals so far; latencies in milliseconds over everything answered. */
    public record Totals(long sent, long ok, long non2xx, long failed, long unsent, double p50Ms, double p99Ms,
                         String lastFailure) {
    }

    public HttpLoad(URI target, int maxInFlight, Duration atMost) {
        this.target = target;
        this.maxInFlight = maxInFlight;
        this.client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
                .executor(Executors.newFixedThreadPool(4, r -> {
                    Thread t = new Thread(r, "http-load");
                    t.setDaemon(true);
                    return t;
                })).build();
        this.endNanos = System.nanoTime() + atMost.toNanos();
        this.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "http-load-ticker");
            t.setDaemon(true);
            return t;
        });
        ticker.scheduleAtFixedRate(this::tick, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS);
    }

    /** Requests per second from now on; 0: none. */
    public void rate(double perSecond) {
        rate = perSecond;
    }

    private org.HdrHistogram.Histogram all;

    private void tick() {
        if (System.nanoTime() > endNanos) {
            rate = 0;
        }
        due += rate * TICK_MS / 1000.0;
        while (due >= 1) {
            due -= 1;
            if (inFlight.get() >= maxInFlight) {
                unsent.incrementAndGet();
                continue;
            }
            send();
        }
    }

    private void send() {
        inFlight.incrementAndGet();
        sent.incrementAndGet();
        long t0 = System.nanoTime();
        client.sendAsync(HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.discarding()).whenComplete((response, error) -> {
                    inFlight.decrementAndGet();
                    if (error != null) {
                        failed.incrementAndGet();
                        lastFailure = (error.getCause() != null ? error.getCause() : error) + " (sent at "
                                + java.time.Instant.now().minusNanos(System.nanoTime() - t0) + ")";
                        return;
                    }
                    latency.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
                    (response.statusCode() / 100 == 2 ? ok : non2xx).incrementAndGet();
                    if (response.statusCode() / 100 != 2) {
                        lastFailure = "HTTP " + response.statusCode() + " (sent at "
                                + java.time.Instant.now().minusNanos(System.nanoTime() - t0) + ")";
                    }
                });
    }

    /** Requests still out. */
    public int inFlight() {
        return inFlight.get();
    }

    public synchronized Totals totals() {
        org.HdrHistogram.Histogram interval = latency.getIntervalHistogram();
        if (all == null) {
            all = interval.copy();
        } else {
            all.add(interval);
        }
        return new Totals(sent.get(), ok.get(), non2xx.get(), failed.get(), unsent.get(),
                all.getTotalCount() == 0 ? 0 : all.getValueAtPercentile(50) / 1000.0,
                all.getTotalCount() == 0 ? 0 : all.getValueAtPercentile(99) / 1000.0, lastFailure);
    }

    @Override
    public void close() {
        rate = 0;
        ticker.shutdownNow();
    }
}
