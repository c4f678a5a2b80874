package io.vmscale.scaler;

import static io.vmscale.scaler.ScalerHarness.MARK;
import static io.vmscale.scaler.ScalerHarness.PREFIX;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.scaler.health.HealthCheckConfig;
import io.vmscale.scaler.provision.ApplicationConfig;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scaler as a reconciler, scenario by scenario, over a fake hypervisor whose VMs are real guest
 * servers on loopback: libvirt is the truth, events only make it look sooner, nothing is done twice
 * and nothing is left behind.
 */
class ScalerScenarioTest {
    private static final Duration SOON = Duration.ofSeconds(15);

    @TempDir
    Path dir;

    private static String name(int n) {
        return PREFIX + "-000" + n;
    }

    @Test
    void aReplicaThatDiedUnseenIsFailedAndReplacedByTheNextLookAtLibvirt() throws Exception {
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(4), 1, 3, 2)) {
            h.awaitReady(1);
            h.hypervisor.crash(name(0)); // no STOPPED event reaches the scaler
            // failed, removed, and a new one under the freed name
            await().atMost(SOON).until(() -> h.saw(name(0), ReplicaState.FAILED) && h.count(name(0), ReplicaState.READY) == 2);
            assertThat(h.actions()).extracting(d -> d.action() + " " + d.reasonCode())
                    .containsExactly("UP BelowMinReplicas", "REPLACE ReplicaFailed");
            assertThat(h.hypervisor.calls()).filteredOn(c -> !c.startsWith("start"))
                    .containsExactly("define " + name(0), "destroy " + name(0), "undefine " + name(0), "define " + name(0));
            assertThat(h.hypervisor.names()).containsExactly(name(0));
            assertThat(h.hypervisor.running(name(0))).isTrue();
        }
    }

    @Test
    void aReplicaWhoseApplicationStopsAnsweringFailsItsChecksAndIsReplacedWhileLibvirtSaysItRuns() throws Exception {
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(4), 1, 3, 2,
                new HealthCheckConfig("udp-wire", "/", 200, 399, 200, 100, 1, 3, 0))) {
            h.awaitReady(1);
            await().atMost(SOON).until(() -> String.valueOf(replicaStatus(h, name(0)).get("check")).startsWith("passed"));
            h.hypervisor.hang(name(0)); // the VM runs on, its service answers nothing
            await().atMost(SOON).until(() -> h.saw(name(0), ReplicaState.FAILED) && h.count(name(0), ReplicaState.READY) == 2);
            assertThat(h.lifecycle()).filteredOn(v -> v.state() == ReplicaState.FAILED).extracting(VmLifecycle::reason)
                    .containsExactly("failed: health check failed 3 time(s) in a row (udp-wire): no answer in 100 ms");
            assertThat(h.actions()).extracting(d -> d.action() + " " + d.reasonCode())
                    .containsExactly("UP BelowMinReplicas", "REPLACE ReplicaFailed");
            assertThat(h.hypervisor.calls()).filteredOn(c -> !c.startsWith("start"))
                    .containsExactly("define " + name(0), "destroy " + name(0), "undefine " + name(0), "define " + name(0));
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> replicaStatus(ScalerHarness h, String domain) {
        List<Map<String, Object>> replicas = (List<Map<String, Object>>) h.command("status").data().get("replicas");
        return replicas.stream().filter(r -> domain.equals(r.get("domain"))).findFirst().orElse(Map.of());
    }

    @Test
    void whileLibvirtIsAwayNothingIsDecidedAndADeathMeanwhileIsSeenWhenItAnswers() throws Exception {
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(4), 1, 3, 2)) {
            h.awaitReady(1);
            h.hypervisor.reachable(false);
            await().atMost(SOON).until(() -> h.held("HypervisorUnreachable"));
            h.hypervisor.crash(name(0));
            int before = h.decisions().size();
            h.hypervisor.reachable(true);
            await().atMost(SOON).until(() -> h.count(name(0), ReplicaState.READY) == 2 && h.ready() == 1);
            assertThat(h.decisions().subList(before, h.decisions().size())).filteredOn(d -> d.action() != ScaleAction.HOLD)
                    .extracting(ScaleDecision::reasonCode).containsExactly("ReplicaFailed");
        }
    }

    @Test
    void aHostPortAnotherProcessHoldsIsSkippedForTheNextFreeOne() throws Exception {
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(4), 0, 2, 1);
             DatagramSocket taken = new DatagramSocket(new InetSocketAddress("127.0.0.1", h.hostPortBase))) {
            // what another group's QEMU forwarding (a running ./vmscale up) does to the port replica 0 would get
            assertThat(h.command("scale", "1").ok()).isTrue();
            h.awaitReady(1);
            assertThat(h.endpoint(name(0))).isEqualTo("127.0.0.1:" + (h.hostPortBase + 1));
            assertThat(h.held("ActionFailed")).as("no start tried on the taken port").isFalse();
            assertThat(taken.isBound()).isTrue();
        }
    }

    @Test
    void aFailedDestroyKeepsTheReplicaStoppingAndIsTriedAgainUntilItIsGone() throws Exception {
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(4), 1, 3, 1)) {
            h.awaitReady(1);
            assertThat(h.command("scale", "2").ok()).isTrue();
            h.awaitReady(2);
            h.hypervisor.failNext("destroy", 2);
            assertThat(h.command("scale", "1").ok()).isTrue();
            await().atMost(SOON).until(() -> h.held("ActionFailed"));
            assertThat(h.scaler.replicas()).containsEntry(name(1), ReplicaState.STOPPING);
            assertThat(h.hypervisor.running(name(1))).isTrue();
            await().atMost(SOON).until(() -> h.saw(name(1), ReplicaState.STOPPED));
            assertThat(h.hypervisor.names()).containsExactly(name(0));
            assertThat(h.hypervisor.calls()).filteredOn(c -> c.equals("destroy " + name(1))).hasSize(3);
        }
    }

    @Test
    void aDomainNamedLikeOursWithoutTheMarkIsLeftAloneAndItsNumberSkipped() throws Exception {
        FakeHypervisor hypervisor = new FakeHypervisor(4);
        hypervisor.defineByHand(name(0), null, true, 0);
        try (ScalerHarness h = new ScalerHarness(dir, hypervisor, 1, 3, 2)) {
            h.awaitReady(1);
            assertThat(h.scaler.replicas()).containsOnlyKeys(name(1));
            assertThat(h.decisions()).filteredOn(d -> d.reasonCode().equals("ForeignDomain")).hasSize(1)
                    .allMatch(d -> d.domain().equals(name(0)));
            h.kill();
            h.start(); // a restart takes back its own replica, not the foreign one, and starts nothing
            await().atMost(SOON).until(() -> h.ready() == 1);
            assertThat(h.scaler.replicas()).containsOnlyKeys(name(1));
            assertThat(h.hypervisor.calls()).noneMatch(c -> c.endsWith(" " + name(0)));
            assertThat(h.hypervisor.running(name(0))).isTrue();
            assertThat(h.hypervisor.calls()).filteredOn(c -> c.startsWith("define")).hasSize(1);
        }
    }

    @Test
    void killedMidScaleUpTheNextScalerTakesBackWhatRunsAndRemovesWhatWasLeftHalfMade() throws Exception {
        FakeHypervisor hypervisor = new FakeHypervisor(4);
        try (ScalerHarness h = new ScalerHarness(dir, hypervisor, 2, 3, 2)) {
            await().atMost(SOON).until(() -> h.saw(name(0), ReplicaState.STARTING));
            h.kill(); // mid scale-up: one replica started, not yet READY, the second not started
            // the crash left a definition behind too: defined, never started
            hypervisor.defineByHand(name(5), MARK.replace("number='0'", "number='5'"), false, 0);
            int before = h.lifecycle().size();
            h.start();
            h.awaitReady(2);
            assertThat(h.lifecycle().subList(before, h.lifecycle().size())).filteredOn(v -> v.state() == ReplicaState.READY)
                    .extracting(VmLifecycle::reason).contains("found running, passed its health check");
            await().atMost(SOON).until(() -> !hypervisor.defined(name(5)));
            assertThat(hypervisor.names()).hasSize(2).allMatch(hypervisor::running);
            assertThat(h.scaler.replicas()).containsOnlyKeys(hypervisor.names().toArray(String[]::new));
        }
    }

    @Test
    void theNextScalerGoesOnWithWhatOperatorsChangedUnlessTheFileChangedSince() throws Exception {
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(4), 1, 3, 2)) {
            h.handOver = true;
            h.awaitReady(1);
            assertThat(h.command("pause").ok()).isTrue();
            assertThat(h.command("min", "2").ok()).isTrue();
            assertThat(h.command("policy", "target-tracking").ok()).isTrue();
            assertThat(h.kept.get()).isEqualTo(new RuntimeSettings(RuntimeSettings.base(h.config), true, false, 2, 3,
                    "target-tracking", 0, h.config.warmPool().tier(), List.of()));
            h.kill();
            h.start(); // a standby taking over: the same file, the kept changes (paused: it does not act on min)
            await().atMost(Duration.ofSeconds(15)).until(() -> h.command("status").message(),
                    m -> m.equals("1 replica(s), target-tracking 2..3, paused"));
            assertThat(h.command("resume").ok()).isTrue();
            h.awaitReady(2);
            // the file changed meanwhile (its max): its values win, the kept ones are dropped
            h.kill();
            h.start(h.config.withLimits(1, 4));
            assertThat(h.command("status").message()).contains("threshold-window 1..4").doesNotContain("paused");
        }
    }

    @Test
    void aReplacementQueuedBehindAScaleUpIsTheOnlyExtraStart() throws Exception {
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(4), 1, 3, 2)) {
            h.awaitReady(1);
            assertThat(h.command("scale", "2").ok()).isTrue();
            await().atMost(SOON).until(() -> h.saw(name(1), ReplicaState.STARTING));
            h.hypervisor.crash(name(0)); // while the UP is under way
            await().atMost(SOON).until(() -> h.ready() == 2 && h.scaler.replicas().size() == 2);
            assertThat(h.hypervisor.calls()).filteredOn(c -> c.startsWith("start")).hasSize(3);
            assertThat(h.actions()).filteredOn(d -> d.action() == ScaleAction.REPLACE).hasSize(1);
            assertThat(h.actions()).filteredOn(d -> d.action() == ScaleAction.UP).hasSize(2); // min, operator
        }
    }

    @Test
    void bootCpuUnderLowLoadIsNotLoad() throws Exception {
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(4), 1, 3, 2)) {
            h.awaitReady(1);
            long until = System.nanoTime() + Duration.ofMillis(900).toNanos(); // the 1 s warm-up: a booting JVM's CPU
            while (System.nanoTime() < until) {
                h.sample(100);
                await().pollDelay(Duration.ofMillis(100)).until(() -> true);
            }
            await().atMost(SOON).until(() -> {
                h.sample(10); // then the real load, low
                return h.held("AtMinReplicas");
            });
            assertThat(h.held("WarmingUp")).isTrue();
            assertThat(h.actions()).extracting(ScaleDecision::reasonCode).containsExactly("BelowMinReplicas");
        }
    }

    /**
     * The balancer keeps a replica saturated for a few seconds to measure its capacity: while its stats mark the
     * replica calibrating, and for the sample interval after, its CPU is the measurement's. The same 100 % for
     * longer than the policy's window is a scale-up without the mark.
     */
    @Test
    void aReplicaTheBalancerIsMeasuringIsNotLoad() throws Exception {
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(4), 1, 3, 2)) {
            h.awaitReady(1);
            await().atMost(SOON).until(() -> {
                h.sample(10); // warm, low load
                return h.held("AtMinReplicas");
            });
            String endpoint = h.endpoint(name(0));
            h.calibrating(endpoint, true);
            long until = System.nanoTime() + Duration.ofMillis(1500).toNanos(); // longer than the 1 s window
            while (System.nanoTime() < until) {
                h.sample(100);
                await().pollDelay(Duration.ofMillis(100)).until(() -> true);
            }
            h.calibrating(endpoint, false);
            int before = h.decisions().size();
            await().atMost(SOON).until(() -> {
                h.sample(10);
                return h.decisions().size() > before && h.held("AtMinReplicas");
            });
            assertThat(h.actions()).extracting(ScaleDecision::reasonCode).containsExactly("BelowMinReplicas");

            int ups = h.actions().size(); // and without the mark, the same CPU is load
            await().atMost(SOON).until(() -> {
                h.sample(100);
                return h.actions().size() > ups;
            });
            assertThat(h.actions().get(ups).action()).isEqualTo(ScaleAction.UP);
        }
    }

    @Test
    void aDrainEndsOnlyOnTheBalancersAcknowledgement() throws Exception {
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(4), 1, 3, 10)) {
            twoThenOne(h);
            await().atMost(SOON).until(() -> h.saw(name(1), ReplicaState.DRAINING));
            String endpoint = h.lifecycle().stream().filter(v -> v.domain().equals(name(1)) && v.endpoint() != null)
                    .findFirst().orElseThrow().endpoint().toString();
            h.lbStats(endpoint, 0, false); // built before the balancer handled DRAINING: nothing in flight, by chance
            h.lbStats(endpoint, 3, true); // acknowledged, three still in flight
            assertThat(h.scaler.replicas()).containsEntry(name(1), ReplicaState.DRAINING);
            h.lbStats(endpoint, 0, true);
            await().atMost(SOON).until(() -> h.saw(name(1), ReplicaState.STOPPED));
            assertThat(h.lifecycle()).filteredOn(v -> v.state() == ReplicaState.STOPPING).singleElement()
                    .satisfies(v -> assertThat(v.reason()).contains("acknowledged"));
        }
    }

    @Test
    void aScaleInShutsTheGuestDownByAcpiAndDestroysOneThatIgnoresItAfterTheStopTimeout() throws Exception {
        ApplicationConfig graceful = new ApplicationConfig(HealthCheckConfig.UDP_WIRE, 1, "", 30, "continue");
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(4), 1, 3, 10, graceful)) {
            twoThenOne(h);
            acknowledgeDrainOf(h, name(1));
            await().atMost(SOON).until(() -> h.saw(name(1), ReplicaState.STOPPED));
            assertThat(stoppedReason(h, name(1))).matches("scale down; shut down \\(ACPI\\) in \\d+\\.\\d s");
            assertThat(h.hypervisor.calls()).contains("shutdown " + name(1)).doesNotContain("destroy " + name(1));

            h.hypervisor.ignoresAcpi(true); // the next replica is the built-in guest's kind: deaf to the power button
            twoThenOne(h);
            acknowledgeDrainOf(h, name(1));
            await().atMost(SOON).until(() -> h.count(name(1), ReplicaState.STOPPED) == 2);
            assertThat(h.lifecycle()).filteredOn(v -> v.domain().equals(name(1)) && v.state() == ReplicaState.STOPPED)
                    .last().extracting(VmLifecycle::reason)
                    .isEqualTo("scale down; destroyed: still running 1 s after the ACPI shutdown request");
            assertThat(h.hypervisor.calls()).contains("destroy " + name(1));
        }
    }

    @Test
    void aTerminationHookRunsBetweenTheDrainAndTheShutdownAndItsAbandonDestroysAtOnce() throws Exception {
        Path told = dir.resolve("told.json");
        Path hook = dir.resolve("hook");
        java.nio.file.Files.writeString(hook, "#!/bin/sh\ncat > " + told + "\necho 'deregistered, but says no'\nexit 3\n");
        hook.toFile().setExecutable(true);
        ApplicationConfig app = new ApplicationConfig(HealthCheckConfig.UDP_WIRE, 30, hook.toString(), 5, "continue");
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(4), 1, 3, 10, app)) {
            twoThenOne(h);
            acknowledgeDrainOf(h, name(1));
            await().atMost(SOON).until(() -> h.saw(name(1), ReplicaState.STOPPED));
            assertThat(h.lifecycle()).filteredOn(v -> v.state() == ReplicaState.STOPPING).singleElement()
                    .extracting(VmLifecycle::reason).asString()
                    .matches("drained: .*; termination hook exit 3 in \\d+ ms: deregistered, but says no: abandon");
            assertThat(stoppedReason(h, name(1))).isEqualTo("scale down; destroyed");
            assertThat(h.hypervisor.calls()).doesNotContain("shutdown " + name(1));
            assertThat(java.nio.file.Files.readString(told)).contains("\"event\":\"terminating\"")
                    .contains("\"domain\":\"" + name(1) + "\"");
        }
    }

    private static ApplicationConfig ownImage(String image) {
        return new ApplicationConfig(image, "", "", "", 1, 512, "user-data", 21001, "udp", HealthCheckConfig.UDP_WIRE, 0,
                "", 30, "continue", "");
    }

    @Test
    void aReplicaOfAnImageBootsItsOwnOverlayAndSeedWhichGoWithItAndWhatACrashLeftIsSwept() throws Exception {
        java.nio.file.Files.writeString(dir.resolve("user-data"), "#cloud-config\nruncmd:\n  - [echo, hello]\n");
        FakeHypervisor fake = new FakeHypervisor(4);
        fake.pool("images", "base.qcow2", name(5) + ".qcow2"); // scn-0005's overlay, left by a crash: no domain
        try (ScalerHarness h = new ScalerHarness(dir, fake, 1, 3, 10, ownImage("images/base.qcow2"))) {
            h.awaitReady(1);
            assertThat(fake.pool("images")).containsOnlyKeys("base.qcow2", name(0) + ".qcow2", name(0) + "-seed.iso");
            assertThat(new String(fake.pool("images").get(name(0) + ".qcow2"))).as("its backing store").isEqualTo("base.qcow2");
            String seed = new String(fake.pool("images").get(name(0) + "-seed.iso"), java.nio.charset.StandardCharsets.ISO_8859_1);
            assertThat(seed).contains("CD001").contains("cidata").contains("instance-id: " + name(0) + "\nlocal-hostname: "
                    + name(0) + "\n").contains("#cloud-config\nruncmd:\n  - [echo, hello]\n");
            twoThenOne(h);
            acknowledgeDrainOf(h, name(1));
            await().atMost(SOON).until(() -> h.saw(name(1), ReplicaState.STOPPED));
            assertThat(fake.pool("images")).containsOnlyKeys("base.qcow2", name(0) + ".qcow2", name(0) + "-seed.iso");
        }
    }

    @Test
    void onANatNetworkAReplicaIsProbedOnlyOnceItsLeaseGivesItAnAddress() throws Exception {
        FakeHypervisor fake = new FakeHypervisor(4);
        int guestPort = freeUdpPort();
        try (ScalerHarness h = ScalerHarness.nat(dir, fake, guestPort)) {
            // the guest answers already (on 127.0.0.1, which a probe of 0.0.0.0 would reach): only the lease may let it in
            await().atMost(SOON).until(() -> fake.leaseLookups.get() >= 3);
            assertThat(h.state(name(0))).isEqualTo(ReplicaState.STARTING);
            fake.lease(name(0), "127.0.0.1");
            await().atMost(SOON).until(() -> h.state(name(0)) == ReplicaState.READY);
            assertThat(h.endpoint(name(0))).isEqualTo("127.0.0.1:" + guestPort);
        }
    }

    @Test
    void onANatNetworkNoLeaseWithinTheProbeDeadlineIsTheReasonItFailed() throws Exception {
        FakeHypervisor fake = new FakeHypervisor(4);
        try (ScalerHarness h = ScalerHarness.nat(dir, fake, freeUdpPort())) {
            await().atMost(SOON).until(() -> h.saw(name(0), ReplicaState.FAILED));
            assertThat(h.lifecycle()).filteredOn(v -> v.domain().equals(name(0)) && v.state() == ReplicaState.FAILED)
                    .first().extracting(VmLifecycle::reason).asString()
                    .contains("no address: the NAT network gave it no DHCP lease");
            assertThat(h.saw(name(0), ReplicaState.READY)).isFalse();
        }
    }

    private static int freeUdpPort() throws java.io.IOException {
        try (java.net.DatagramSocket s = new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void anOperatorDrainsOneReplicaAndReplacesAnotherWhichIsStartedAgainInItsPlace() throws Exception {
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(4), 1, 3, 10)) {
            h.awaitReady(1);
            assertThat(h.command("drain", name(0)).message()).contains("would leave 0 replica(s), below min 1");
            assertThat(h.command("scale", "2").ok()).isTrue();
            h.awaitReady(2);
            await().atMost(SOON).until(() -> h.decisions().stream().anyMatch(d -> d.reasonCode().equals("OperatorScaleReached")));
            assertThat(h.command("drain", "scn-0042").message()).contains("is not a replica of this group");

            // drain: that one goes, one fewer wanted, nothing started in its place
            var drained = h.command("drain", name(0));
            assertThat(drained.ok()).as(drained.message()).isTrue();
            acknowledgeDrainOf(h, name(0));
            await().atMost(SOON).until(() -> h.saw(name(0), ReplicaState.STOPPED));
            assertThat(h.lifecycle()).filteredOn(v -> v.domain().equals(name(0)) && v.state() == ReplicaState.DRAINING)
                    .extracting(VmLifecycle::reason).containsExactly("drained by the operator");
            assertThat(h.decisions()).anyMatch(d -> d.reasonCode().equals("OperatorDrain") && d.toReplicas() == 1);

            // replace: a new replica starts while the old one drains, the count stays
            var replaced = h.command("replace", name(1));
            assertThat(replaced.ok()).as(replaced.message()).isTrue();
            await().atMost(SOON).until(() -> h.state(name(1)) == ReplicaState.DRAINING);
            await().atMost(SOON).until(() -> h.count(name(0), ReplicaState.READY) == 2); // its number is free again
            h.lbStats(h.endpoint(name(1)), 0, true);
            await().atMost(SOON).until(() -> h.saw(name(1), ReplicaState.STOPPED));
            assertThat(h.decisions()).anyMatch(d -> d.reasonCode().equals("OperatorReplace") && d.toReplicas() == 1);
            assertThat(h.lifecycle()).filteredOn(v -> v.domain().equals(name(1)) && v.state() == ReplicaState.STOPPED)
                    .extracting(VmLifecycle::reason).first().asString().startsWith("replaced by the operator");
        }
    }

    @Test
    void aMissingBaseImageIsAClearReasonAndLeavesNothingBehind() throws Exception {
        FakeHypervisor fake = new FakeHypervisor(4);
        fake.pool("images", "other.qcow2");
        try (ScalerHarness h = new ScalerHarness(dir, fake, 1, 3, 10, ownImage("images/base.qcow2"))) {
            await().atMost(SOON).until(() -> h.decisions().stream().anyMatch(d -> d.reason().contains("no base image")));
            assertThat(h.decisions()).filteredOn(d -> d.reason().contains("no base image")).first()
                    .extracting(ScaleDecision::reason).asString()
                    .contains("cannot create the disk of " + name(0) + " from images/base.qcow2 on fake:///: fake:///: no "
                            + "base image 'base.qcow2' in the storage pool 'images'");
            assertThat(fake.pool("images")).containsOnlyKeys("other.qcow2");
            assertThat(fake.names()).isEmpty();
        }
    }

    private static void acknowledgeDrainOf(ScalerHarness h, String domain) {
        await().atMost(SOON).until(() -> h.state(domain) == ReplicaState.DRAINING);
        h.lbStats(h.endpoint(domain), 0, true);
    }

    private static String stoppedReason(ScalerHarness h, String domain) {
        return h.lifecycle().stream().filter(v -> v.domain().equals(domain) && v.state() == ReplicaState.STOPPED)
                .reduce((a, b) -> b).orElseThrow().reason();
    }

    @Test
    void aDrainWithoutAcknowledgementStopsAtTheTimeoutAndSaysSo() throws Exception {
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(4), 1, 3, 1)) {
            twoThenOne(h);
            await().atMost(SOON).until(() -> h.saw(name(1), ReplicaState.STOPPED));
            assertThat(h.lifecycle()).filteredOn(v -> v.state() == ReplicaState.STOPPING).singleElement()
                    .satisfies(v -> assertThat(v.reason()).startsWith("drain timeout"));
        }
    }

    @Test
    void aMinimumNoHostHasRoomForIsOneHoldNotAnUpAndAHoldEveryTick() throws Exception {
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(1), 1, 3, 2)) {
            h.awaitReady(1);
            assertThat(h.command("min", "2").ok()).isTrue();
            await().atMost(SOON).until(() -> h.held("NoCapacity"));
            ScaleDecision held = h.decisions().stream().filter(d -> d.reasonCode().equals("NoCapacity")).findFirst()
                    .orElseThrow();
            assertThat(held.reason()).contains("fewer than the minimum 2", "no host has room");
            // ten ticks and more: said once (a HOLD like the last one is a heartbeat), never an UP it cannot carry out
            int said = h.decisions().size();
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3))
                    .until(() -> h.decisions().size() == said);
            assertThat(h.decisions()).noneMatch(d -> d.action() == ScaleAction.UP && d.toReplicas() == 2);
            assertThat(h.hypervisor.names()).hasSize(1);
        }
    }

    @Test
    void aScaleUpThatWouldOverloadTheHostIsHeld() throws Exception {
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(1), 1, 3, 2)) {
            h.awaitReady(1);
            await().atMost(SOON).until(() -> {
                h.sample(95);
                return h.held("NoCapacity");
            });
            ScaleDecision held = h.decisions().stream().filter(d -> d.reasonCode().equals("NoCapacity")).findFirst()
                    .orElseThrow();
            assertThat(held.reason()).contains("no host has room", "fake:///: 1 replica(s), 1 vCPU(s) on 1 CPU(s) (at most 1.0)");
            assertThat(h.actions()).extracting(ScaleDecision::reasonCode).containsExactly("BelowMinReplicas");
            assertThat(h.hypervisor.names()).hasSize(1);
        }
    }

    @Test
    void aHoldLikeTheLastOneIsNotPublishedAgainUntilItsHeartbeat() throws Exception {
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(4), 1, 3, 2)) {
            h.awaitReady(1);
            // fifteen ticks of the same state: each HOLD code once, none twice in a row
            await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(5)).until(() -> {
                var decisions = h.decisions();
                for (int i = 1; i < decisions.size(); i++) {
                    ScaleDecision a = decisions.get(i - 1);
                    ScaleDecision b = decisions.get(i);
                    if (a.action() == ScaleAction.HOLD && b.action() == ScaleAction.HOLD
                            && a.reasonCode().equals(b.reasonCode())) {
                        return false;
                    }
                }
                return true;
            });
            assertThat(h.decisions()).filteredOn(d -> d.action() == ScaleAction.HOLD).isNotEmpty()
                    .hasSizeLessThan(5);
        }
    }

    @Test
    void aRestartTakesBackEveryRunningReplicaInOneActionNotOneATick() throws Exception {
        FakeHypervisor hypervisor = new FakeHypervisor(8);
        for (int n = 0; n < 4; n++) {
            hypervisor.defineByHand(name(n), MARK.replace("number='0'", "number='" + n + "'"), true, freePort());
        }
        hypervisor.hang(name(0)); // the first in the listing never answers: its probe runs to the 5 s deadline
        try (ScalerHarness h = new ScalerHarness(dir, hypervisor, 1, 6, 2)) {
            await().atMost(Duration.ofSeconds(15)).until(() -> h.ready() == 3);
            // one at a time, the three healthy ones would have waited for the hung one's probe to give up
            assertThat(h.state(name(0))).isEqualTo(ReplicaState.STARTING);
            assertThat(h.lifecycle()).filteredOn(v -> v.state() == ReplicaState.READY)
                    .extracting(VmLifecycle::reason).containsOnly("found running, passed its health check"
                            + " (running for longer than a warm-up: its samples count at once)");
        }
    }

    @Test
    void aListingReadsTheMarkOfARunningReplicaOncePerRunNotEveryTick() throws Exception {
        FakeHypervisor hypervisor = new FakeHypervisor(8);
        for (int n = 0; n < 3; n++) {
            hypervisor.defineByHand(name(n), MARK.replace("number='0'", "number='" + n + "'"), true, freePort());
        }
        try (ScalerHarness h = new ScalerHarness(dir, hypervisor, 1, 6, 2)) {
            h.awaitReady(3);
            h.kill();
            assertThat(h.provisioner.observe().replicas()).hasSize(3); // every mark known from the scaler's ticks
            int before = hypervisor.metadataReads.get();
            for (int i = 0; i < 5; i++) {
                assertThat(h.provisioner.observe().replicas()).hasSize(3).allMatch(o -> o.endpoint() != null);
            }
            assertThat(hypervisor.metadataReads.get()).isEqualTo(before);
            hypervisor.destroy(name(1));
            hypervisor.start(name(1)); // a new run: its definition may have changed meanwhile
            assertThat(h.provisioner.observe().replicas()).hasSize(3);
            assertThat(hypervisor.metadataReads.get()).isEqualTo(before + 1);
        }
    }

    @Test
    void aReplicaTakenBackThatRanLongerThanAWarmUpIsWarmAtOnceAFreshOneIsNot() throws Exception {
        FakeHypervisor hypervisor = new FakeHypervisor(4);
        // defined hours ago (the harness's mark says 00:00), and defined just now
        hypervisor.defineByHand(name(0), MARK, true, freePort());
        hypervisor.defineByHand(name(1), MARK.replace("number='0'", "number='1'")
                .replace("2026-11-24T00:00:00Z", java.time.Instant.now().toString()), true, freePort());
        try (ScalerHarness h = new ScalerHarness(dir, hypervisor, 1, 3, 2)) {
            h.kill();
            h.start(new ScalerConfig(h.config.policy(), 1, 3, 0, 100, 5, 2, 60, 1.0,
                    h.config.thresholdWindow(), h.config.targetTracking(), h.config.warmPool())); // a 60 s warm-up
            await().atMost(SOON).until(() -> h.ready() == 2);
            @SuppressWarnings("unchecked")
            var replicas = (java.util.List<java.util.Map<String, Object>>) h.command("status").data().get("replicas");
            assertThat(replicas).filteredOn(r -> r.get("domain").equals(name(0))).singleElement()
                    .satisfies(r -> assertThat(r.get("warm")).isEqualTo(true));
            assertThat(replicas).filteredOn(r -> r.get("domain").equals(name(1))).singleElement()
                    .satisfies(r -> assertThat(r.get("warm")).isEqualTo(false));
            assertThat(h.lifecycle()).filteredOn(v -> v.domain().equals(name(0)) && v.state() == ReplicaState.READY)
                    .last().satisfies(v -> assertThat(v.reason()).contains("its samples count at once"));
            assertThat(h.hypervisor.calls()).noneMatch(c -> c.startsWith("define"));
        }
    }

    private static int freePort() throws java.io.IOException {
        try (java.net.DatagramSocket socket = new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** One replica READY, an operator's scale to two, READY, then back to one: the second one drains. */
    private static void twoThenOne(ScalerHarness h) {
        h.awaitReady(1);
        assertThat(h.command("scale", "2").ok()).isTrue();
        h.awaitReady(2);
        assertThat(h.command("scale", "1").ok()).isTrue();
    }
}
