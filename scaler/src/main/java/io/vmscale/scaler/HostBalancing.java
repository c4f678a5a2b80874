package io.vmscale.scaler;

import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.scaler.provision.Hypervisor;
import io.vmscale.scaler.provision.Provisioner;
import io.vmscale.scaler.provision.ReadinessProbe;
import io.vmscale.scaler.provision.Replica;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the group's replicas run across several hosts, once it is settled: consolidation (empty the last host
 * whose replicas fit on the hosts before it), rebalancing (give a hot host's busiest replica to the one with most
 * room), and the live migration both of them and an operator's {@code migrate} start.
 */
final class HostBalancing {
    private static final Logger log = LoggerFactory.getLogger(HostBalancing.class);

    private final Loop loop;
    private final DecisionLog decisions;
    private final Provisioner provisioner;
    private final ReplicaActions actions;
    private final ActionLane serving;
    /** Live migrations that failed: they wait on their own, scaling does not wait for them. */
    private final ActionLane.BackOff moves = new ActionLane.BackOff("MigrationFailed");
    /** Live migrations completed. */
    private int migrations;
    /** The host whose replicas fit on the others, and since when (consolidation waits for it to hold). */
    private String consolidating;
    private Instant consolidatingSince;
    /** The host whose replicas' CPU is above scaler.rebalanceAbove, and since when. */
    private String hot;
    private Instant hotSince;

    HostBalancing(Loop loop, DecisionLog decisions, Provisioner provisioner, ReplicaActions actions,
                  ActionLane serving) {
        this.loop = loop;
        this.decisions = decisions;
        this.provisioner = provisioner;
        this.actions = actions;
        this.serving = serving;
    }

    /** Live migrations completed. */
    int migrations() {
        return migrations;
    }

    /** Consolidation, else rebalancing, when the fleet is settled and the policy held (loop thread). */
    void step(Instant now) {
        if (!consolidate(now)) {
            rebalance(now);
        }
    }

    /**
     * Checks and starts the live migration of a READY replica to another host (on the loop thread); the
     * answer says what was started, an {@link IllegalArgumentException} why not.
     */
    String startMigration(String domain, String toHost, String policy, String code, String why) {
        Fleet.Member member = loop.fleet.get(domain).orElseThrow(() -> new IllegalArgumentException(domain
                + " is not a replica of this group; replicas: "
                + loop.fleet.all().stream().map(Fleet.Member::domain).toList()));
        if (member.state() != ReplicaState.READY) {
            throw new IllegalArgumentException(domain + " is " + member.state() + ": only a READY replica is moved");
        }
        if (!provisioner.hosts().contains(toHost)) {
            throw new IllegalArgumentException(toHost + " is not one of libvirt.uris: " + provisioner.hosts());
        }
        if (toHost.equals(member.host())) {
            throw new IllegalArgumentException(domain + " runs on " + toHost + " already");
        }
        serving.requireIdle();
        Set<String> others = new HashSet<>(provisioner.hosts());
        others.remove(toHost);
        Placement.Verdict room = loop.lastObservation == null ? null : Placement.place(loop.lastObservation,
                loop.config.maxVcpusPerCore(), others);
        if (room == null || room.full()) {
            throw new IllegalArgumentException(toHost + " has no room for " + domain + ": "
                    + (room == null ? "not looked at yet" : room.figures()));
        }
        int n = loop.fleet.counted();
        String what = domain + " from " + member.host() + " to " + toHost;
        decisions.publish(new ScaleDecision(ScaleAction.MIGRATE, n, n, policy, code, why + ": moving " + what
                + (loop.dryRun ? " (dry run: not acted on)" : ""), Map.of(), domain));
        if (loop.dryRun) {
            return "dry run: would move " + what;
        }
        serving.run("moving " + domain + " to " + toHost, () -> migrate(domain, toHost), moves);
        return "moving " + what + " by live migration; a READY naming its new endpoint says when it is there";
    }

