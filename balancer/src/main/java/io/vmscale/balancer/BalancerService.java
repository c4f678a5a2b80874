package io.vmscale.balancer;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Subscription;
import io.vmscale.broker.Topic;
import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.VmLifecycle;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The balancer on the broker: membership from {@code vm.lifecycle}, commands from
 * {@code vmscale.admin} (answered on their reply-to address), stats to {@code vmscale.lb}.
 */
public final class BalancerService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BalancerService.class);
    private static final Set<String> TARGETS = Set.of("balancer", "all");

    private final Balancer balancer;
    private final List<Subscription> subscriptions;
    private final java.util.concurrent.atomic.LongAdder ignored;

    private BalancerService(Balancer balancer, List<Subscription> subscriptions,
                            java.util.concurrent.atomic.LongAdder ignored) {
        this.balancer = balancer;
        this.subscriptions = subscriptions;
        this.ignored = ignored;
    }

    public static BalancerService start(BrokerConnection connection, Balancer.Settings settings,
                                        Supplier<List<Endpoint>> refreshSource, InetSocketAddress front) {
        Balancer balancer = Balancer.start(settings, connection::publish, refreshSource, connection.source(), front);
        java.util.concurrent.atomic.LongAdder ignored = new java.util.concurrent.atomic.LongAdder();
        Subscription lifecycle = connection.subscribe(VmLifecycle.class, e -> balancer.onLifecycle(e.body()));
        Subscription commands = connection.subscribe(AdminCommand.class, e -> {
            AdminCommand command = e.body();
            if (!TARGETS.contains(command.target())) {
                return;
            }
            if (!command.replyTo().startsWith(Topic.REPLY_PREFIX) || command.replyTo().length() > 200) {
                ignored.increment();
                log.warn("ignored a command from {} with reply-to {} outside {}", e.source(), command.replyTo(),
                        Topic.REPLY_PREFIX);
                return;
            }
            AdminResult result = balancer.handle(command);
            if (result.ok()) {
                log.info("command from {}: {} {} -> {}", e.source(), command.command(), command.args(), result.message());
            } else { // anything at all may come here: at most a line of it
                log.info("command from {} refused: {}", e.source(), shorten(command.command() + " " + command.args()
                        + " -> " + result.message()));
            }
            connection.publish(command.replyTo(), result);
        });
        return new BalancerService(balancer, List.of(lifecycle, commands), ignored);
    }

    /** Commands for the balancer dropped unanswered: their reply-to address was not one of {@link Topic#REPLY_PREFIX}. */
    public long ignored() {
        return ignored.sum();
    }

    private static String shorten(String text) {
        return text.length() <= 300 ? text : text.substring(0, 297) + "...";
    }

    public Balancer balancer() {
        return balancer;
    }

    @Override
    public void close() {
        subscriptions.forEach(Subscription::close);
        balancer.close();
    }
}
