package io.vmscale.scaler;

import io.vmscale.broker.event.ReplicaState;
import io.vmscale.scaler.provision.Provisioner;
import io.vmscale.scaler.health.HealthState;
import io.vmscale.scaler.provision.Replica;
import io.vmscale.scaler.provision.Warmer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The warm pool (EC2 Auto Scaling's warm pools with what libvirt has), on its own lane beside the serving
 * actions: keeps it at its target by booting, warming and parking one replica at a time when nothing serving
 * needs the host more, and trims it when it holds more.
 */
final class WarmPool {
    private static final Logger log = LoggerFactory.getLogger(WarmPool.class);

    private final Loop loop;
    private final DecisionLog decisions;
    private final Provisioner provisioner;
    private final ReplicaActions actions;
    private final ActionLane serving;
    private final ActionLane lane;
    /** Why the pool is not refilled now, or null. */
    private String held;

    WarmPool(Loop loop, DecisionLog decisions, Provisioner provisioner, ReplicaActions actions, ActionLane serving,
             ActionLane lane) {
        this.loop = loop;
        this.decisions = decisions;
        this.provisioner = provisioner;
        this.actions = actions;
        this.serving = serving;
        this.lane = lane;
    }

    /** Why the pool is not refilled now, or null. */
    String held() {
        return held;
    }

    /**
     * The pool's turn at a look (loop thread): refill it to its target (one boot at a time, never while a serving
     * replica boots or warms up, within the host's CPUs and memory), or trim it when it holds more.
     */
    void tend(Provisioner.Observation seen, Instant now) {
        if (lane.busy()) {
            return;
        }
        Optional<Fleet.Member> stale = loop.fleet.in(ReplicaState.POOLED).stream()
                .filter(m -> !loop.busy.contains(m.domain()) && loop.outdated(m.domain())).findFirst();
        if (stale.isPresent()) { // refreshed with the group: the pool refills with the image new replicas boot
            lane.run("trimming " + stale.get().domain(), () -> trim(stale.get(), "it boots "
                    + loop.images.get(stale.get().domain()) + ", the group " + loop.image));
            return;
        }
        int target = loop.config.poolTarget(loop.fleet.counted());
        List<Fleet.Member> pool = loop.fleet.pool();
        if (pool.size() > target) {
            loop.fleet.in(ReplicaState.POOLED).stream().filter(m -> !loop.busy.contains(m.domain())).reduce((a, b) -> b)
                    .ifPresent(m -> lane.run("trimming " + m.domain(), () -> trim(m, "the warm pool holds "
                            + pool.size() + ", its target is " + target)));
            return;
        }
        // a serving replica is wanted more, boots alone, and warms up and is measured by the balancer undisturbed
        boolean servingFirst = serving.busy() || loop.fleet.counted() < Math.max(loop.config.minReplicas(), loop.wanted)
                || !loop.fleet.in(ReplicaState.STARTING).isEmpty()
                || loop.fleet.views(loop.decider.warmup()).stream().anyMatch(v -> v.warming(now))
                || loop.calibrations.any();
        if (pool.size() == target || servingFirst || lane.backingOff(now)) {
            held = null;
            return;
        }
        Placement.Verdict room = Placement.place(seen, loop.config.maxVcpusPerCore());
        if (room.full()) {
            String full = "no host has room: " + room.figures();
            if (!full.equals(held)) {
                log.info("scaler: warm pool not refilled: {}", full);
            }
            held = full;
            return;
        }
        held = null;
        lane.run("preparing a warm-pool replica on " + room.host(), () -> prepare(room.host()));
    }

    /** The pool's lane: boot a replica, probe it, warm it with real requests, park it. */
    private void prepare(String on) {
        Replica replica = provisioner.scaleUp(on);
        String booting = "booting for the warm pool";
        Fleet.Member member = loop.call(() -> {
            loop.abandoned.remove(replica.domain());
            Fleet.Member m = loop.fleet.warming(replica.domain(), replica.host(), replica.endpoint(), loop.now(),
                    booting);
            decisions.announce(m, ReplicaState.WARMING, booting);
            return m;
        });
        String domain = member.domain();
        Duration deadline = loop.settings.probeDeadline();
        HealthState checked = actions.readiness(member, Duration.ofMillis(250));
        if (!checked.healthy()) {
            loop.call(() -> loop.fleet.get(domain).filter(x -> x.state() == ReplicaState.WARMING).ifPresent(x ->
                    actions.fail(x, loop.notReady(checked), loop.now())));
            return;
        }
        String warmed;
        int requests = loop.call(() -> loop.config.warmPool().warmRequests());
        io.vmscale.broker.event.Endpoint at = loop.call(() -> loop.fleet.get(domain)
                .map(Fleet.Member::endpoint).orElse(member.endpoint()));
        String warmUpPath = loop.settings.application().warmUpPath();
        if (loop.settings.health().type().equals("udp-wire")) { // the built-in service: warmed with its own work
            warmed = Warmer.warm(at, requests, loop.settings.warmWork(), deadline,
                    () -> !loop.abandoned.contains(domain)).toString();
        } else if (!warmUpPath.isEmpty() && requests > 0) { // the application's own warm-up
            warmed = "passed its health check, " + Warmer.warmHttp(at, warmUpPath, requests, deadline,
                    () -> !loop.abandoned.contains(domain));
        } else {
            warmed = "passed its health check: " + checked.last().detail();
        }
        Provisioner.Tier tier = loop.call(loop::tier);
        boolean still = loop.call(() -> {
            boolean warming = loop.fleet.get(domain).filter(x -> x.state() == ReplicaState.WARMING).isPresent();
            if (warming) {
                loop.busy.add(domain);
            }
            return warming;
        });
        if (!still) {
            return;
        }
        try {
            provisioner.park(domain, tier);
        } catch (RuntimeException e) {
            loop.call(() -> {
                loop.busy.remove(domain);
                loop.fleet.get(domain).filter(x -> x.state() == ReplicaState.WARMING).ifPresent(x ->
                        actions.fail(x, "could not " + (tier == Provisioner.Tier.PAUSED ? "pause" : "save") + " it: "
                                + e.getMessage(), loop.now()));
            });
            throw e;
        }
        String why = "warmed (" + warmed + "), " + tier.word();
        loop.call(() -> {
            loop.busy.remove(domain);
            loop.forgetLoad(domain);
            loop.fleet.get(domain).filter(x -> x.state() == ReplicaState.WARMING).ifPresent(x ->
                    decisions.announce(loop.fleet.move(domain, ReplicaState.POOLED, loop.now(), why),
                            ReplicaState.POOLED, why));
        });
    }

    /** A parked replica the pool no longer needs: stopped and removed. */
    private void trim(Fleet.Member parked, String why) {
        String domain = parked.domain();
        boolean taken = loop.call(() -> {
            Optional<Fleet.Member> m = loop.fleet.get(domain).filter(x -> x.state() == ReplicaState.POOLED);
            m.ifPresent(x -> {
                loop.busy.add(domain);
                decisions.announce(loop.fleet.move(domain, ReplicaState.STOPPING, loop.now(), why),
                        ReplicaState.STOPPING, why);
            });
            return m.isPresent();
        });
        if (!taken) {
            return;
        }
        try {
            provisioner.stop(domain);
        } finally {
            loop.call(() -> loop.busy.remove(domain)); // a failed stop stays STOPPING: the cleanup tries again
        }
        loop.call(() -> loop.fleet.get(domain).filter(x -> x.state() == ReplicaState.STOPPING).ifPresent(x -> {
            loop.fleet.gone(domain);
            decisions.announce(x, ReplicaState.STOPPED, "warm pool trimmed");
        }));
    }
}