    /**
     * The consolidation step: with several hosts, the replicas of the least-used host that runs any fit on the
     * others, and have for {@code consolidateAfterSeconds} (at once after a scale-down): move one of them.
     * Returns true when a migration started.
     */
    private boolean consolidate(Instant now) {
        if (loop.config.consolidateAfterSeconds() < 0 || loop.lastObservation == null || provisioner.hosts().size() < 2
                || serving.busy() || moves.active(now)) {
            return false;
        }
        String candidate = consolidationCandidate();
        if (candidate == null || !candidate.equals(consolidating)) {
            consolidating = candidate;
            consolidatingSince = now;
            if (candidate == null) {
                loop.scaledDown = false;
                return false;
            }
        }
        boolean due = loop.scaledDown
                || !consolidatingSince.plusSeconds(loop.config.consolidateAfterSeconds()).isAfter(now);
        if (!due) {
            return false;
        }
        Fleet.Member move = loop.fleet.in(ReplicaState.READY).stream().filter(m -> candidate.equals(m.host()))
                .findFirst().orElse(null);
        List<String> hosts = provisioner.hosts(); // onto the hosts before it in the list
        Set<String> others = new HashSet<>(hosts.subList(hosts.indexOf(candidate), hosts.size()));
        Placement.Verdict to = Placement.place(loop.lastObservation, loop.config.maxVcpusPerCore(), others);
        if (move == null || to.full() || wouldRunHot(to.host(), move)) {
            return false;
        }
        long left = loop.fleet.all().stream().filter(m -> candidate.equals(m.host())).count();
        try {
            startMigration(move.domain(), to.host(), "consolidation", "Consolidate", candidate + " runs " + left
                    + " replica(s) that fit on the host(s) before it in libvirt.uris" + (loop.scaledDown
                    ? " after a scale-down" : " for " + loop.config.consolidateAfterSeconds() + " s") + "; emptying it");
            return true;
        } catch (IllegalArgumentException e) {
            log.info("scaler: no consolidation now: {}", e.getMessage());
            return false;
        }
    }

    /**
     * The rebalancing step: a host whose replicas have used more than {@code rebalanceAbove} % of its CPUs for
     * {@code consolidateAfterSeconds} gives its busiest replica to the reachable host with the most room, when
     * that host stays below the threshold with it. Returns true when a migration started.
     */
    private boolean rebalance(Instant now) {
        if (loop.config.rebalanceAbove() <= 0 || loop.lastObservation == null || provisioner.hosts().size() < 2
                || !loop.unreachableSince.isEmpty() || moves.active(now)) {
            return false;
        }
        String hottest = null;
        double most = loop.config.rebalanceAbove();
        for (Provisioner.HostSeen h : loop.lastObservation.hosts()) {
            double load = load(h.uri());
            if (h.reachable() && load > most && loop.fleet.in(ReplicaState.READY).stream()
                    .filter(m -> h.uri().equals(m.host())).count() > 1) { // a lone replica gains nothing by moving
                hottest = h.uri();
                most = load;
            }
        }
        if (hottest == null || !hottest.equals(hot)) {
            hot = hottest;
            hotSince = now;
            return false;
        }
        if (hotSince.plusSeconds(Math.max(0, loop.config.consolidateAfterSeconds())).isAfter(now)) {
            return false;
        }
        String from = hottest;
        Fleet.Member busiest = loop.fleet.in(ReplicaState.READY).stream().filter(m -> from.equals(m.host()))
                .max(Comparator.comparingDouble(m -> loop.lastCpu.getOrDefault(m.domain(), 0.0))).orElse(null);
        Placement.Verdict to = Placement.place(loop.lastObservation, loop.config.maxVcpusPerCore(), Set.of(from));
        if (busiest == null || to.full() || wouldRunHot(to.host(), busiest)) {
            return false;
        }
        try {
            startMigration(busiest.domain(), to.host(), "rebalance", "Rebalance", String.format(Locale.ROOT,
                    "the replicas on %s have used %.0f %% of its CPUs for %d s, above scaler.rebalanceAbove %.0f %%, "
                            + "and %s has room", from, most, Math.max(0, loop.config.consolidateAfterSeconds()),
                    loop.config.rebalanceAbove(), to.host()));
            hot = null;
            return true;
        } catch (IllegalArgumentException e) {
            log.info("scaler: no rebalancing now: {}", e.getMessage());
            return false;
        }
    }

    /** The group's READY replicas' CPU on a host, in % of its CPUs (a replica's sample is % of one vCPU). */
    private double load(String host) {
        Hypervisor.Host figures = loop.lastObservation.host(host).map(Provisioner.HostSeen::figures).orElse(null);
        if (figures == null || figures.cpus() <= 0) {
            return 0;
        }
        return loop.fleet.all().stream().filter(m -> host.equals(m.host()) && m.state() == ReplicaState.READY)
                .mapToDouble(m -> loop.lastCpu.getOrDefault(m.domain(), 0.0)).sum() / figures.cpus();
    }

    /** With rebalancing on: the host would pass its threshold with this replica's CPU added. */
    private boolean wouldRunHot(String host, Fleet.Member replica) {
        if (loop.config.rebalanceAbove() <= 0) {
            return false;
        }
        Hypervisor.Host figures = loop.lastObservation.host(host).map(Provisioner.HostSeen::figures).orElse(null);
        double added = figures == null || figures.cpus() <= 0 ? 0
                : loop.lastCpu.getOrDefault(replica.domain(), 0.0) / figures.cpus();
        return load(host) + added > loop.config.rebalanceAbove();
    }

