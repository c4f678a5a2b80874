package io.vmscale.scaler;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Subscription;
import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.AdminVerbs;
import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.GroupChange;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.Topic;
import io.vmscale.broker.event.VmLifecycle;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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

    /**
     * What makes and keeps groups at run time ({@code group create}, {@code group change}, {@code group delete}): the
     * configuration's side.
     */
    public interface Lifecycle {
        /**
         * Checks the group's spec (its configuration element, JSON) and starts its scaler; an
         * {@link IllegalArgumentException} says what is wrong (the key named), and nothing was started.
         */
        Scaler create(String name, String spec);

        /**
         * Checks a change of a group's spec ({@code patch}: a JSON merge patch over its configuration element) with
         * the other groups, a new image included (it must be in the group's storage pool on every host); an
         * {@link IllegalArgumentException} names the key that is wrong. Nothing is in force until {@link Respec#start}.
         */
        default Respec respec(String name, String patch) {
            throw new IllegalArgumentException("groups are not changed at run time here: the configuration's groups "
                    + "are the scaler's");
        }

        /** A group was created (its scaler runs) or deleted (none of its domains is left): keep it, say it. */
        void changed(GroupChange change);
    }

    /**
     * A group's spec changed, checked and not yet in force.
     *
     * @param spec  the group's configuration element after the change, JSON
     * @param keys  the keys whose values change, e.g. {@code scaler.maxReplicas}
     * @param image the image new replicas boot after the change, or null: unchanged
     * @param made  the keys among them that change how new replicas are made (their template, sizes, application)
     * @param start the group's scaler with the new spec, going on with what operators changed (the spec in force)
     * @param back  the group's scaler with the spec before (when the new one could not start)
     */
    public record Respec(String spec, List<String> keys, String image, List<String> made,
                         java.util.function.Function<RuntimeSettings, Scaler> start,
                         java.util.function.Function<RuntimeSettings, Scaler> back) {
    }

    /** No group is created or deleted at run time here. */
    public static final Lifecycle FIXED = new Lifecycle() {
        @Override
        public Scaler create(String name, String spec) {
            throw new IllegalArgumentException("groups are not created at run time here: the configuration's "
                    + "groups are the scaler's");
        }

        @Override
        public void changed(GroupChange change) {
        }
    };

    /** By group name, the first group first: replaced whole on a change (read without a lock). */
    private volatile Map<String, Scaler> byName;
    private volatile Map<String, Pattern> domains;
    /** Groups being deleted: their replicas drain. */
    private final Set<String> deleting = ConcurrentHashMap.newKeySet();
    /** Groups whose scaler is being started again with a changed spec. */
    private final Set<String> changing = ConcurrentHashMap.newKeySet();
    private final String source;
    private final Lifecycle lifecycle;

    /**
     * @param scalers by group name (its prefix), the first group first
     * @param source  the envelope source of the scalers' answers
     */
    public ScalerGroups(Map<String, Scaler> scalers, String source) {
        this(scalers, source, FIXED);
    }

    /** The same, groups created and deleted at run time through {@code lifecycle}. */
    public ScalerGroups(Map<String, Scaler> scalers, String source, Lifecycle lifecycle) {
        if (scalers.isEmpty()) {
            throw new IllegalArgumentException("no group");
        }
        this.source = source;
        this.lifecycle = lifecycle;
        use(new LinkedHashMap<>(scalers));
    }

    private void use(Map<String, Scaler> scalers) {
        Map<String, Pattern> patterns = new LinkedHashMap<>();
        scalers.keySet().forEach(name -> patterns.put(name, Pattern.compile(Pattern.quote(name) + "-\\d+")));
        domains = Collections.unmodifiableMap(patterns);
        byName = Collections.unmodifiableMap(scalers);
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
        Map<String, Scaler> byName = this.byName;
        if (byName.size() == 1) {
            return Optional.of(byName.values().iterator().next()); // it tells its own replicas itself
        }
        for (Map.Entry<String, Pattern> each : domains.entrySet()) {
            if (each.getValue().matcher(domain).matches()) {
                return Optional.ofNullable(byName.get(each.getKey()));
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
        Map<String, Scaler> byName = this.byName;
        Scaler scaler = stats.group().isEmpty() ? byName.values().iterator().next()
                : byName.getOrDefault(stats.group(), byName.get(""));
        if (scaler != null) {
            scaler.onLbStats(stats, at);
        }
    }

    /**
     * Carries out an operator's command in the group it names; {@code groups} lists them all, {@code group} creates
     * or deletes one.
     */
    public AdminResult handle(AdminCommand command) {
        if (command.command().equals("groups")) {
            return groups(command);
        }
        if (command.command().equals("group")) {
            try {
                return new AdminResult(command.requestId(), source, true, group(command.args()), Map.of());
            } catch (IllegalArgumentException e) {
                return new AdminResult(command.requestId(), source, false, e.getMessage(), Map.of());
            }
        }
        Map<String, Scaler> byName = this.byName;
        String name = command.group().isEmpty() ? byName.keySet().iterator().next() : command.group();
        Scaler scaler = byName.get(name);
        if (scaler == null) {
            return new AdminResult(command.requestId(), source, false, "no group " + command.group() + " here: the "
                    + "groups are " + String.join(", ", byName.keySet()) + " (ops groups)", Map.of());
        }
        if (changing.contains(name) && !command.command().equals("status")) {
            return new AdminResult(command.requestId(), source, false, "the group " + name + " is being changed (its "
                    + "scaler starts again with the new spec once its actions under way end): try again then",
                    Map.of());
        }
        return scaler.handle(command);
    }

    /** {@code group create NAME SPEC}, {@code group change NAME PATCH} or {@code group delete NAME}: what was done. */
    private String group(List<String> args) {
        String usage = "usage: group create NAME SPEC (the group's configuration element, JSON) | group change NAME "
                + "PATCH (a JSON merge patch over it) | group delete NAME";
        if (args.isEmpty()) {
            throw new IllegalArgumentException(usage);
        }
        switch (args.get(0)) {
            case "create" -> {
                if (args.size() != 3) {
                    throw new IllegalArgumentException(usage + " (got " + args.size() + " argument(s))");
                }
                return create(args.get(1), args.get(2));
            }
            case "change" -> {
                if (args.size() != 3) {
                    throw new IllegalArgumentException(usage + " (got " + args.size() + " argument(s))");
                }
                return change(args.get(1), args.get(2));
            }
            case "delete" -> {
                if (args.size() != 2) {
                    throw new IllegalArgumentException(usage + " (got " + args.size() + " argument(s))");
                }
                return delete(args.get(1));
            }
            default -> throw new IllegalArgumentException(usage + " (got '" + args.get(0) + "')");
        }
    }

    private synchronized String create(String name, String spec) {
        if (byName.containsKey(name)) {
            throw new IllegalArgumentException("there is a group " + name + " already" + (deleting.contains(name)
                    ? " (being deleted: create it again once 'ops groups' no longer lists it)" : ""));
        }
        Scaler scaler = lifecycle.create(name, spec);
        Map<String, Scaler> next = new LinkedHashMap<>(byName);
        next.put(name, scaler);
        use(next);
        RuntimeSettings now = scaler.runtimeSettings();
        log.info("scaler: group {} created: {}..{} replicas, {}", name, now.minReplicas(), now.maxReplicas(),
                now.policy());
        lifecycle.changed(new GroupChange(name, GroupChange.CREATED, spec, "created by an operator"));
        return "group " + name + " created: " + now.minReplicas() + ".." + now.maxReplicas() + " replicas " + name
                + "-NNNN, " + now.policy() + "; its first replicas start now";
    }

    /**
     * Starts the group's scaler again with its changed spec: the one running stops acting (its actions under way end),
     * the next takes its replicas back as after a restart and goes on with what operators changed; a new image is
     * rolled out to them.
     */
    private synchronized String change(String name, String patch) {
        Scaler scaler = notFirst(name, "its spec is the file's (its min, max, policy, pool and image change by "
                + "their own commands)");
        if (deleting.contains(name) || changing.contains(name)) {
            throw new IllegalArgumentException("the group " + name + " is being " + (deleting.contains(name)
                    ? "deleted" : "changed already"));
        }
        RuntimeSettings before = scaler.runtimeSettings();
        if (before.rollout() != null) {
            throw new IllegalArgumentException("a " + (before.rollout().rollback() ? "rollback" : "rolling update")
                    + " to " + before.rollout().to() + " is under way in the group " + name + ": 'ops rollout cancel' "
                    + "or wait until it ends");
        }
        Respec next = lifecycle.respec(name, patch);
        if (next.keys().isEmpty()) {
            return "nothing changes: the group " + name + "'s spec says so already";
        }
        String from = scaler.image();
        if (next.image() != null && from.isEmpty()) {
            throw new IllegalArgumentException("group " + name + "'s spec: key 'application.image': the group runs "
                    + "the built-in guest; it does not change to an image of its own at run time (delete the group "
                    + "and create it again)");
        }
        Map<String, ReplicaState> replicas = scaler.replicas();
        long ready = replicas.values().stream().filter(r -> r == ReplicaState.READY).count();
        changing.add(name);
        scaler.handOver().whenCompleteAsync((carried, failed) -> {
            if (failed != null) {
                changing.remove(name);
                log.warn("scaler: group {} not changed: {}", name, failed.getMessage());
                return;
            }
            Scaler started;
            boolean inForce = true;
            try {
                started = next.start().apply(carried);
            } catch (RuntimeException e) {
                log.error("scaler: group {}: its scaler did not start with the new spec ({}): going on with the "
                        + "spec before", name, e.getMessage());
                started = next.back().apply(carried);
                inForce = false;
            }
            synchronized (this) {
                Map<String, Scaler> now = new LinkedHashMap<>(byName);
                now.put(name, started);
                use(now);
                changing.remove(name);
            }
            scaler.close();
            if (inForce) {
                log.info("scaler: group {} changed: {}", name, String.join(", ", next.keys()));
                lifecycle.changed(new GroupChange(name, GroupChange.CHANGED, next.spec(), "changed by an operator: "
                        + String.join(", ", next.keys())));
                if (next.image() != null && !next.image().equals(from)) {
                    started.rollOutFrom(from, "the operator changed the group's image");
                }
            }
        });
        StringBuilder said = new StringBuilder("changing the group " + name + " (" + String.join(", ", next.keys())
                + "): its scaler starts again with the new spec once its actions under way end, and takes its "
                + "replicas back (" + ready + " READY now)");
        if (next.image() != null && !next.image().equals(from)) {
            said.append("; a rolling update replaces them with replicas booting ").append(next.image());
        }
        List<String> made = next.made().stream().filter(k -> !k.equals("application.image")).toList();
        if (!made.isEmpty() && !replicas.isEmpty()) {
            said.append("; ").append(String.join(", ", made)).append(": new replicas only (those running keep theirs "
                    + "until replaced: 'ops replace DOMAIN')");
        }
        return said.toString();
    }

    /**
     * The scaler of a group made or kept at run time; refused (saying {@code why} for the first group, the
     * configuration's top level) otherwise.
     */
    private Scaler notFirst(String name, String why) {
        Scaler scaler = byName.get(name);
        if (scaler == null) {
            throw new IllegalArgumentException("no group " + name + " here: the groups are "
                    + String.join(", ", byName.keySet()) + " (ops groups)");
        }
        if (name.equals(byName.keySet().iterator().next())) {
            throw new IllegalArgumentException("the group " + name + " is the first, the configuration's top level: "
                    + why);
        }
        return scaler;
    }

    private synchronized String delete(String name) {
        Scaler scaler = notFirst(name, "it is not deleted at run time (its 'min 0' and 'scale 0' leave it without "
                + "replicas)");
        if (changing.contains(name)) { // its scaler is handing over: the one that retires must be the next
            throw new IllegalArgumentException("the group " + name + " is being changed: delete it once 'ops groups' "
                    + "no longer says BEING CHANGED");
        }
        if (!deleting.add(name)) {
            return "the group " + name + " is being deleted already";
        }
        int replicas = scaler.replicas().size();
        scaler.retire("the operator deleted the group " + name).whenCompleteAsync((done, failed) -> {
            synchronized (this) {
                Map<String, Scaler> next = new LinkedHashMap<>(byName);
                next.remove(name);
                use(next);
                deleting.remove(name);
            }
            scaler.close();
            if (failed == null) {
                log.info("scaler: group {} deleted", name);
                lifecycle.changed(new GroupChange(name, GroupChange.DELETED, "", "deleted by an operator"));
            }
        });
        return "deleting the group " + name + ": its " + replicas + " replica(s) are drained one at a time, then its "
                + "domains and volumes removed ('ops groups' lists it until then)";
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
            boolean beingDeleted = deleting.contains(each.getKey());
            String waits = beingDeleted ? each.getValue().deletionWaits() : null;
            group.put("deleting", beingDeleted);
            group.put("deletionWaits", waits);
            group.put("changing", changing.contains(each.getKey()));
            list.add(group);
            message.append(message.isEmpty() ? "" : "; ").append(each.getKey()).append(": ").append(ready)
                    .append(" READY of ").append(replicas.size())
                    .append(beingDeleted ? " (being deleted" + (waits == null ? ")"
                            : ": it waits, " + waits + ")") : "")
                    .append(changing.contains(each.getKey()) ? " (being changed)" : "");
        }
        return new AdminResult(command.requestId(), source, true, byName.size() + " group(s): " + message,
                Map.of("groups", list));
    }
}
