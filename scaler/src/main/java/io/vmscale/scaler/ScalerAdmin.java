package io.vmscale.scaler;

import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.AdminVerbs;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.scaler.provision.Provisioner;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scaler's operator commands ({@link AdminVerbs#SCALER}): each checked, carried out on the loop thread and
 * answered in a sentence, a malformed one changing nothing and its answer saying what is wrong; {@code status}
 * and {@code hosts} answered with what the loop sees.
 */
final class ScalerAdmin {
    private static final Logger log = LoggerFactory.getLogger(ScalerAdmin.class);

    private final Loop loop;
    private final DecisionLog decisions;
    private final Provisioner provisioner;
    private final HostBalancing balancing;
    private final WarmPool pool;
    private final ActionLane serving;
    private final ReplicaActions actions;
    private final ActionLane pooling;
    private final HealthWatch watch;
    private final RollingUpdate rollout;
    private final String source;

    ScalerAdmin(Loop loop, DecisionLog decisions, Provisioner provisioner, HostBalancing balancing, WarmPool pool,
                ReplicaActions actions, ActionLane serving, ActionLane pooling, HealthWatch watch,
                RollingUpdate rollout, String source) {
        this.rollout = rollout;
        this.actions = actions;
        this.watch = watch;
        this.loop = loop;
        this.decisions = decisions;
        this.provisioner = provisioner;
        this.balancing = balancing;
        this.pool = pool;
        this.serving = serving;
        this.pooling = pooling;
        this.source = source;
    }

