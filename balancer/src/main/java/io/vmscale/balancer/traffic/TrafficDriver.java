package io.vmscale.balancer.traffic;

import io.vmscale.broker.event.Endpoint;
import java.util.Map;

/**
 * Whatever carries the application's traffic (HAProxy, a DNS record, keepalived, a webhook), made to match the
 * group's replicas as the lifecycle events tell them. Called on one thread only (the {@link TrafficService}'s).
 */
public interface TrafficDriver extends AutoCloseable {

    /**
     * A replica that takes traffic, or finishes what it has.
     *
     * @param draining DRAINING: it keeps its sessions and gets no new ones
     */
    record Target(String domain, Endpoint endpoint, boolean draining) {
    }

    /** What a driver knows of one replica's traffic, for the stats and a drain's acknowledgement. */
    record Seen(long sessions, int inFlight, boolean drained) {
    }

    /** Its name in logs and the configuration: {@code haproxy}, {@code exec}. */
    String name();

    /**
     * Makes what carries traffic serve exactly these replicas (READY ones take new requests, draining ones finish
     * theirs): adds what is missing, drains, changes an address that moved.
     *
     * @param removable     whether what carries traffic to a replica of the group that is not among the targets may
     *                      be removed (the service knows: one an event said stopped serving, any the scaler does not
     *                      list once its listing was applied, never one it lists as starting)
     * @throws RuntimeException when it cannot be reached or refuses; the next sync tries again
     */
    void sync(Map<String, Target> targets, java.util.function.Predicate<String> removable);

    /** Per replica it carries traffic to: sessions so far, requests in progress, and whether a drain is over. */
    Map<String, Seen> seen();

    @Override
    default void close() {
    }

    /** The group's domain names: {@code PREFIX-} and digits. */
    static java.util.function.Predicate<String> names(String prefix) {
        return java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(prefix) + "-\\d+").asMatchPredicate();
    }

    /** The driver the configuration names (not the built-in balancer: that one is not a driver). */
    static TrafficDriver of(TrafficConfig config, String prefix) {
        return switch (config.driver()) {
            case "haproxy" -> new HaproxyDriver(new HaproxyRuntime(java.nio.file.Path.of(config.haproxySocket())),
                    config.haproxyBackend(), config.haproxyServerOptions(), names(prefix));
            case "exec" -> new ExecDriver(new io.vmscale.hook.ExecHook(java.nio.file.Path.of(config.exec()),
                    java.time.Duration.ofMillis(config.execTimeoutMs())), prefix);
            default -> throw new IllegalArgumentException("traffic.driver " + config.driver() + " is not a driver");
        };
    }
}
