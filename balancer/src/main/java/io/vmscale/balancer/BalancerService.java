package io.vmscale.balancer;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.BrokerException;
import io.vmscale.broker.Subscription;
import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.AdminVerbs;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.Topic;
import io.vmscale.broker.event.VmLifecycle;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The balancer on the broker: membership from {@code vm.lifecycle}, commands from
 * {@code vmscale.admin} (answered on their reply-to address), stats to {@code vmscale.lb}.
 *
 * <p>Its subscriptions are not durable: an event published after the broker came back but before
 * this connection subscribed again is not heard. So each time the connection is back the membership
 * is resynced from the scaler, which decides what serves: the balancer asks it for {@code status} and
 * applies its listing of replicas (domain, state, endpoint) with {@link Balancer#resync}, which never
 * takes back a replica the listing shows draining, stopped or pooled, and lets events heard after the
 * question win over the answer. Asked again every {@link #RESYNC_WAIT} until a scaler answers, at most
 * {@link #RESYNC_TRIES} times (the scaler may be reconnecting too; with no scaler, events are all there is).
 */
public final class BalancerService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BalancerService.class);
    private static final Set<String> TARGETS = Set.of(AdminVerbs.BALANCER, AdminVerbs.ALL);
    static final Duration RESYNC_WAIT = Duration.ofSeconds(3);
    static final int RESYNC_TRIES = 20;

    private final Balancer balancer;
    private final BrokerConnection connection;
    private final List<Subscription> subscriptions = new ArrayList<>();
    private final LongAdder ignored = new LongAdder();
    private final LongAdder resyncs = new LongAdder();
    private ScalerListing scaler;
    private volatile boolean closed;
    /** The group whose traffic it carries (empty: any). */
    private final String group;

    private BalancerService(Balancer balancer, BrokerConnection connection, String group) {
        this.balancer = balancer;
        this.connection = connection;
        this.group = group;
    }

    /**
     * @param running the running domains of the prefix from libvirt: what {@code refresh} takes when no scaler
     *                answers (it cannot tell a draining replica from a serving one)
     */
    public static BalancerService start(BrokerConnection connection, Balancer.Settings settings,
                                        Supplier<List<Endpoint>> running, InetSocketAddress front) {
        return start(connection, settings, running, front, "");
    }

    /**
     * The same, carrying the traffic of the group {@code group} (its prefix) only: another group's replicas are not
     * its members, and another group's commands are answered by saying so. Empty: every replica it hears of.
     */
    public static BalancerService start(BrokerConnection connection, Balancer.Settings settings,
                                        Supplier<List<Endpoint>> running, InetSocketAddress front, String group) {
        AtomicReference<BalancerService> self = new AtomicReference<>();
        Balancer balancer = Balancer.start(settings, e -> connection.publish(LbStats.ofGroup(e, group)),
                () -> self.get().refresh(running), connection.source(), front);
        BalancerService service = new BalancerService(balancer, connection, group);
        self.set(service);
        java.util.function.Predicate<String> ours = group.isEmpty() ? domain -> true
                : io.vmscale.balancer.traffic.TrafficDriver.names(group);
        try {
            service.subscriptions.add(connection.subscribe(VmLifecycle.class, e -> {
                if (ours.test(e.body().domain())) {
                    balancer.onLifecycle(e.body());
                }
            }));
            service.subscriptions.add(connection.subscribe(AdminCommand.class, e -> service.command(e.source(), e.body())));
            service.scaler = new ScalerListing(connection, "balancer", group);
        } catch (RuntimeException e) {
            service.close();
            throw e;
        }
        connection.onReconnected(service::resync);
        return service;
    }

    private void command(String from, AdminCommand command) {
        if (!TARGETS.contains(command.target())) {
            return;
        }
        if (!command.replyTo().startsWith(Topic.REPLY_PREFIX) || command.replyTo().length() > 200) {
            ignored.increment();
            log.warn("ignored a command from {} with reply-to {} outside {}", from, command.replyTo(), Topic.REPLY_PREFIX);
            return;
        }
        boolean mine = group.isEmpty() || command.group().isEmpty() || command.group().equals(group);
        if (!mine && command.command().equals("status")) {
            return; // that group's traffic driver answers for it
        }
        AdminResult result = mine ? balancer.handle(command) : otherGroup(command);
        if (result.ok()) {
            log.info("command from {}: {} {} -> {}", from, command.command(), command.args(), result.message());
        } else { // anything at all may come here: at most a line of it
            log.info("command from {} refused: {}", from, shorten(command.command() + " " + command.args()
                    + " -> " + result.message()));
        }
        connection.publish(command.replyTo(), result);
    }

    /** A command for another group (not {@code status}: its own traffic driver answers that): refused, saying why. */
    private AdminResult otherGroup(AdminCommand command) {
        String why = "the built-in balancer carries group " + group + "'s traffic, not " + command.group() + "'s ("
                + "its traffic goes through its own traffic driver)";
        return new AdminResult(command.requestId(), connection.source(), false, why, Map.of());
    }

    /**
     * {@code refresh}: the replicas the scaler lists READY (a draining, stopped or parked one is running in libvirt
     * but must get no request); libvirt's running domains only when no scaler answers.
     */
    private List<Endpoint> refresh(Supplier<List<Endpoint>> running) {
        try {
            return listing(askScaler("balancer-refresh-")).stream()
                    .filter(r -> r.state() == ReplicaState.READY && r.endpoint() != null)
                    .map(VmLifecycle::endpoint).toList();
        } catch (TimeoutException | ExecutionException | BrokerException | IllegalArgumentException e) {
            log.info("refresh: no usable status from the scaler ({}): the running domains from libvirt", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while asking the scaler");
        }
        return running.get();
    }

    /** The scaler's answer to {@code status}, within {@link #RESYNC_WAIT}. */
    private AdminResult askScaler(String idPrefix) throws TimeoutException, ExecutionException, InterruptedException {
        return scaler.status(idPrefix, RESYNC_WAIT);
    }

    /** The broker is back: asks the scaler for its replicas until it answers, and applies them. */
    private void resync() {
        scaler.resync("balancer", RESYNC_TRIES, RESYNC_WAIT, () -> closed, balancer::lifecycleMark,
                (mark, status, listing) -> {
                    balancer.resync(mark, listing);
                    resyncs.increment();
                    log.info("broker back: membership resynced from {} ({} replica(s) listed)", status.responder(),
                            listing.size());
                }, "membership from the events heard only");
    }

    /** The replicas of a scaler's {@code status}: {@code data.replicas}, each with domain, state and endpoint. */
    static List<VmLifecycle> listing(AdminResult status) {
        return ScalerListing.listing(status);
    }

    /** Commands for the balancer dropped unanswered: their reply-to address was not one of {@link Topic#REPLY_PREFIX}. */
    public long ignored() {
        return ignored.sum();
    }

    /** Membership resyncs from the scaler since start (one per return of the broker that a scaler answered). */
    public long resyncs() {
        return resyncs.sum();
    }

    private static String shorten(String text) {
        return ScalerListing.shorten(text);
    }

    public Balancer balancer() {
        return balancer;
    }

    @Override
    public void close() {
        closed = true;
        subscriptions.forEach(Subscription::close);
        if (scaler != null) {
            scaler.close();
        }
        balancer.close();
    }
}
