package io.vmscale.scaler;

import static io.vmscale.scaler.ScalerHarness.name;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.scaler.health.HealthCheckConfig;
import io.vmscale.scaler.provision.ApplicationConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rolling updates ({@code ops image}, {@code ops rollout}): replicas of the old image replaced in batches with the
 * group never below its healthy minimum, a broken image rolled back, checkpoints, a scaler restarted midway, and the
 * refusals; over a fake hypervisor whose VMs are real guest servers on loopback.
 */
class RollingUpdateTest {
    private static final Duration SOON = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private static ApplicationConfig image(String image) {
        return new ApplicationConfig(image, "", "", "", 1, 512, "", 21001, "udp", HealthCheckConfig.UDP_WIRE, 0, "", 30,
                "continue", "");
    }

    /** Two replicas of images/base.qcow2, READY, under a scaler with these rollout settings. */
    private ScalerHarness twoReplicas(FakeHypervisor fake, ScalerConfig.RolloutConfig rollout) throws Exception {
        fake.pool("images", "base.qcow2", "v2.qcow2", "broken.qcow2");
        fake.broken("broken.qcow2");
        ScalerHarness h = new ScalerHarness(dir, fake, 2, 4, 0, image("images/base.qcow2"));
        h.awaitReady(2); // killed mid-start, the next scaler would number its replicas otherwise
        h.kill();
        h.start(h.config.toBuilder().rollout(rollout).build());
        h.awaitReady(2);
        return h;
    }

