package io.vmscale.scaler;

import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.scaler.provision.Provisioner;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A rolling update, as AWS Auto Scaling's instance refresh: the group's image changed, and the replicas booting
 * another one are replaced in batches while the group serves. With {@code maxHealthyPercent} above 100 new replicas
 * start first (as many as it allows), each READY and baked for {@code bakeSeconds} before as many old ones drain
 * (outdated replicas are always the first a scale-in takes); with no room for more, old ones drain first as far as
 * {@code minHealthyPercent} allows. A new replica that fails (its start, its probe, its health check) rolls the update
 * back to the image before ({@code autoRollback}), which is itself a rolling update. It moves the count the reconciler
 * wants and lets it act, one replica at a time; the policy waits while it runs. Every step is a decision of policy
 * {@code rollout}. Loop thread only.
 */
final class RollingUpdate {
    private static final Logger log = LoggerFactory.getLogger(RollingUpdate.class);
    /** The policy name of its decisions. */
    static final String POLICY = "rollout";

    /** One update under way (loop thread). */
    static final class Run {
        /** The image it replaces, or null: whatever the outdated replicas boot (an update started by hand). */
        final String from;
        final String to;
        final boolean rollback;
        /** The replica count the group serves with: the update moves around it and comes back to it. */
        final int wanted;
        final Instant started;
        /** Replicas booting {@link #from} (or anything but {@link #to}) when it started. */
        final int total;
        /** New replicas that failed, by name (or the start that failed, in words). */
        final List<String> failures = new ArrayList<>();
        /** Failures acted on. */
        int handled;
        /** The checkpoint (percent replaced) it waits at for {@code ops rollout resume}, or null. */
        Integer waitingAt;
        /** Checkpoints passed. */
        int checkpointsPassed;
        /** What it is doing, in words. */
        String doing = "starting";

        Run(String from, String to, boolean rollback, int wanted, Instant started, int total) {
            this.from = from;
            this.to = to;
            this.rollback = rollback;
            this.wanted = wanted;
            this.started = started;
            this.total = total;
        }

        RuntimeSettings.RolloutKept kept() {
            return new RuntimeSettings.RolloutKept(from, to, rollback, wanted, started.toString());
        }

        String word() {
            return rollback ? "rollback" : "rolling update";
        }
    }

    private final Loop loop;
    private final DecisionLog decisions;
    private final Provisioner provisioner;

    RollingUpdate(Loop loop, DecisionLog decisions, Provisioner provisioner) {
        this.loop = loop;
        this.decisions = decisions;
        this.provisioner = provisioner;
    }

    // ---- starting and ending ----

    /**
     * {@code image POOL/VOLUME}: new replicas boot it from now on and the others are replaced. Refused (an exception
     * saying why, nothing changed) while an update runs, or when the image cannot be booted.
     */
    String start(String image, String by) {
        if (loop.rollout != null) {
            throw new IllegalArgumentException("a " + loop.rollout.word() + " to " + loop.rollout.to + " is under way: "
                    + "'ops rollout cancel' or 'ops rollout rollback' first");
        }
        String from = loop.image;
        if (image.equals(from)) {
            return refresh(by);
        }
        provisioner.useImage(image);
        loop.image = image;
        return begin(from, image, false, by);
    }

    /** {@code rollout start}: replaces the replicas that boot another image than the group's. */
    String refresh(String by) {
        if (loop.rollout != null) {
            throw new IllegalArgumentException("a " + loop.rollout.word() + " to " + loop.rollout.to
                    + " is under way already");
        }
        if (loop.image.isEmpty()) {
            throw new IllegalArgumentException("this group runs the built-in guest: a rolling update replaces replicas "
                    + "booting an image of your own (application.image)");
        }
        if (outdated().isEmpty()) {
            throw new IllegalArgumentException("nothing to replace: every replica boots " + loop.image);
        }
        return begin(loop.previousImage, loop.image, false, by);
    }

    /** The group's spec changed its image from {@code from}: the replicas booting another are replaced. */
    String replaceFrom(String from, String by) {
        return begin(from, loop.image, false, by);
    }