    /** Carries out a command on the loop thread and waits for its answer (at most 10 s). */
    AdminResult handle(AdminCommand command) {
        CompletableFuture<AdminResult> result = new CompletableFuture<>();
        boolean taken = loop.submit(() -> {
            try {
                result.complete(command(command));
            } catch (IllegalArgumentException e) {
                result.complete(new AdminResult(command.requestId(), source, false, e.getMessage(), Map.of()));
            } catch (RuntimeException e) {
                result.complete(new AdminResult(command.requestId(), source, false,
                        command.command() + " failed: " + e, Map.of()));
            }
        });
        try {
            if (taken) {
                return result.get(10, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return new AdminResult(command.requestId(), source, false, "the scaler did not take the command: " + e,
                    Map.of());
        }
        return new AdminResult(command.requestId(), source, false, "the scaler is stopping", Map.of());
    }

    /** The commands whose change outlives this scaler ({@link RuntimeSettings}). */
    private static final java.util.Set<String> KEPT = java.util.Set.of("pause", "resume", "min", "max", "policy",
            "dry-run", "pool", "protect", "image", "rollout");

    private AdminResult command(AdminCommand command) {
        String name = command.command();
        List<String> args = command.args();
        ScalerConfig config = loop.config;
        String policyName = loop.decider.policy().name();
        Map<String, Object> data = Map.of();
        if (loop.retiring != null && !name.equals("status") && !name.equals("hosts")) {
            throw new IllegalArgumentException("the group " + (loop.settings.group().isEmpty() ? ""
                    : loop.settings.group() + " ") + "is being deleted: its replicas "
                    + "are drained and removed; nothing else is done for it");
        }
        String message = switch (name) {
            case "pause" -> {
                arguments(name, args, 0, "");
                loop.paused = true;
                yield "paused: " + policyName + " still decides and publishes, nothing is acted on "
                        + "(failed replicas are still replaced; 'scale N' still works)";
            }
            case "resume" -> {
                arguments(name, args, 0, "");
                loop.paused = false;
                yield "resumed: " + policyName + " acts again";
            }
            case "min", "max" -> {
                arguments(name, args, 1, " N");
                int n = count(name, args.get(0));
                int min = name.equals("min") ? n : config.minReplicas();
                int max = name.equals("max") ? n : config.maxReplicas();
                if (max < 1 || min > max) {
                    throw new IllegalArgumentException(name + " " + n + " would make min.." + "max " + min + ".." + max
                            + ": need 0 <= min <= max and max >= 1");
                }
                loop.reconfigure(config.withLimits(min, max));
                yield "replicas now " + min + ".." + max;
            }
            case "scale" -> {
                arguments(name, args, 1, " N");
                int n = count(name, args.get(0));
                if (n < config.minReplicas() || n > config.maxReplicas()) {
                    throw new IllegalArgumentException("scale " + n + " is outside min..max " + config.minReplicas()
                            + ".." + config.maxReplicas() + ": change min or max first");
                }
                loop.operatorWanted = n;
                loop.operatorBy = ScaleDecision.OPERATOR;
                loop.operatorAsk = "the operator asked for";
                yield "scaling to " + n + " replica(s), one at a time; then " + policyName + " decides again"
                        + (loop.dryRun ? " (dry run: decisions only)" : "");
            }
            case "policy" -> {
                arguments(name, args, 1, " NAME");
                loop.reconfigure(config.withPolicy(Policies.named(args.get(0), config).name()));
                loop.window.forgetRecommendations();
                yield "policy now " + loop.decider.policy().name();
            }
            case "dry-run" -> {
                arguments(name, args, 1, " on|off");
                loop.dryRun = switch (args.get(0)) {
                    case "on" -> true;
                    case "off" -> false;
                    default -> throw new IllegalArgumentException("dry-run takes on or off, not '" + args.get(0) + "'");
                };
                yield loop.dryRun ? "dry run on: decisions are published, none is acted on"
                        : "dry run off: decisions are acted on";
            }
            case "pool" -> pool(args);
            case "migrate" -> {
                arguments(name, args, 2, " DOMAIN HOST");
                yield balancing.startMigration(args.get(0), args.get(1), ScaleDecision.OPERATOR, "OperatorMigrate",
                        "the operator asked to move " + args.get(0) + " to " + args.get(1));
            }
            case "protect" -> {
                arguments(name, args, 2, " DOMAIN on|off");
                yield protect(args.get(0), args.get(1));
            }
            case "drain", "replace" -> {
                arguments(name, args, 1, " DOMAIN");
                yield takeOut(args.get(0), name.equals("replace"));
            }
            case "image" -> {
                arguments(name, args, 1, " POOL/VOLUME");
                yield rollout.start(args.get(0), "the operator set the image " + args.get(0));
            }
            case "rollout" -> {
                arguments(name, args, 1, " status|start|cancel|resume|rollback");
                yield switch (args.get(0)) {
                    case "status" -> {
                        data = rollout.status();
                        RollingUpdate.Run run = loop.rollout;
                        int old = rollout.outdated().size();
                        yield run == null ? "no rolling update under way; new replicas boot "
                                + (loop.image.isEmpty() ? "the built-in guest" : loop.image)
                                + (old == 0 ? "" : "; " + old + " replica(s) boot another image ('rollout start')")
                                : "the " + run.word() + " to " + run.to + ": " + (run.total - old) + " of "
                                + run.total + " replaced; " + run.doing;
                    }
                    case "start" -> rollout.refresh("the operator started a rolling update");
                    case "cancel" -> rollout.cancel();
                    case "resume" -> rollout.resume();
                    case "rollback" -> rollout.rollback("the operator rolled back", null);
                    default -> throw new IllegalArgumentException("rollout takes status, start, cancel, resume or "
                            + "rollback, not '" + args.get(0) + "' (a rolling update starts with 'image POOL/VOLUME')");
                };
            }
            case "hosts" -> {
                arguments(name, args, 0, "");
                List<Map<String, Object>> hosts = hosts(loop.now());
                data = Map.of("hosts", hosts);
                yield hosts.size() + " host(s), " + hosts.stream()
                        .filter(h -> Boolean.TRUE.equals(h.get("reachable"))).count() + " reachable";
            }
            case "status" -> {
                arguments(name, args, 0, "");
                data = status();
                yield loop.fleet.size() + " replica(s), " + policyName + " " + config.minReplicas() + ".."
                        + config.maxReplicas() + (loop.paused ? ", paused" : "") + (loop.dryRun ? ", dry run" : "");
            }
            default -> throw new IllegalArgumentException("unknown scaler command '" + name + "'; known: "
                    + String.join(", ", AdminVerbs.names(AdminVerbs.SCALER)));
        };
        log.info("scaler: {} {} -> {}", name, String.join(" ", args), message);
        if (KEPT.contains(name)) {
            loop.keeper.accept(loop.runtimeSettings());
        }
        return new AdminResult(command.requestId(), source, true, message, data);
    }

    /** {@code pool N [paused|saved]}. */
    private String pool(List<String> args) {
        if (args.isEmpty() || args.size() > 2) {
            throw new IllegalArgumentException("usage: pool N [paused|saved] (got " + args.size() + " argument(s))");
        }
        ScalerConfig config = loop.config;
        int n = count("pool", args.get(0));
        String tier = args.size() == 2 ? args.get(1) : config.warmPool().tier();
        if (!tier.equals("paused") && !tier.equals("saved")) {
            throw new IllegalArgumentException("pool takes the tier paused or saved, not '" + tier + "'");
        }
        if (n > 100) {
            throw new IllegalArgumentException("pool takes a size from 0 to 100, not " + n);
        }
        var current = config.warmPool();
        loop.reconfigure(config.withWarmPool(new ScalerConfig.WarmPoolConfig(n, tier, current.maxPrepared(),
                current.warmRequests())));
        int serving = loop.fleet.counted();
        return n == 0 ? "warm pool off: its replicas are removed"
                : "warm pool now " + n + " " + tier + " replica(s) (" + loop.config.poolTarget(serving)
                + " while " + serving + " serve); replicas already parked stay as they are";
    }

    private static void arguments(String name, List<String> args, int expected, String usage) {
        if (args.size() != expected) {
            throw new IllegalArgumentException("usage: " + name + usage + " (got " + args.size() + " argument(s))");
        }
    }

    private static int count(String name, String text) {
        try {
            int n = Integer.parseInt(text.strip());
            if (n < 0 || n > 1000) {
                throw new IllegalArgumentException(name + " takes a replica count from 0 to 1000, not " + n);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " takes a replica count, not '" + text + "'");
        }
    }

    private Map<String, Object> status() {
        List<Map<String, Object>> list = new ArrayList<>();
        Instant now = loop.now();
        loop.fleet.all().forEach(r -> {
            Map<String, Object> replica = new LinkedHashMap<>();
            replica.put("domain", r.domain());
            replica.put("host", r.host());
            replica.put("state", r.state().name());
            replica.put("cpu", loop.lastCpu.get(r.domain()));
            replica.put("endpoint", r.endpoint() == null ? null : r.endpoint().toString());
            replica.put("check", watch.describe(r.domain()));
            replica.put("since", r.since().toString());
            replica.put("warm", r.readyAt() != null
                    && !r.readyAt().plus(r.warmStart() ? Duration.ZERO : loop.decider.warmup()).isAfter(now));
            replica.put("protected", loop.protectedReplicas.contains(r.domain()));
            replica.put("image", loop.images.get(r.domain()));
            if (r.pool() && loop.lastObservation != null) {
                loop.lastObservation.replicas().stream().filter(o -> o.domain().equals(r.domain())).findFirst()
                        .ifPresent(o -> replica.put("power", o.power().name()));
            }
            list.add(replica);
        });
        ScalerConfig config = loop.config;
        Map<String, Object> scaler = new LinkedHashMap<>();
        scaler.put("group", loop.settings.group());
        scaler.put("policy", loop.decider.policy().name());
        scaler.put("minReplicas", config.minReplicas());
        scaler.put("maxReplicas", config.maxReplicas());
        scaler.put("high", config.thresholdWindow().high()); // the group's CPU thresholds, for a chart of it
        scaler.put("low", config.thresholdWindow().low());
        scaler.put("wanted", loop.wanted);
        scaler.put("paused", loop.paused);
        scaler.put("dryRun", loop.dryRun);
        scaler.put("desired", loop.operatorWanted);
        scaler.put("acting", serving.doing());
        scaler.put("warmupSeconds", loop.decider.warmup().toSeconds());
        scaler.put("terminationPolicy", config.terminationPolicy());
        List<Map<String, Object>> schedules = new ArrayList<>();
        for (ScheduleConfig s : config.schedules()) {
            Map<String, Object> schedule = new LinkedHashMap<>();
            schedule.put("name", s.name());
            schedule.put("cron", s.cron());
            schedule.put("timeZone", s.timeZone());
            schedule.put("sets", s.sets());
            schedule.put("next", s.next(now).map(t -> t.toOffsetDateTime().toString()).orElse(null));
            schedules.add(schedule);
        }
        scaler.put("schedules", schedules);
        Map<String, Object> warmPool = new LinkedHashMap<>();
        warmPool.put("size", config.warmPool().size());
        warmPool.put("tier", config.warmPool().tier());
        warmPool.put("target", config.poolTarget(loop.fleet.counted()));
        warmPool.put("ready", loop.fleet.in(ReplicaState.POOLED).size());
        warmPool.put("warming", loop.fleet.in(ReplicaState.WARMING).size());
        warmPool.put("acting", pooling.doing());
        warmPool.put("held", pool.held());
        scaler.put("warmPool", warmPool);
        scaler.put("migrations", balancing.migrations());
        scaler.put("rollout", rollout.status());
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("replicas", list);
        data.put("hosts", hosts(now));
        data.put("decisions", decisions.recent());
        data.put("scaler", scaler);
        return data;
    }

    /** Each host: where it is, whether it answers, its figures, the group's replicas on it and the room left. */
    private List<Map<String, Object>> hosts(Instant now) {
        List<Map<String, Object>> list = new ArrayList<>();
        Provisioner.Observation seen = loop.lastObservation;
        if (seen == null) {
            provisioner.hosts().forEach(uri -> list.add(new LinkedHashMap<>(Map.of("uri", uri))));
            return list;
        }
        Map<String, Placement.Fit> fits = new HashMap<>();
        Placement.fits(seen, loop.config.maxVcpusPerCore()).forEach(f -> fits.put(f.uri(), f));
        for (Provisioner.HostSeen h : seen.hosts()) {
            Map<String, Object> host = new LinkedHashMap<>();
            host.put("uri", h.uri());
            host.put("address", h.address());
            host.put("reachable", h.reachable());
            host.put("maxReplicas", h.maxReplicas());
            host.put("replicas", loop.fleet.all().stream().filter(m -> h.uri().equals(m.host()))
                    .map(Fleet.Member::domain).toList());
            host.put("cpu", loop.fleet.all().stream().filter(m -> h.uri().equals(m.host()))
                    .mapToDouble(m -> loop.lastCpu.getOrDefault(m.domain(), 0.0)).sum());
            host.put("room", fits.get(h.uri()) == null ? 0 : fits.get(h.uri()).room());
            if (h.reachable()) {
                host.put("cpus", h.figures().cpus());
                host.put("activeVcpus", h.figures().activeVcpus());
                host.put("freeMemoryMiB", h.figures().freeMemoryKiB() < 0 ? null
                        : h.figures().freeMemoryKiB() / 1024);
            } else {
                host.put("error", h.error());
                Instant since = loop.unreachableSince.get(h.uri());
                host.put("unreachableSeconds", since == null ? null : Duration.between(since, now).toSeconds());
            }
            list.add(host);
        }
        return list;
    }

    /**
     * {@code drain DOMAIN}: that READY replica is drained and stopped, one fewer wanted (refused below min);
     * {@code replace DOMAIN}: drained and stopped, and a new one started in its place (never kept for the warm pool).
     * Like an Auto Scaling group's terminate-instance with and without decrementing the desired capacity.
     */
    /** Protects a serving replica from scale-in, or lets it go again. */
    private String protect(String domain, String onOff) {
        boolean on = switch (onOff) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new IllegalArgumentException("protect " + domain + " " + onOff + ": expected on or off");
        };
        if (!on) {
            return loop.protectedReplicas.remove(domain) ? domain + " may be scaled in again"
                    : domain + " was not protected";
        }
        Fleet.Member member = loop.fleet.get(domain).orElseThrow(() -> new IllegalArgumentException("protect "
                + domain + ": not a replica of this group (" + loop.fleet.size() + " replica(s): 'ops status')"));
        if (!member.counted()) {
            throw new IllegalArgumentException("protect " + domain + ": it is " + member.state()
                    + "; only a STARTING, READY or MIGRATING replica can be protected from scale-in");
        }
        return loop.protectedReplicas.add(domain) ? domain + " is protected from scale-in ("
                + loop.protectedReplicas.size() + " protected)" : domain + " was protected already";
    }

    private String takeOut(String domain, boolean replace) {
        Fleet.Member member = loop.fleet.get(domain).orElseThrow(() -> new IllegalArgumentException(domain
                + " is not a replica of this group; replicas: "
                + loop.fleet.all().stream().map(Fleet.Member::domain).toList()));
        String verb = replace ? "replace" : "drain";
        if (member.state() != ReplicaState.READY) {
            throw new IllegalArgumentException(domain + " is " + member.state() + ": only a READY replica is "
                    + (replace ? "replaced" : "drained"));
        }
        serving.requireIdle();
        int n = loop.fleet.counted();
        int to = replace ? n : n - 1;
        if (to < loop.config.minReplicas()) {
            throw new IllegalArgumentException("drain " + domain + " would leave " + to + " replica(s), below min "
                    + loop.config.minReplicas() + ": lower min first, or replace it");
        }
        String cause = replace ? "replaced by the operator" : "drained by the operator";
        decisions.publish(new ScaleDecision(replace ? ScaleAction.REPLACE : ScaleAction.DOWN, n, to,
                ScaleDecision.OPERATOR, replace ? "OperatorReplace" : "OperatorDrain", "the operator asked to " + verb
                + " " + domain + (loop.dryRun ? " (dry run: not acted on)" : ""), Map.of(), domain));
        if (loop.dryRun) {
            return "dry run: would " + verb + " " + domain;
        }
        if (!replace) {
            loop.wanted = to;
        }
        serving.run((replace ? "replacing " : "draining ") + domain, () -> actions.scaleDown(member, cause, false));
        return replace ? "replacing " + domain + ": drained and stopped, a new replica started in its place"
                : "draining " + domain + ", then stopping it: " + to + " replica(s) wanted; "
                + loop.decider.policy().name() + " decides again after it";
    }
}