    @Test
    void aGroupDeletedDuringARolloutWaitsForNoStartAndLeavesNoDomainNorVolume() throws Exception {
        FakeHypervisor fake = new FakeHypervisor(4);
        try (ScalerHarness h = twoReplicas(fake, ScalerConfig.RolloutConfig.DEFAULTS)) {
            assertThat(h.command("image", "images/broken.qcow2").ok()).isTrue();
            String booting = name(2);
            await().atMost(Duration.ofSeconds(10)).until(() -> h.state(booting) == ReplicaState.STARTING);
            // its application never answers: the deletion does not wait for its probe (5 s here)
            long t0 = System.nanoTime();
            h.scaler.retire("the operator deleted the group").get(20, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
            assertThat(h.lifecycle()).filteredOn(v -> v.domain().equals(booting) && v.state() == ReplicaState.FAILED)
                    .extracting(VmLifecycle::reason)
                    .containsExactly("abandoned: the group is being deleted (its start is not waited for)");
            assertThat(h.decisions()).anyMatch(d -> d.reasonCode().equals("GroupDeleted") && d.toReplicas() == 0);
            assertThat(h.decisions()).noneMatch(d -> d.action() == ScaleAction.REPLACE);
            assertThat(fake.names()).isEmpty();
            assertThat(fake.pool("images").keySet()).containsOnly("base.qcow2", "v2.qcow2", "broken.qcow2");
            assertThat(h.command("scale", "1").message()).startsWith("the group is being deleted");
        }
    }

    /** The base image each running replica's overlay was made from. */
    private static Set<String> basesRunning(FakeHypervisor fake) {
        Set<String> bases = new HashSet<>();
        for (String domain : fake.names()) {
            byte[] overlay = fake.pool("images").get(domain + ".qcow2");
            if (fake.running(domain) && overlay != null) {
                bases.add(new String(overlay, java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        return bases;
    }

    private static boolean said(ScalerHarness h, String code) {
        return h.decisions().stream().anyMatch(d -> d.reasonCode().equals(code));
    }

    /** The fewest READY and the most READY or STARTING replicas at any moment after the first event of {@code from}. */
    private static int[] bounds(List<Event> events, int from) {
        Set<String> ready = new HashSet<>();
        Set<String> counted = new HashSet<>();
        int fewest = Integer.MAX_VALUE;
        int most = 0;
        for (int i = 0; i < events.size(); i++) {
            if (!(events.get(i) instanceof VmLifecycle v)) {
                continue;
            }
            switch (v.state()) {
                case READY -> {
                    ready.add(v.domain());
                    counted.add(v.domain());
                }
                case STARTING -> counted.add(v.domain());
                default -> {
                    ready.remove(v.domain());
                    counted.remove(v.domain());
                }
            }
            if (i >= from) {
                fewest = Math.min(fewest, ready.size());
                most = Math.max(most, counted.size());
            }
        }
        return new int[] {fewest, most};
    }

    @Test
    void aNewImageReplacesEveryReplicaNewOnesFirstAndTheGroupNeverHasFewerReadyThanWanted() throws Exception {
        FakeHypervisor fake = new FakeHypervisor(8);
        try (ScalerHarness h = twoReplicas(fake, new ScalerConfig.RolloutConfig(100, 150, 1, true, List.of()))) {
            int from = h.published.size();
            AdminResult set = h.command("image", "images/v2.qcow2");
            assertThat(set.ok()).as(set.message()).isTrue();
            assertThat(set.message()).contains("from images/base.qcow2 to images/v2.qcow2, 2 replica(s) to replace")
                    .contains("at least 2 READY, at most 3 in all");
            await().atMost(SOON).until(() -> said(h, "RolloutCompleted"));

            assertThat(basesRunning(fake)).containsExactly("v2.qcow2");
            h.awaitReady(2);
            int[] bounds = bounds(h.published, from);
            assertThat(bounds[0]).as("READY replicas at the fewest (minHealthyPercent 100 of 2)").isEqualTo(2);
            assertThat(bounds[1]).as("replicas at the most (maxHealthyPercent 150 of 2)").isEqualTo(3);
            List<ScaleDecision> steps = h.actions().stream().filter(d -> d.policy().equals(RollingUpdate.POLICY))
                    .toList();
            assertThat(steps).extracting(ScaleDecision::action).containsExactly(ScaleAction.UP, ScaleAction.DOWN,
                    ScaleAction.UP, ScaleAction.DOWN); // a new one first, then an old one drained, twice
            assertThat(steps.get(1).reason()).contains("draining " + name(1) + " (boots images/base.qcow2), 1 of 2");
            assertThat(steps.get(3).reason()).contains("draining " + name(0) + " (boots images/base.qcow2), 2 of 2");
            assertThat(h.command("rollout", "status").message()).contains("no rolling update under way; new replicas "
                    + "boot images/v2.qcow2");
            AdminResult again = h.command("rollout", "start");
            assertThat(again.ok()).isFalse();
            assertThat(again.message()).isEqualTo("nothing to replace: every replica boots images/v2.qcow2");
        }
    }

    /**
     * A group's spec changed ({@code ops group change}): its scaler hands over once the start under way ends, the next
     * one (the new spec) takes the replicas back without restarting one and rolls the spec's new image out to them.
     */
    @Test
    void aSpecChangedHandsOverAfterTheActionUnderWayAndRollsTheNewImageOut() throws Exception {
        FakeHypervisor fake = new FakeHypervisor(8);
        try (ScalerHarness h = twoReplicas(fake, new ScalerConfig.RolloutConfig(100, 150, 0, true, List.of()))) {
            assertThat(h.command("protect", name(0), "on").ok()).isTrue();
            fake.holdStarts(); // a slow host: the start is under way when the spec changes
            assertThat(h.command("scale", "3").ok()).isTrue();
            await().atMost(SOON).until(() -> fake.startWaiting);
            java.util.concurrent.CompletableFuture<RuntimeSettings> handed = h.scaler.handOver();
            assertThat(handed).as("not before the start under way ends").isNotCompleted();
            fake.releaseStarts();
            RuntimeSettings carried = handed.get(30, java.util.concurrent.TimeUnit.SECONDS);
            // handed over once the start under way ended: its replica READY, nothing failed
            assertThat(h.state(name(2))).isEqualTo(ReplicaState.READY);
            assertThat(h.scaler.handOver()).failsWithin(Duration.ofSeconds(5))
                    .withThrowableOfType(java.util.concurrent.ExecutionException.class)
                    .withMessageContaining("the group is being changed already");
            assertThat(carried.protectedReplicas()).containsExactly(name(0));
            Scaler before = h.scaler;
            int from = h.published.size();

            h.kept.set(carried);
            h.handOver = true;
            h.provisioner.useImage("images/v2.qcow2"); // the new spec's provisioner and application
            h.app = image("images/v2.qcow2");
            h.start(h.config.withLimits(1, 5));
            before.close();
            h.scaler.rollOutFrom("images/base.qcow2", "the operator changed the group's image");
            await().atMost(SOON).until(() -> said(h, "RolloutCompleted"));
            h.awaitReady(3);

            // the protected replica is kept (as ops rollout does); every other one boots the new image
            assertThat(h.scaler.runtimeSettings().protectedReplicas()).containsExactly(name(0));
            assertThat(h.scaler.runtimeSettings().maxReplicas()).isEqualTo(5);
            ScaleDecision started = h.decisions().stream().filter(d -> d.reasonCode().equals("RolloutStarted"))
                    .findFirst().orElseThrow();
            assertThat(started.reason()).contains("from images/base.qcow2 to images/v2.qcow2, 2 replica(s) to replace");
            // taken back, not restarted: no replica left serving before the update drained it
            int rollout = h.published.indexOf(started);
            assertThat(h.published.subList(from, rollout)).noneMatch(e -> e instanceof VmLifecycle v
                    && (v.state() == ReplicaState.DRAINING || v.state() == ReplicaState.STOPPING
                    || v.state() == ReplicaState.FAILED));
            assertThat(bounds(h.published, from)[0]).as("READY replicas at the fewest").isEqualTo(3);
            assertThat(h.command("rollout", "status").message()).contains("new replicas boot images/v2.qcow2");
        }
    }

    @Test
    void aBrokenImageIsRolledBackAtItsFirstFailedReplicaAndNoOldReplicaEverLeft() throws Exception {
        FakeHypervisor fake = new FakeHypervisor(8);
        try (ScalerHarness h = twoReplicas(fake, new ScalerConfig.RolloutConfig(100, 150, 1, true, List.of()))) {
            assertThat(h.command("image", "images/broken.qcow2").ok()).isTrue();
            await().atMost(SOON).until(() -> said(h, "RollbackCompleted"));

            ScaleDecision back = h.decisions().stream().filter(d -> d.reasonCode().equals("RollbackStarted"))
                    .findFirst().orElseThrow();
            assertThat(back.reason()).startsWith("automatic rollback: " + name(2) + " (images/broken.qcow2) failed: "
                    + "not healthy within 5 s").contains("rollback from images/broken.qcow2 to images/base.qcow2");
            assertThat(h.lifecycle()).filteredOn(v -> v.domain().equals(name(0)) || v.domain().equals(name(1)))
                    .extracting(VmLifecycle::state).containsOnly(ReplicaState.STARTING, ReplicaState.READY);
            assertThat(h.scaler.replicas()).containsOnlyKeys(name(0), name(1));
            assertThat(basesRunning(fake)).containsExactly("base.qcow2");
            assertThat(h.provisioner.image()).as("new replicas boot the old image again").isEqualTo("images/base.qcow2");
            assertThat(h.decisions()).noneMatch(d -> d.reasonCode().equals("RolloutCompleted"));
        }
    }

    @Test
    void aCheckpointWaitsForTheOperatorAndAScalerRestartedThereGoesOnWithTheUpdate() throws Exception {
        FakeHypervisor fake = new FakeHypervisor(8);
        try (ScalerHarness h = twoReplicas(fake, new ScalerConfig.RolloutConfig(50, 100, 0, true, List.of(50)))) {
            h.handOver = true;
            assertThat(h.command("rollout", "resume").message()).isEqualTo("no rolling update is under way");
            AdminResult set = h.command("image", "images/v2.qcow2");
            assertThat(set.message()).contains("at least 1 READY, at most 2 in all");
            await().atMost(SOON).until(() -> said(h, "RolloutCheckpoint"));
            assertThat(basesRunning(fake)).containsExactlyInAnyOrder("base.qcow2", "v2.qcow2");
            assertThat(h.command("image", "images/base.qcow2").message()).startsWith("a rolling update to "
                    + "images/v2.qcow2 is under way");

            h.kill(); // a new scaler takes over with what the old one kept: the image and the update under way
            h.published.clear();
            h.start();
            h.awaitReady(2);
            await().atMost(SOON).until(() -> said(h, "RolloutCheckpoint"));
            assertThat(h.command("rollout", "status").message()).contains("1 of 2 replaced").contains("waiting at the "
                    + "checkpoint 50 %");
            assertThat(h.command("rollout", "resume").ok()).isTrue();
            await().atMost(SOON).until(() -> said(h, "RolloutCompleted"));
            assertThat(basesRunning(fake)).containsExactly("v2.qcow2");
            h.awaitReady(2);
            // the update drained first (maxHealthyPercent 100): never more than two, never fewer than one READY
            assertThat(bounds(h.published, 0)[1]).isEqualTo(2);
        }
    }

    @Test
    void anOperatorCancelsThenRollsBackAndImagesThatCannotBootAreRefused() throws Exception {
        FakeHypervisor fake = new FakeHypervisor(8);
        try (ScalerHarness h = twoReplicas(fake, new ScalerConfig.RolloutConfig(50, 100, 0, true, List.of(50)))) {
            assertThat(h.command("image", "other/v2.qcow2").message()).isEqualTo("image other/v2.qcow2 is in the "
                    + "storage pool 'other'; the group's replicas' disks are in 'images': a new image must be in the "
                    + "same pool");
            assertThat(h.command("image", "images/v3.qcow2").message()).isEqualTo("no base image 'v3.qcow2' in the "
                    + "storage pool 'images' on fake:/// ('virsh vol-list images')");
            assertThat(h.command("image", "not an image").message()).contains("POOL/VOLUME");
            assertThat(h.command("rollout", "sideways").message()).startsWith("rollout takes status, start, cancel");
            assertThat(h.command("rollout", "rollback").message()).startsWith("no image to roll back to");
            assertThat(h.provisioner.image()).isEqualTo("images/base.qcow2");

            assertThat(h.command("image", "images/v2.qcow2").ok()).isTrue();
            await().atMost(SOON).until(() -> said(h, "RolloutCheckpoint"));
            AdminResult cancel = h.command("rollout", "cancel");
            assertThat(cancel.message()).contains("1 of 2 replaced; new replicas boot images/v2.qcow2");
            assertThat(h.command("rollout", "status").message()).contains("1 replica(s) boot another image");

            assertThat(h.command("rollout", "rollback").ok()).isTrue();
            await().atMost(SOON).until(() -> said(h, "RollbackCompleted"));
            assertThat(basesRunning(fake)).containsExactly("base.qcow2");
            h.awaitReady(2);
        }
    }

    @Test
    void aGroupOfTheBuiltInGuestHasNoImageToChange() throws Exception {
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(4), 1, 2, 0)) {
            h.awaitReady(1);
            assertThat(h.command("image", "images/v2.qcow2").message()).startsWith("this group runs the built-in guest");
            assertThat(h.command("rollout", "start").message()).startsWith("this group runs the built-in guest");
        }
    }
}