    /** {@code rollout rollback}: back to the image before, itself a rolling update. */
    String rollback(String by, String why) {
        Run run = loop.rollout;
        String back = run != null ? run.from : loop.previousImage;
        if (run != null && run.rollback) {
            throw new IllegalArgumentException("a rollback to " + run.to + " is under way already");
        }
        if (back == null) {
            throw new IllegalArgumentException("no image to roll back to: the group boots " + loop.image
                    + " and no rolling update changed it while this scaler ran");
        }
        provisioner.useImage(back);
        String now = loop.image;
        loop.image = back;
        int wanted = run != null ? run.wanted : loop.fleet.counted();
        loop.rollout = null;
        return begin(now, back, true, by + (why == null ? "" : ": " + why), wanted);
    }

    /** {@code rollout cancel}: stops where it is; new replicas keep booting the new image. */
    String cancel() {
        Run run = loop.rollout;
        if (run == null) {
            throw new IllegalArgumentException("no rolling update is under way");
        }
        loop.rollout = null;
        loop.wanted = run.wanted;
        int left = outdated().size();
        String said = "the operator cancelled the " + run.word() + " to " + run.to + ": " + (run.total - left) + " of "
                + run.total + " replaced; new replicas boot " + run.to + " ('ops rollout start' replaces the other "
                + left + (run.from == null ? "" : ", 'ops rollout rollback' returns to " + run.from) + ")";
        hold("RolloutCancelled", said, run);
        loop.keeper.accept(loop.runtimeSettings());
        return said;
    }

    /** {@code rollout resume}: goes on from a checkpoint. */
    String resume() {
        Run run = loop.rollout;
        if (run == null || run.waitingAt == null) {
            throw new IllegalArgumentException(run == null ? "no rolling update is under way"
                    : "the " + run.word() + " is not waiting at a checkpoint (" + run.doing + ")");
        }
        int at = run.waitingAt;
        run.waitingAt = null;
        run.checkpointsPassed++;
        return "going on from the checkpoint at " + at + " %";
    }

    /** A scaler restarted while an update ran goes on with it. */
    void resumeKept(RuntimeSettings.RolloutKept kept) {
        loop.rollout = new Run(kept.from(), kept.to(), kept.rollback(), kept.wanted(), Instant.parse(kept.started()),
                kept.wanted());
        loop.rollout.doing = "taken over from an earlier scaler";
    }

    private String begin(String from, String to, boolean rollback, String by) {
        return begin(from, to, rollback, by, loop.wanted == null ? loop.fleet.counted() : loop.wanted);
    }

    private String begin(String from, String to, boolean rollback, String by, int wanted) {
        loop.previousImage = rollback ? to : from;
        Run run = new Run(from, to, rollback, wanted, loop.now(), outdated().size());
        loop.rollout = run;
        var rules = loop.config.rollout();
        String said = by + ": " + run.word() + " from " + (from == null ? "other images" : from) + " to " + to + ", " + run.total
                + " replica(s) to replace" + " (" + wanted + " wanted: at least " + rules.fewest(wanted)
                + " READY, at most " + rules.most(wanted) + " in all; bake " + rules.bakeSeconds() + " s"
                + (rollback ? "" : rules.autoRollback() ? "; rolled back if a new one fails" : "")
                + (rules.checkpoints().isEmpty() ? "" : "; checkpoints at " + rules.checkpoints() + " %") + ")";
        hold(rollback ? "RollbackStarted" : "RolloutStarted", said, run);
        loop.keeper.accept(loop.runtimeSettings());
        return said;
    }

    private void complete(Run run, Instant now) {
        loop.rollout = null;
        hold(run.rollback ? "RollbackCompleted" : "RolloutCompleted", "every replica boots " + run.to + ": "
                + run.total + " replaced in " + Duration.between(run.started, now).toSeconds() + " s", run);
        loop.keeper.accept(loop.runtimeSettings());
    }

    // ---- every tick ----

