package io.vmscale.scaler;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Subscription;
import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.AdminVerbs;
import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.Topic;
import io.vmscale.broker.event.VmLifecycle;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scalers of one process, one per group: each on its own loop and lanes, so that one group's slow action never
 * stalls another's. One set of subscriptions feeds them all: a replica's samples and lifecycle go to the group its
 * name belongs to, an operator's command to the group it names (none: the first), balancer stats to every group
 * (each reads the endpoints of its own replicas), and {@code groups} is answered here, for all of them.
 */
public final class ScalerGroups {
    private static final Logger log = LoggerFactory.getLogger(ScalerGroups.class);

    private final Map<String, Scaler> byName = new LinkedHashMap<>();
    private final Map<String, Pattern> domains = new LinkedHashMap<>();
    private final String source;

    /**
     * @param scalers by group name (its prefix), the first group first
     * @param source  the envelope source of the scalers' answers
     */
    public ScalerGroups(Map<String, Scaler> scalers, String source) {
        if (scalers.isEmpty()) {
            throw new IllegalArgumentException("no group");
        }
        byName.putAll(scalers);
        scalers.keySet().forEach(name -> domains.put(name, Pattern.compile(Pattern.quote(name) + "-\\d+")));
        this.source = source;
    }

    /** The group names, the first first. */
    public List<String> names() {
        return List.copyOf(byName.keySet());
    }

    /** The group's scaler, if there is such a group. */
    public Optional<Scaler> get(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** The scaler of the group a domain belongs to. */
    Optional<Scaler> owner(String domain) {
        if (byName.size() == 1) {
            return Optional.of(byName.values().iterator().next()); // it tells its own replicas itself
        }
        for (Map.Entry<String, Pattern> each : domains.entrySet()) {
            if (each.getValue().matcher(domain).matches()) {
                return Optional.of(byName.get(each.getKey()));
            }
        }
        return Optional.empty();
    }

    /** Feeds every group from the broker, and answers operators' commands for {@code scaler} on their reply-to. */
    public List<Subscription> listenTo(BrokerConnection connection) {
        return List.of(
                connection.subscribe(CpuSample.class, e -> owner(e.body().domain())
                        .ifPresent(s -> s.onSample(e.body(), e.ts()))),
                connection.subscribe(VmLifecycle.class, e -> owner(e.body().domain())
                        .ifPresent(s -> s.onLifecycle(e.body(), e.source()))),
                connection.subscribe(LbStats.class, e -> onLbStats(e.body(), e.ts())),
                connection.subscribe(AdminCommand.class, e -> {
                    AdminCommand command = e.body();
                    if (!AdminVerbs.isFor(AdminVerbs.SCALER, command.target(), command.command())) {
                        return;
                    }
                    if (!command.replyTo().startsWith(Topic.REPLY_PREFIX)) {
                        log.warn("scaler: ignored a command from {} with reply-to {} outside {}", e.source(),
                                command.replyTo(), Topic.REPLY_PREFIX);
                        return;
                    }
                    connection.publish(command.replyTo(), handle(command));
                }));
    }

    /**
     * A balancer's or traffic driver's stats, to the group whose traffic they are (naming none: the first's). Never to
     * another: a group's drain is over when its own traffic's stats no longer list the replica, which another group's
     * never do.
     */
    public void onLbStats(LbStats stats, java.time.Instant at) {
        // a scaler not named for a group (a deployment of one, started alone) takes every group's: there is no other
        Scaler scaler = stats.group().isEmpty() ? byName.values().iterator().next()
                : byName.getOrDefault(stats.group(), byName.get(""));
        if (scaler != null) {
            scaler.onLbStats(stats, at);
        }
    }

    /** Carries out an operator's command in the group it names; {@code groups} lists them all. */
    public AdminResult handle(AdminCommand command) {
        if (command.command().equals("groups")) {
            return groups(command);
        }
        String name = command.group().isEmpty() ? byName.keySet().iterator().next() : command.group();
        Scaler scaler = byName.get(name);
        if (scaler == null) {
            return new AdminResult(command.requestId(), source, false, "no group " + command.group() + " here: the "
                    + "groups are " + String.join(", ", byName.keySet()) + " (ops groups)", Map.of());
        }
        return scaler.handle(command);
    }

    private AdminResult groups(AdminCommand command) {
        List<Object> list = new ArrayList<>();
        StringBuilder message = new StringBuilder();
        for (Map.Entry<String, Scaler> each : byName.entrySet()) {
            RuntimeSettings now = each.getValue().runtimeSettings();
            Map<String, ReplicaState> replicas = each.getValue().replicas();
            long ready = replicas.values().stream().filter(s -> s == ReplicaState.READY).count();
            Map<String, Object> group = new LinkedHashMap<>();
            group.put("name", each.getKey());
            group.put("ready", ready);
            group.put("replicas", replicas.size());
            group.put("minReplicas", now.minReplicas());
            group.put("maxReplicas", now.maxReplicas());
            group.put("policy", now.policy());
            group.put("paused", now.paused());
            group.put("image", now.image() == null ? each.getValue().image() : now.image());
            list.add(group);
            message.append(message.isEmpty() ? "" : "; ").append(each.getKey()).append(": ").append(ready)
                    .append(" READY of ").append(replicas.size());
        }
        return new AdminResult(command.requestId(), source, true, byName.size() + " group(s): " + message,
                Map.of("groups", list));
    }
}
