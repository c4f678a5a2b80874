package io.vmscale.scaler;

import static io.vmscale.scaler.ScalerHarness.PREFIX;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.scaler.provision.Hypervisor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The warm pool over a fake hypervisor whose VMs are real guest servers on loopback (a paused or saved
 * one answers nobody): filled with warmed replicas, taken from first, refilled, returned to on scale-in,
 * found again after a restart, never load and never capacity.
 */
class WarmPoolScenarioTest {
    private static final Duration SOON = Duration.ofSeconds(15);

    @TempDir
    Path dir;

    private static String name(int n) {
        return PREFIX + "-000" + n;
    }

    private static ScalerConfig.WarmPoolConfig pool(int size, String tier) {
        return new ScalerConfig.WarmPoolConfig(size, tier, -1, 20);
    }

    @Test
    void aScaleUpTakesAWarmedPausedReplicaAtOnceAndThePoolIsRefilled() throws Exception {
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(4), 1, 3, 2, pool(1, "paused"))) {
            await().atMost(SOON).until(() -> h.ready() == 1 && h.in(ReplicaState.POOLED) == 1);
            assertThat(h.state(name(1))).isEqualTo(ReplicaState.POOLED);
            assertThat(h.hypervisor.power(name(1))).isEqualTo(Hypervisor.Power.PAUSED);
            VmLifecycle parked = h.lifecycle().stream().filter(v -> v.state() == ReplicaState.POOLED).findFirst().orElseThrow();
            assertThat(parked.reason()).contains("20 of 20 real requests answered").endsWith("paused");
            // WARMING before POOLED, and never a state the balancer would take it for a member in
            assertThat(h.lifecycle()).filteredOn(v -> v.domain().equals(name(1))).extracting(VmLifecycle::state)
                    .containsExactly(ReplicaState.WARMING, ReplicaState.POOLED);
            int defines = defines(h);

            assertThat(h.command("scale", "2").ok()).isTrue();
            await().atMost(SOON).until(() -> h.state(name(1)) == ReplicaState.READY);
            ScaleDecision up = h.actions().stream().filter(d -> d.reasonCode().equals("OperatorScale")).findFirst()
                    .orElseThrow();
            assertThat(up.reason()).contains("from the warm pool: " + name(1) + " (paused)");
            assertThat(h.lifecycle()).filteredOn(v -> v.domain().equals(name(1)) && v.state() == ReplicaState.STARTING)
                    .singleElement().satisfies(v -> assertThat(v.reason()).startsWith(VmLifecycle.FROM_WARM_POOL + " (paused)"));
            assertThat(h.hypervisor.calls()).contains("resume " + name(1));
            // warm at once: no warm-up after the pool
            assertThat(replica(h, name(1))).containsEntry("warm", true);
            // the pool refills: one more boot, warmed and parked
            await().atMost(SOON).until(() -> h.in(ReplicaState.POOLED) == 1 && h.ready() == 2);
            assertThat(defines(h)).isEqualTo(defines + 1);
            assertThat(h.scaler.replicas()).hasSize(3);
        }
    }

    @Test
    void aScaleInReturnsTheDrainedReplicaToThePoolWhileItIsShort() throws Exception {
        // size 2, at most 3 prepared: 1 serving + 2 parked; 2 serving + 1 parked (no refill: the cap)
        ScalerConfig.WarmPoolConfig config = new ScalerConfig.WarmPoolConfig(2, "paused", 3, 5);
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(8), 1, 3, 1, config)) {
            await().atMost(SOON).until(() -> h.ready() == 1 && h.in(ReplicaState.POOLED) == 2);
            assertThat(h.command("scale", "2").ok()).isTrue();
            await().atMost(SOON).until(() -> h.ready() == 2 && h.in(ReplicaState.POOLED) == 1);
            String taken = h.scaler.replicas().entrySet().stream().filter(e -> e.getValue() == ReplicaState.READY)
                    .map(Map.Entry::getKey).max(String::compareTo).orElseThrow();
            assertThat(h.command("scale", "1").ok()).isTrue();
            await().atMost(SOON).until(() -> h.state(taken) == ReplicaState.POOLED);
            assertThat(h.lifecycle()).filteredOn(v -> v.domain().equals(taken)).last()
                    .satisfies(v -> assertThat(v.reason()).contains("returned to the warm pool (paused)"));
            assertThat(h.hypervisor.power(taken)).isEqualTo(Hypervisor.Power.PAUSED);
            assertThat(h.hypervisor.calls()).noneMatch(c -> c.equals("undefine " + taken));
            assertThat(h.ready()).isEqualTo(1);
            assertThat(defines(h)).as("nothing booted: one serving, two parked").isEqualTo(3);
        }
    }

    @Test
    void aSavedPoolIsRestoredAndARestartFindsThePoolAgainWithoutADuplicate() throws Exception {
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(4), 1, 3, 2, pool(1, "saved"))) {
            await().atMost(SOON).until(() -> h.ready() == 1 && h.in(ReplicaState.POOLED) == 1);
            assertThat(h.hypervisor.power(name(1))).isEqualTo(Hypervisor.Power.SAVED);
            h.kill();
            int before = h.lifecycle().size();
            h.start();
            await().atMost(SOON).until(() -> h.ready() == 1 && h.in(ReplicaState.POOLED) == 1);
            List<VmLifecycle> after = h.lifecycle().subList(before, h.lifecycle().size());
            assertThat(after).filteredOn(v -> v.state() == ReplicaState.POOLED).singleElement()
                    .satisfies(v -> assertThat(v.reason()).isEqualTo("found saved in libvirt"));
            assertThat(defines(h)).as("no duplicate").isEqualTo(2);

            assertThat(h.command("scale", "2").ok()).isTrue();
            await().atMost(SOON).until(() -> h.state(name(1)) == ReplicaState.READY);
            assertThat(h.hypervisor.calls()).filteredOn(c -> c.equals("start " + name(1))).hasSize(2); // boot, restore
            assertThat(h.hypervisor.running(name(1))).isTrue();
        }
    }

    @Test
    void aFullHostGetsNoPoolReplicaAndNoScaleUp() throws Exception {
        // one CPU: the serving replica's vCPU leaves no room (scaler.maxVcpusPerCore 1.0), for the pool or a scale-up
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(1), 1, 3, 2, pool(1, "paused"))) {
            h.awaitReady(1);
            await().atMost(SOON).until(() -> h.command("status").data().toString().contains("no host has room"));
            assertThat(h.command("scale", "2").ok()).isTrue();
            await().atMost(SOON).until(() -> h.held("NoCapacity"));
            assertThat(h.decisions()).filteredOn(d -> d.reasonCode().equals("NoCapacity")).first()
                    .satisfies(d -> assertThat(d.reason()).contains("fake:///: 1 replica(s), 1 vCPU(s) on 1 CPU(s)"));
            assertThat(h.in(ReplicaState.POOLED) + h.in(ReplicaState.WARMING)).isZero();
            assertThat(h.hypervisor.names()).hasSize(1);
        }
    }

    @Test
    void anEmptyPoolFallsBackToAColdBootAndSaysSo() throws Exception {
        // at most one replica prepared or serving: the pool stays empty while one serves
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(4), 1, 3, 2,
                new ScalerConfig.WarmPoolConfig(1, "paused", 1, 20))) {
            h.awaitReady(1);
            assertThat(h.command("scale", "2").ok()).isTrue();
            await().atMost(SOON).until(() -> h.ready() == 2);
            assertThat(h.actions()).filteredOn(d -> d.reasonCode().equals("OperatorScale")).singleElement()
                    .satisfies(d -> assertThat(d.reason()).contains("cold boot: the warm pool is empty"));
            assertThat(h.in(ReplicaState.POOLED) + h.in(ReplicaState.WARMING)).isZero();
        }
    }

    @Test
    void aParkedReplicaDestroyedOutsideIsRemovedWithoutAReplaceAndThePoolRefilled() throws Exception {
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(4), 1, 3, 2, pool(1, "paused"))) {
            await().atMost(SOON).until(() -> h.ready() == 1 && h.in(ReplicaState.POOLED) == 1);
            h.hypervisor.crash(name(1)); // its QEMU killed: libvirt says shut off, no save image
            await().atMost(SOON).until(() -> h.saw(name(1), ReplicaState.STOPPED) && h.in(ReplicaState.POOLED) == 1);
            // removed: undefined (the refill may take its number back, for a new domain: not a sign it was left)
            assertThat(h.hypervisor.calls()).contains("undefine " + name(1));
            assertThat(h.lifecycle()).filteredOn(v -> v.state() == ReplicaState.FAILED).singleElement()
                    .satisfies(v -> assertThat(v.reason()).startsWith("warm-pool replica failed"));
            assertThat(h.actions()).extracting(d -> d.action()).doesNotContain(ScaleAction.REPLACE);
            assertThat(h.ready()).isEqualTo(1);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> replica(ScalerHarness h, String domain) {
        List<Map<String, Object>> replicas = (List<Map<String, Object>>) h.command("status").data().get("replicas");
        return replicas.stream().filter(r -> r.get("domain").equals(domain)).findFirst().orElseThrow();
    }

    private static int defines(ScalerHarness h) {
        return (int) h.hypervisor.calls().stream().filter(c -> c.startsWith("define")).count();
    }
}