    /** A new replica failed, or could not be started, while an update runs (any state of the fleet). */
    void watch(Instant now) {
        Run run = loop.rollout;
        if (run == null) {
            return;
        }
        for (Fleet.Member m : loop.fleet.in(ReplicaState.FAILED)) {
            if (run.to.equals(loop.images.get(m.domain())) && !run.failures.contains(m.domain())
                    && !m.since().isBefore(run.started)) {
                run.failures.add(m.domain());
                log.info("scaler: {} of the {} failed: {}", m.domain(), run.word(), m.cause());
                failed(run, m.domain() + " (" + run.to + ") failed: " + m.cause(), now);
                return;
            }
        }
        if (run.failures.size() > run.handled) {
            failed(run, run.failures.get(run.failures.size() - 1), now);
        }
    }

    /** A start of a new replica failed before it was defined (an action lane's thread, through the loop). */
    void launchFailed(String why) {
        Run run = loop.rollout;
        if (run != null) {
            run.failures.add("a new replica could not be started: " + why);
        }
    }

    private void failed(Run run, String why, Instant now) {
        run.handled = run.failures.size();
        if (!run.rollback && loop.config.rollout().autoRollback()) {
            try {
                rollback("automatic rollback", why);
                return;
            } catch (IllegalArgumentException e) {
                why = why + "; and it cannot be rolled back: " + e.getMessage();
            }
        }
        loop.rollout = null;
        loop.wanted = run.wanted;
        hold("RolloutFailed", "the " + run.word() + " to " + run.to + " stopped: " + why + "; "
                + (run.total - outdated().size()) + " of " + run.total + " replaced"
                + (run.rollback || run.from == null ? "" : "; 'ops rollout rollback' returns to " + run.from), run);
        loop.keeper.accept(loop.runtimeSettings());
    }

    /**
     * The update's turn instead of the policy's, on a settled fleet with nothing under way: wants one more new
     * replica, or one old replica fewer, or waits (a bake, a checkpoint, no room); finishes when none is old.
     *
     * @return true when it moved the count wanted (the reconciler acts on it now)
     */
    boolean step(Instant now) {
        Run run = loop.rollout;
        if (run == null) {
            return false;
        }
        var rules = loop.config.rollout();
        List<Fleet.Member> old = outdated();
        int n = run.wanted;
        int counted = loop.fleet.counted();
        if (counted < n) {
            return want(n, ScaleAction.UP, "a replica booting " + run.to + " to make up the " + n + " wanted", run);
        }
        if (old.isEmpty()) {
            if (counted > n) {
                return want(n, ScaleAction.DOWN, "back to the " + n + " wanted", run);
            }
            complete(run, now);
            return false;
        }
        if (run.waitingAt != null) {
            return false;
        }
        List<String> baking = loop.fleet.in(ReplicaState.READY).stream().filter(m -> !loop.outdated(m.domain()))
                .filter(m -> m.readyAt() != null && m.readyAt().plusSeconds(rules.bakeSeconds()).isAfter(now))
                .map(Fleet.Member::domain).toList();
        if (!baking.isEmpty()) {
            run.doing = "baking " + String.join(", ", baking) + " (" + rules.bakeSeconds() + " s READY and healthy)";
            return false;
        }
        int replaced = run.total - old.size();
        if (counted == n && run.checkpointsPassed < rules.checkpoints().size() && run.total > 0
                && replaced * 100 >= rules.checkpoints().get(run.checkpointsPassed) * run.total) {
            run.waitingAt = rules.checkpoints().get(run.checkpointsPassed);
            run.doing = "waiting at the checkpoint " + run.waitingAt + " % for 'ops rollout resume'";
            hold("RolloutCheckpoint", replaced + " of " + run.total + " replaced (" + run.waitingAt + " % checkpoint): "
                    + "waiting for 'ops rollout resume'" + (run.from == null ? "" : " ('ops rollout rollback' returns to "
                    + run.from + ")"), run);
            return false;
        }
        if (counted > n) {
            return want(counted - 1, ScaleAction.DOWN, "draining " + candidate(old) + " (boots "
                    + image(candidate(old)) + "), " + (replaced + 1) + " of " + run.total, run);
        }
        int most = rules.most(n);
        Placement.Verdict room = loop.room();
        boolean fits = room == null || !room.full();
        if (most > n && fits) {
            int batch = Math.min(most - n, old.size());
            return want(n + batch, ScaleAction.UP, batch + " new replica(s) booting " + run.to + " before as many "
                    + "old ones drain (at most " + most + " in all)", run);
        }
        int fewest = rules.fewest(n);
        if (n - 1 >= fewest && n >= 1) {
            int batch = Math.min(n - fewest, old.size());
            return want(n - batch, ScaleAction.DOWN, "draining " + batch + " old replica(s) first (" + (fits
                    ? "maxHealthyPercent " + rules.maxHealthyPercent() : "no host has room for one more: "
                    + room.figures()) + "; at least " + fewest + " READY)", run);
        }
        run.doing = "waiting for room";
        decisions.say(ScaleAction.HOLD, "RolloutNoCapacity", "the " + run.word() + " to " + run.to + " waits: "
                + (fits ? "" : "no host has room for a new replica (" + room.figures() + ") and ") + "draining an old "
                + "one first would leave fewer than " + fewest + " READY (minHealthyPercent "
                + rules.minHealthyPercent() + "): lower scaler.rollout.minHealthyPercent, or make room", null);
        return false;
    }

