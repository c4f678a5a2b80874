package io.vmscale.balancer;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Subscription;
import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.Topic;
import io.vmscale.broker.event.VmLifecycle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replicas as the scaler, which decides what serves, lists them: its answer to {@code status} on a reply
 * address of our own. What a traffic component (the built-in balancer, a membership driver) starts from and comes
 * back to after the broker was away, since events published meanwhile were not heard.
 */
public final class ScalerListing implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ScalerListing.class);

    private final BrokerConnection connection;
    private final String group;
    private final String replyTo;
    private final Map<String, CompletableFuture<AdminResult>> asked = new ConcurrentHashMap<>();
    private final Subscription answers;

    /** @param who names the reply address ({@code vmscale.reply.WHO-uuid}) */
    public ScalerListing(BrokerConnection connection, String who) {
        this(connection, who, "");
    }

    /** @param group the group whose scaler is asked (its prefix; empty: the first) */
    public ScalerListing(BrokerConnection connection, String who, String group) {
        this.connection = connection;
        this.group = group;
        this.replyTo = Topic.REPLY_PREFIX + who + "-" + UUID.randomUUID();
        this.answers = connection.subscribe(replyTo, AdminResult.class, e -> {
            CompletableFuture<AdminResult> waiting = asked.remove(e.body().requestId());
            if (waiting != null) {
                waiting.complete(e.body());
            }
        });
    }

    /** The scaler's answer to {@code status}, within {@code wait}. */
    public AdminResult status(String idPrefix, Duration wait)
            throws TimeoutException, ExecutionException, InterruptedException {
        String id = idPrefix + UUID.randomUUID();
        CompletableFuture<AdminResult> answer = new CompletableFuture<>();
        asked.put(id, answer);
        try {
            connection.publish(new AdminCommand(id, replyTo, "scaler", "status", List.of(), group));
            return answer.get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } finally {
            asked.remove(id);
        }
    }

    /** What to do with a usable listing: {@code mark} is what {@code before} gave just before the question. */
    @FunctionalInterface
    public interface Apply {
        void apply(long mark, AdminResult status, List<VmLifecycle> listing);
    }

    /**
     * Asks the scaler for its replicas until a usable listing comes (at most {@code tries}, each waited for
     * {@code wait}) or {@code closed} says stop, and applies it; each failed try and the giving up are logged under
     * {@code who}, with what the traffic is left with then. Returns whether a listing was applied.
     */
    public boolean resync(String who, int tries, Duration wait, java.util.function.BooleanSupplier closed,
                          java.util.function.LongSupplier before, Apply apply, String withoutIt) {
        for (int i = 1; i <= tries && !closed.getAsBoolean(); i++) {
            long mark = before.getAsLong();
            try {
                AdminResult status = status(who + "-resync-", wait);
                apply.apply(mark, status, listing(status));
                return true;
            } catch (TimeoutException | ExecutionException | io.vmscale.broker.BrokerException
                     | IllegalArgumentException e) {
                log.info("{}: no usable status from the scaler yet (try {} of {}): {}", who, i, tries, e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        if (!closed.getAsBoolean()) {
            log.warn("{}: no scaler answered status; {}", who, withoutIt);
        }
        return false;
    }

    /** The replicas of a scaler's {@code status}: {@code data.replicas}, each with domain, state and endpoint. */
    public static List<VmLifecycle> listing(AdminResult status) {
        if (!status.ok() || !(status.data().get("replicas") instanceof List<?> replicas)) {
            throw new IllegalArgumentException("a status without its replicas: " + shorten(status.message()));
        }
        if (status.data().get("scaler") instanceof Map<?, ?> scaler && scaler.containsKey("wanted")
                && scaler.get("wanted") == null) {
            throw new IllegalArgumentException("the scaler has not looked at libvirt yet: its listing would be empty");
        }
        List<VmLifecycle> listing = new ArrayList<>();
        for (Object item : replicas) {
            if (!(item instanceof Map<?, ?> replica) || !(replica.get("domain") instanceof String domain)) {
                throw new IllegalArgumentException("a replica without its domain in the scaler's status: " + item);
            }
            ReplicaState state = ReplicaState.DEFINED; // changes nothing: for a state not known here
            try {
                state = ReplicaState.valueOf(String.valueOf(replica.get("state")));
            } catch (IllegalArgumentException e) {
                log.debug("{} listed in a state not known here: {}", domain, replica.get("state"));
            }
            Endpoint endpoint = replica.get("endpoint") instanceof String text ? endpoint(text) : null;
            listing.add(new VmLifecycle(domain, status.responder(), endpoint, state, "listed by the scaler"));
        }
        return listing;
    }

    /** {@code ip:port} or {@code [ipv6]:port}, as {@link Endpoint#toString} writes it. */
    private static Endpoint endpoint(String text) {
        int colon = text.lastIndexOf(':');
        try {
            return new Endpoint(text.substring(0, Math.max(0, colon)).replace("[", "").replace("]", ""),
                    Integer.parseInt(text.substring(colon + 1)));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not an endpoint: " + shorten(text));
        }
    }

    static String shorten(String text) {
        return text.length() <= 300 ? text : text.substring(0, 297) + "...";
    }

    @Override
    public void close() {
        answers.close();
    }
}
