package io.vmscale.scaler;

import io.vmscale.broker.event.LbStats;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The balancer measures each new replica's capacity by keeping it saturated for a few seconds, and marks
 * it {@code calibrating} in {@code lb.stats} as the measurement starts and again as it ends. That CPU is
 * the measurement's, not the clients' load: a sample that covers any of it (its interval ends after the
 * mark was seen and begins before the mark was lifted) is not load. Used alike by the live scaler and
 * {@link Simulation}, so that they cannot drift. Pure: times are the events' own.
 */
final class CalibrationMarks {
    /** Domain: when the balancer's stats first marked it calibrating, while they still do. */
    private final Map<String, Instant> since = new HashMap<>();
    /** Domain: when the stats last lifted its mark. */
    private final Map<String, Instant> until = new HashMap<>();

    /**
     * The balancer's stats of {@code at}.
     *
     * @param domainAt the domain serving at an endpoint ({@code ip:port}), or null when none is known
     */
    void stats(Instant at, LbStats stats, Function<String, String> domainAt) {
        Map<String, Boolean> marked = new HashMap<>();
        stats.servers().forEach((endpoint, server) -> {
            String domain = domainAt.apply(endpoint);
            if (domain != null) {
                marked.merge(domain, server.calibrating() && !server.removed(), Boolean::logicalOr);
            }
        });
        marked.forEach((domain, calibrating) -> {
            if (calibrating) {
                since.putIfAbsent(domain, at);
            }
        });
        since.keySet().removeIf(domain -> {
            if (marked.getOrDefault(domain, false)) {
                return false;
            }
            until.put(domain, at); // lifted, or no longer listed
            return true;
        });
    }

    /** The sample of the domain's CPU over the {@code intervalMs} that ended at {@code at} is load. */
    boolean isLoad(String domain, Instant at, long intervalMs) {
        if (since.containsKey(domain)) {
            return false;
        }
        Instant lifted = until.get(domain);
        return lifted == null || !at.minusMillis(intervalMs).isBefore(lifted);
    }

    /** Being measured now. */
    boolean calibrating(String domain) {
        return since.containsKey(domain);
    }

    /** Some replica is being measured now. */
    boolean any() {
        return !since.isEmpty();
    }

    /** A domain gone for good: nothing kept of it. */
    void forget(String domain) {
        since.remove(domain);
        until.remove(domain);
    }
}