    private boolean want(int count, ScaleAction action, String what, Run run) {
        int counted = loop.fleet.counted();
        run.doing = what;
        loop.wanted = count;
        if (count == counted) {
            return false;
        }
        decisions.publish(new ScaleDecision(action, counted, count, POLICY, run.rollback ? "Rollback" : "RollingUpdate",
                run.word() + " to " + run.to + ": " + what, Map.of("replaced", (double) (run.total - outdated().size()),
                "total", (double) run.total), null));
        return true;
    }

    private void hold(String code, String reason, Run run) {
        int counted = loop.fleet.counted();
        log.info("scaler: {}", reason);
        decisions.publish(new ScaleDecision(ScaleAction.HOLD, counted, counted, POLICY, code, reason,
                Map.of("replaced", (double) Math.max(0, run.total - outdated().size()), "total", (double) run.total),
                null));
    }

    /**
     * The READY replicas booting another image than the group's; a replica protected from scale-in is left as it is
     * (AWS's "ignore" for protected instances).
     */
    List<Fleet.Member> outdated() {
        return loop.fleet.in(ReplicaState.READY).stream()
                .filter(m -> loop.outdated(m.domain()) && !loop.protectedReplicas.contains(m.domain())).toList();
    }

    /** The one a scale-in takes among them (the termination policy's choice, outdated first). */
    private String candidate(List<Fleet.Member> old) {
        return loop.fleet.scaleDownCandidate(loop.config.terminationPolicy(), loop.protectedReplicas,
                provisioner.hosts(), loop::outdated).map(Fleet.Member::domain).orElse(old.get(0).domain());
    }

    private String image(String domain) {
        String image = loop.images.get(domain);
        return image == null ? "an image not marked" : image;
    }

    /** What {@code ops rollout status} and {@code ops status} show. */
    Map<String, Object> status() {
        Map<String, Object> status = new LinkedHashMap<>();
        Run run = loop.rollout;
        status.put("image", loop.image);
        status.put("previousImage", loop.previousImage);
        status.put("outdated", outdated().stream().map(Fleet.Member::domain).toList());
        try {
            status.put("images", provisioner.images());
        } catch (RuntimeException e) {
            status.put("images", List.of()); // the pool could not be listed: nothing to offer
        }
        if (run != null) {
            status.put("from", run.from);
            status.put("to", run.to);
            status.put("rollback", run.rollback);
            status.put("started", run.started.toString());
            status.put("wanted", run.wanted);
            status.put("total", run.total);
            status.put("replaced", Math.max(0, run.total - outdated().size()));
            status.put("doing", run.doing);
            status.put("waitingAt", run.waitingAt);
            status.put("failures", List.copyOf(run.failures));
        }
        return status;
    }
}
