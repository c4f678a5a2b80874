package io.vmscale.scaler;

import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.scaler.health.HealthCheck;
import io.vmscale.scaler.health.HealthState;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps checking the READY replicas like a load balancer's target group: every {@code intervalMs} each is checked
 * on threads of its own (a slow check never holds the loop); {@code unhealthyThreshold} failures in a row make it
 * FAILED with the check's reason (the balancer takes it out at that event) and it is replaced.
 */
final class HealthWatch implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HealthWatch.class);
    private static final int THREADS = 4;

    private final Loop loop;
    private final ReplicaActions actions;
    private final ExecutorService checks;
    /** Replicas with a check under way (loop thread adds, check threads remove). */
    private final Set<String> checking = ConcurrentHashMap.newKeySet();
    /** When each replica was last checked (loop thread). */
    private final Map<String, Instant> lastChecked = new HashMap<>();

    HealthWatch(Loop loop, ReplicaActions actions) {
        this.loop = loop;
        this.actions = actions;
        AtomicInteger n = new AtomicInteger();
        this.checks = Executors.newFixedThreadPool(THREADS, r -> Loop.daemon(r, "scaler-health-" + n.incrementAndGet()));
    }

    /** On the loop thread, each tick: starts the checks that are due. */
    void step(Instant now) {
        lastChecked.keySet().removeIf(domain -> loop.fleet.get(domain).filter(m -> m.state() == ReplicaState.READY)
                .isEmpty());
        for (Fleet.Member member : loop.fleet.in(ReplicaState.READY)) {
            String domain = member.domain();
            if (member.endpoint() == null || loop.busy.contains(domain) || checking.contains(domain)) {
                continue;
            }
            Instant last = lastChecked.get(domain);
            if (last == null) {
                lastChecked.put(domain, now); // READY just now: it passed a check to get there
                continue;
            }
            if (last.plus(loop.settings.health().interval()).isAfter(now)) {
                continue;
            }
            lastChecked.put(domain, now);
            checking.add(domain);
            Endpoint endpoint = member.endpoint();
            try {
                checks.execute(() -> {
                    HealthCheck.Result result;
                    try {
                        result = loop.check.check(endpoint, loop.settings.health().timeout());
                    } finally {
                        checking.remove(domain);
                    }
                    loop.submit(() -> fold(domain, endpoint, result));
                });
            } catch (RejectedExecutionException e) {
                checking.remove(domain); // closing
            }
        }
    }

    /** On the loop thread: one result of a replica that may have moved on meanwhile. */
    private void fold(String domain, Endpoint endpoint, HealthCheck.Result result) {
        Fleet.Member member = loop.fleet.get(domain).filter(m -> m.state() == ReplicaState.READY
                && endpoint.equals(m.endpoint())).orElse(null);
        if (member == null) {
            return; // draining, failed, moved: this result is of another life
        }
        HealthState state = loop.health.computeIfAbsent(domain, d -> new HealthState(loop.settings.health(),
                member.since(), true));
        int failuresBefore = state.failures();
        HealthState.Transition transition = state.record(result);
        if (transition == HealthState.Transition.UNHEALTHY) {
            log.warn("scaler: {} {}", domain, state.reason());
            actions.fail(member, state.reason(), loop.now());
        } else if (!result.passed()) {
            log.info("scaler: {} failed a health check ({} of {} in a row{}): {}", domain, state.failures(),
                    loop.settings.health().unhealthyThreshold(), state.inGrace(result.at()) ? ", in its grace period" : "",
                    result.detail());
        } else if (failuresBefore > 0) {
            log.info("scaler: {} passed its health check again after {} failure(s)", domain, failuresBefore);
        }
    }

    /** The last check of a replica in words, or null when it has none. */
    String describe(String domain) {
        HealthState state = loop.health.get(domain);
        return state == null ? null : state.describe();
    }

    @Override
    public void close() {
        checks.shutdownNow();
    }
}
