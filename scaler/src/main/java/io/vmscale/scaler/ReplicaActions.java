package io.vmscale.scaler;

import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.scaler.provision.Provisioner;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vmscale.hook.ExecHook;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.scaler.health.HealthCheck;
import io.vmscale.scaler.health.HealthState;
import io.vmscale.scaler.provision.ApplicationConfig;
import io.vmscale.scaler.provision.Replica;
import java.time.Duration;
import java.time.Instant;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What is done to one serving replica, each step on an action lane's thread with the bookkeeping on the loop
 * thread: start it and probe it until READY, take one back that was found running, take one from the warm pool,
 * drain it until the balancer acknowledges and stop it (or park it again), and mark one that stopped by itself
 * FAILED.
 */
final class ReplicaActions {
    private static final Logger log = LoggerFactory.getLogger(ReplicaActions.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Loop loop;
    private final DecisionLog decisions;
    private final Provisioner provisioner;
    /** Replicas whose termination hook said abandon: destroyed at once, not shut down (action lane). */
    private final java.util.Set<String> abandoned = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Told of a start that failed (a rolling update's new image may be why); set once by the scaler. */
    RollingUpdate rollout;
    /** The drain in progress (loop thread), or null. */
    private Drain drain;

    /** A drain in progress: acknowledged once the balancer reports the replica removed with nothing in flight. */
    private record Drain(String domain, String endpoint, CompletableFuture<String> done) {
    }

    ReplicaActions(Loop loop, DecisionLog decisions, Provisioner provisioner) {
        this.loop = loop;
        this.decisions = decisions;
        this.provisioner = provisioner;
    }

    // ---- on the loop thread ----

    /** A replica that is not running any more: FAILED, out of the count, replaced. */
    void fail(Fleet.Member member, String why, Instant now) {
        boolean wasDraining = member.state() == ReplicaState.DRAINING;
        boolean wasPool = member.pool();
        Fleet.Member failed = loop.fleet.move(member.domain(), ReplicaState.FAILED, now, why);
        loop.abandoned.add(member.domain());
        decisions.announce(failed, ReplicaState.FAILED, (wasPool ? "warm-pool replica failed: " : "failed: ") + why);
        if (wasPool) {
            return; // not serving: the pool refills itself
        }
        if (wasDraining) {
            if (drain != null && drain.domain().equals(member.domain())) {
                drain.done().complete("it stopped by itself");
            }
            return; // it was on its way out anyway
        }
        decisions.say(ScaleAction.REPLACE, "ReplicaFailed", member.domain() + " " + why + ": replacing it",
                member.domain());
    }

    /** The balancer's stats: the acknowledgement a drain waits for. */
    void onLbStats(LbStats stats) {
        if (drain == null) {
            return;
        }
        LbStats.ServerStats server = stats.servers().get(drain.endpoint());
        if (server == null) {
            drain.done().complete("the balancer no longer lists it");
        } else if (server.removed() && server.inFlight() == 0) {
            drain.done().complete("the balancer acknowledged it and has nothing in flight to it");
        }
    }

    // ---- on an action lane ----

    void scaleUp(String on) {
        Replica replica;
        try {
            replica = provisioner.scaleUp(on);
        } catch (RuntimeException e) {
            loop.call(() -> {
                loop.wanted = Math.min(loop.wanted, loop.fleet.counted()); // the policy decides again after the back-off
                rollout.launchFailed(e.getMessage());
            });
            throw e;
        }
        probe(replica, "scale up", "scale up", "passed its health check", true, false);
    }

    /** Probes found running at once: a restart at a thousand replicas takes them back in seconds, not ticks. */
    private static final int ADOPT_PROBES = 16;

    /**
     * Takes back replicas found running, all in this one action: each STARTING, probed ({@link #ADOPT_PROBES} at a
     * time), READY or FAILED on its own result.
     *
     * @param found each replica, and whether it is warm already
     */
    void adoptAll(java.util.Map<Replica, Boolean> found) {
        if (found.size() == 1) {
            found.forEach(this::adopt);
            return;
        }
        java.util.concurrent.ExecutorService probes = java.util.concurrent.Executors.newFixedThreadPool(
                Math.min(ADOPT_PROBES, found.size()), r -> Loop.daemon(r, "scaler-take-back"));
        try {
            java.util.List<java.util.concurrent.Future<?>> each = new java.util.ArrayList<>();
            found.forEach((replica, warm) -> each.add(probes.submit(() -> adopt(replica, warm))));
            RuntimeException first = null;
            for (java.util.concurrent.Future<?> f : each) {
                try {
                    f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    if (first == null) {
                        first = e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("taking back cut short", e);
                }
            }
            if (first != null) {
                throw first;
            }
        } finally {
            probes.shutdownNow();
        }
    }

    void adopt(Replica replica, boolean warm) {
        probe(replica, "found running", "found running in libvirt: probing it", "found running, passed its health check"
                + (warm ? " (running for longer than a warm-up: its samples count at once)" : ""), false, warm);
    }

    /** STARTING, then READY once it answers correctly, or FAILED; only a start of ours completes an action. */
    private void probe(Replica replica, String cause, String starting, String why, boolean completesAnAction,
                       boolean warm) {
        Fleet.Member member = loop.call(() -> {
            loop.abandoned.remove(replica.domain());
            Fleet.Member m = loop.fleet.starting(replica.domain(), replica.host(), replica.endpoint(), loop.now(),
                    cause, warm);
            decisions.announce(m, ReplicaState.STARTING, starting);
            return m;
        });
        ready(member, why, completesAnAction, Duration.ofMillis(250), false);
    }

    /**
     * A STARTING replica: READY once it answers correctly (asked every {@code retry}), or FAILED.
     *
     * @param warmStart it comes back from the warm pool: its READY says so
     */
    private void ready(Fleet.Member member, String why, boolean completesAnAction, Duration retry, boolean warmStart) {
        long t0 = System.nanoTime();
        HealthState checked = readiness(member, retry);
        boolean answered = checked.healthy();
        loop.call(() -> {
            Fleet.Member now = loop.fleet.get(member.domain()).orElse(null);
            if (now == null || now.state() != ReplicaState.STARTING) {
                return; // failed meanwhile: the reconciler took care of it
            }
            if (answered) {
                log.info("scaler: {} ready after {} ms", member.domain(), (System.nanoTime() - t0) / 1_000_000);
                loop.health.put(member.domain(), checked);
                decisions.announce(loop.fleet.move(member.domain(), ReplicaState.READY, loop.now(), why),
                        ReplicaState.READY, why, warmStart);
                if (completesAnAction) {
                    loop.lastCompleted = loop.now();
                }
            } else {
                fail(now, loop.notReady(checked), loop.now());
            }
        });
    }

    /**
     * A replica on its way checked until healthy, within the probe deadline. One without an address yet (NAT mode:
     * libvirt's DHCP lease comes once the guest asked for it) is waited for first and never probed at no address
     * (0.0.0.0 is this machine); no lease within the deadline is the reason it is not ready.
     */
    HealthState readiness(Fleet.Member member, Duration retry) {
        String domain = member.domain();
        long end = System.nanoTime() + loop.settings.probeDeadline().toNanos();
        Endpoint at = member.endpoint();
        if (at == null) {
            log.info("scaler: {} has no address yet (no DHCP lease from the NAT network): waiting for it, up to {} s",
                    domain, loop.settings.probeDeadline().toSeconds());
            at = address(domain, end, retry);
            if (at == null) {
                HealthState none = new HealthState(loop.settings.health(), Instant.now(), false);
                none.record(new HealthCheck.Result(false, "no address: the NAT network gave it no DHCP lease", 0,
                        Instant.now()));
                return none;
            }
            Endpoint found = at;
            loop.call(() -> loop.fleet.located(domain, found));
            log.info("scaler: {} leased {}: probing it there", domain, at);
        }
        return loop.readiness(domain, at, Duration.ofNanos(Math.max(0, end - System.nanoTime())), retry);
    }

    /** Its address once libvirt knows it, asked every {@code retry} until {@code end}; null if never. */
    private Endpoint address(String domain, long end, Duration retry) {
        while (System.nanoTime() < end && !loop.abandoned.contains(domain)) {
            try {
                Optional<Endpoint> found = provisioner.address(domain);
                if (found.isPresent()) {
                    return found.get();
                }
            } catch (RuntimeException e) {
                log.debug("scaler: address of {}: {}", domain, e.getMessage());
            }
            java.util.concurrent.locks.LockSupport.parkNanos(Math.min(retry.toNanos(),
                    Math.max(0, end - System.nanoTime())));
        }
        return null;
    }

    /** A scale-up from the warm pool: resume or restore, then the probe (asked often: it answers within ms). */
    void takeFromPool(Fleet.Member parked) {
        String domain = parked.domain();
        Fleet.Member member = loop.call(() -> {
            Optional<Fleet.Member> m = loop.fleet.get(domain).filter(x -> x.state() == ReplicaState.POOLED);
            if (m.isEmpty()) {
                return null; // it failed meanwhile: the next look takes another
            }
            String why = VmLifecycle.FROM_WARM_POOL + " (" + Provisioner.Tier.of(loop.power(domain)).word() + ")";
            loop.busy.add(domain);
            loop.abandoned.remove(domain);
            Fleet.Member starting = loop.fleet.move(domain, ReplicaState.STARTING, loop.now(), why);
            decisions.announce(starting, ReplicaState.STARTING, why, true);
            return starting;
        });
        if (member == null) {
            return;
        }
        try {
            provisioner.resume(domain);
        } catch (RuntimeException e) {
            loop.call(() -> {
                loop.busy.remove(domain);
                loop.fleet.get(domain).filter(x -> x.state() == ReplicaState.STARTING)
                        .ifPresent(x -> fail(x, "could not bring it back from the warm pool: " + e.getMessage(),
                                loop.now()));
            });
            throw e;
        }
        loop.call(() -> loop.busy.remove(domain));
        ready(member, member.cause() + ", passed its health check", true, Duration.ofMillis(20), true);
    }

    /**
     * A scale-in: DRAINING until the balancer acknowledges with nothing in flight (or the drain timeout), then
     * back to the warm pool while it is below its target (EC2's ReuseOnScaleIn), else stopped.
     */
    void scaleDown(Fleet.Member replica) {
        scaleDown(replica, "scale down", true);
    }

    /**
     * The same for a cause of the operator's ({@code drained by the operator}); {@code reuse} false: stopped even
     * when the warm pool is short (a replica being replaced is not kept).
     */
    void scaleDown(Fleet.Member replica, String cause, boolean reuse) {
        Drain draining = loop.call(() -> {
            Fleet.Member m = loop.fleet.move(replica.domain(), ReplicaState.DRAINING, loop.now(), cause);
            drain = new Drain(m.domain(), m.endpoint().toString(), new CompletableFuture<>());
            decisions.announce(m, ReplicaState.DRAINING, cause);
            return drain;
        });
        String how;
        try {
            how = "drained: " + draining.done().get(loop.settings.drainTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            how = "drain timeout: no acknowledgement with nothing in flight from the balancer within "
                    + loop.settings.drainTimeout().toSeconds() + " s; stopping it anyway";
            log.warn("scaler: {}: {}", replica.domain(), how);
        } catch (Exception e) {
            how = "drain interrupted: " + e;
        }
        String hook = loop.call(() -> loop.fleet.get(replica.domain()).filter(x -> x.state() == ReplicaState.DRAINING)
                .isPresent() && !(reuse && !loop.outdated(replica.domain())
                && loop.fleet.pool().size() < loop.config.poolTarget(loop.fleet.counted())))
                ? terminationHook(replica, how) : "";
        String reason = hook.isEmpty() ? how : how + "; " + hook;
        String next = loop.call(() -> {
            drain = null;
            Optional<Fleet.Member> m = loop.fleet.get(replica.domain()).filter(x -> x.state() == ReplicaState.DRAINING);
            if (m.isEmpty()) {
                return "gone";
            }
            if (reuse && !loop.outdated(replica.domain())
                    && loop.fleet.pool().size() < loop.config.poolTarget(loop.fleet.counted())) {
                loop.busy.add(replica.domain()); // EC2's ReuseOnScaleIn: back to the pool, warm
                return "pool";
            }
            decisions.announce(loop.fleet.move(replica.domain(), ReplicaState.STOPPING, loop.now(), reason),
                    ReplicaState.STOPPING, reason);
            return "stop";
        });
        if (next.equals("pool")) {
            park(replica.domain(), reason);
        } else if (next.equals("stop")) {
            stop(replica.domain(), cause, true);
        }
    }

    /** A drained replica back to the warm pool; stopped when it cannot be parked. */
    private void park(String domain, String reason) {
        Provisioner.Tier tier = loop.call(loop::tier);
        try {
            provisioner.park(domain, tier);
        } catch (RuntimeException e) {
            String why = reason + "; could not " + (tier == Provisioner.Tier.PAUSED ? "pause" : "save")
                    + " it for the warm pool (" + e.getMessage() + "): stopping it";
            loop.call(() -> {
                loop.busy.remove(domain);
                loop.fleet.get(domain).filter(x -> x.state() == ReplicaState.DRAINING).ifPresent(x ->
                        decisions.announce(loop.fleet.move(x.domain(), ReplicaState.STOPPING, loop.now(), why),
                                ReplicaState.STOPPING, why));
            });
            stop(domain, "scale down", true);
            return;
        }
        String why = reason + "; returned to the warm pool (" + tier.word() + ")";
        loop.call(() -> {
            loop.busy.remove(domain);
            loop.forgetLoad(domain);
            loop.fleet.get(domain).filter(x -> x.state() == ReplicaState.DRAINING).ifPresent(x ->
                    decisions.announce(loop.fleet.move(x.domain(), ReplicaState.POOLED, loop.now(), why),
                            ReplicaState.POOLED, why));
            loop.lastCompleted = loop.now();
        });
    }

    /**
     * Stops a STOPPING or FAILED replica; it stays tracked (and is tried again) until libvirt says it is gone. A
     * scale-in shuts it down gracefully ({@code application.stopTimeoutSeconds}) unless its termination hook
     * abandoned it; a failed one is destroyed at once. The STOPPED event says which happened.
     */
    void stop(String domain, String why, boolean completesAnAction) {
        boolean graceful = loop.call(() -> {
            loop.fleet.get(domain).filter(m -> m.state() == ReplicaState.FAILED)
                    .ifPresent(m -> loop.fleet.move(domain, ReplicaState.STOPPING, loop.now(), why));
            return why.equals("scale down") && !abandoned.remove(domain);
        });
        String how = provisioner.stop(domain, graceful ? loop.settings.application().stopTimeout() : Duration.ZERO);
        String reason = how.equals("not found") ? why : why + "; " + how;
        loop.call(() -> {
            Fleet.Member gone = loop.fleet.gone(domain);
            loop.forgetLoad(domain);
            if (loop.protectedReplicas.remove(domain)) { // a later replica of the same name is another one
                loop.keeper.accept(loop.runtimeSettings());
            }
            decisions.announce(gone, ReplicaState.STOPPED, reason);
            if (completesAnAction) {
                loop.lastCompleted = loop.now();
                loop.scaledDown |= why.equals("scale down");
            }
        });
    }

    /**
     * The termination hook, between the drain and the shutdown (an Auto Scaling lifecycle hook): the replica as
     * JSON on the program's standard input; exit 0 is {@code continue}, anything else {@code abandon}, a timeout
     * the configured default. Abandoned: destroyed at once instead of shut down. Returns the outcome in words, or
     * "" when there is no hook.
     */
    private String terminationHook(Fleet.Member replica, String reason) {
        ApplicationConfig app = loop.settings.application();
        if (app.terminationHook().isEmpty()) {
            return "";
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("event", "terminating");
        body.put("domain", replica.domain());
        body.put("host", replica.host());
        body.put("ip", replica.endpoint() == null ? null : replica.endpoint().ip());
        body.put("port", replica.endpoint() == null ? null : replica.endpoint().port());
        body.put("reason", reason);
        String json;
        try {
            json = JSON.writeValueAsString(body);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        ExecHook.Result result = new ExecHook(Path.of(app.terminationHook()), app.terminationHookTimeout()).run(json);
        String outcome = result.ok() ? "continue" : result.timedOut() || result.exit() < 0
                ? app.terminationHookDefault() : "abandon";
        if (outcome.equals("abandon")) {
            abandoned.add(replica.domain());
        }
        String words = "termination hook " + result.describe() + ": " + outcome;
        (result.ok() ? log.atInfo() : log.atWarn()).log("scaler: {}: {}", replica.domain(), words);
        return words;
    }

    /** A domain of the group left stopped by a crash (defined, never started; destroyed, not undefined). */
    void removeLeftover(String domain) {
        provisioner.stop(domain);
        log.info("scaler: removed {}, left stopped (a crash during an earlier action)", domain);
    }
}