    /**
     * The last host of {@code libvirt.uris} that runs replicas of the group (all READY) when they all fit on the
     * reachable hosts before it; else null. Consolidation packs towards the front of the list (the first host is
     * home, the later ones are emptied to be switched off), so it never moves a replica back and forth.
     */
    private String consolidationCandidate() {
        if (!loop.unreachableSince.isEmpty()) {
            return null; // hosts are being lost: not the time to pack
        }
        List<Placement.Fit> fits = Placement.fits(loop.lastObservation, loop.config.maxVcpusPerCore());
        for (int i = fits.size() - 1; i > 0; i--) {
            String uri = fits.get(i).uri();
            List<Fleet.Member> here = loop.fleet.all().stream().filter(m -> uri.equals(m.host())).toList();
            if (here.isEmpty()) {
                continue;
            }
            boolean allReady = here.stream().allMatch(m -> m.state() == ReplicaState.READY);
            long roomBefore = fits.subList(0, i).stream().mapToLong(Placement.Fit::room).sum();
            return allReady && roomBefore >= here.size() ? uri : null;
        }
        return null;
    }

    /**
     * A live migration (action lane): MIGRATING (the balancer sends to it only while nothing else can take a
     * request), libvirt moves it, and it is READY at its new endpoint as soon as it answers there (asked every
     * 20 ms while it moves), or READY where it was when the move failed, or FAILED when it answers nowhere.
     */
    private void migrate(String domain, String toHost) {
        Replica target = provisioner.migrationTarget(domain, toHost); // checked before anything changes
        Fleet.Member member = loop.call(() -> {
            Optional<Fleet.Member> m = loop.fleet.get(domain).filter(x -> x.state() == ReplicaState.READY);
            m.ifPresent(x -> {
                loop.busy.add(domain);
                String why = "to " + toHost + " (live migration; answering at " + target.endpoint() + " once there)";
                decisions.announce(loop.fleet.move(domain, ReplicaState.MIGRATING, loop.now(), why),
                        ReplicaState.MIGRATING, why);
            });
            return m.orElse(null);
        });
        if (member == null) {
            return; // it changed meanwhile
        }
        Duration deadline = loop.settings.probeDeadline();
        long t0 = System.nanoTime();
        AtomicBoolean moving = new AtomicBoolean(true);
        CompletableFuture<Boolean> there = CompletableFuture.supplyAsync(() -> ReadinessProbe.until(loop.check,
                loop.settings.health(), target.endpoint(), deadline, Duration.ofMillis(20), moving::get).healthy());
        there.thenAccept(answered -> {
            if (answered) {
                long ms = (System.nanoTime() - t0) / 1_000_000;
                loop.submit(() -> arrived(member, target, ms));
            }
        });
        try {
            provisioner.migrate(domain, toHost);
        } catch (RuntimeException e) {
            moving.set(false);
            there.join();
            loop.call(() -> {
                loop.busy.remove(domain);
                loop.fleet.get(domain).filter(x -> x.state() == ReplicaState.MIGRATING).ifPresent(x -> {
                    String why = "migration to " + toHost + " failed (" + e.getMessage() + "): still on " + member.host();
                    decisions.announce(loop.fleet.moved(domain, member.host(), member.endpoint(), loop.now(), why),
                            ReplicaState.READY, why);
                });
            });
            throw e;
        }
        boolean answered = there.join();
        loop.call(() -> {
            loop.busy.remove(domain);
            if (!answered) {
                loop.fleet.get(domain).filter(x -> x.state() == ReplicaState.MIGRATING).ifPresent(x -> actions.fail(x,
                        "moved to " + toHost + " but not healthy at " + target.endpoint() + " within "
                                + deadline.toSeconds() + " s", loop.now()));
            }
        });
    }

    /** A MIGRATING replica answered at its new endpoint: READY there (on the loop thread). */
    private void arrived(Fleet.Member member, Replica target, long ms) {
        if (loop.fleet.get(member.domain()).filter(x -> x.state() == ReplicaState.MIGRATING).isEmpty()) {
            return;
        }
        String why = VmLifecycle.MOVED + " " + member.host() + " (live migration, answering at its new endpoint "
                + ms + " ms after it began)";
        migrations++;
        consolidating = null;
        loop.scaledDown = false;
        decisions.announce(loop.fleet.moved(member.domain(), target.host(), target.endpoint(), loop.now(), why),
                ReplicaState.READY, why, true);
    }
}
