package io.vmscale.scaler;

import static io.vmscale.scaler.ScalerHarness.name;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.broker.event.VmLifecycle;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scaler over two hosts (fake hypervisors whose guests are real UDP guest servers, host 1 on 127.0.0.1,
 * host 2 on 127.0.0.2): placement, NoCapacity, live migration, consolidation, a host that goes away.
 */
class HostsScenarioTest {
    private static final Duration SOON = Duration.ofSeconds(15);
    private static final String ONE = "fake://one/";
    private static final String TWO = "fake://two/";

    @TempDir
    Path dir;

    private ScalerHarness twoHosts(FakeHypervisor one, FakeHypervisor two, int capacityEach, int max,
                                   int consolidateAfter) throws Exception {
        return new ScalerHarness(dir, List.of(one, two), List.of(capacityEach, capacityEach), 1, max, 1,
                ScalerConfig.WarmPoolConfig.NONE, consolidateAfter);
    }

    /** Two READY replicas, the second on host two, whose libvirtd then stops answering (its guest still runs). */
    private static void secondReplicaOnAHostThatGoesSilent(ScalerHarness h, FakeHypervisor two) {
        h.awaitReady(1);
        assertThat(h.command("scale", "2").ok()).isTrue();
        h.awaitReady(2);
        assertThat(two.names()).containsExactly(name(1));
        two.reachable(false);
        await().atMost(SOON).until(() -> h.held("HostUnreachable"));
    }

    private static VmLifecycle last(ScalerHarness h, String domain, ReplicaState state) {
        return h.lifecycle().stream().filter(v -> v.domain().equals(domain) && v.state() == state)
                .reduce((a, b) -> b).orElseThrow();
    }

    @Test
    void replicasSpreadOverTheHostsAndAFullGroupHoldsWithEveryHostsFigures() throws Exception {
        FakeHypervisor one = new FakeHypervisor(ONE, 4);
        FakeHypervisor two = new FakeHypervisor(TWO, 4);
        try (ScalerHarness h = twoHosts(one, two, 1, 3, -1)) {
            h.awaitReady(1);
            assertThat(h.command("scale", "2").ok()).isTrue();
            h.awaitReady(2);
            assertThat(one.names()).containsExactly(name(0));
            assertThat(two.names()).as("numbered across hosts").containsExactly(name(1));
            VmLifecycle starting = last(h, name(1), ReplicaState.STARTING);
            assertThat(starting.host()).isEqualTo(TWO);
            assertThat(last(h, name(1), ReplicaState.READY).endpoint().ip()).isEqualTo("127.0.0.2");

            assertThat(h.command("scale", "3").ok()).isTrue();
            await().atMost(SOON).until(() -> h.held("NoCapacity"));
            ScaleDecision held = h.decisions().stream().filter(d -> d.reasonCode().equals("NoCapacity")).findFirst()
                    .orElseThrow();
            assertThat(held.reason()).contains(ONE + ": 1/1 replica(s)", TWO + ": 1/1 replica(s)");
            assertThat(one.names().size() + two.names().size()).isEqualTo(2);

            AdminResult hosts = h.command("hosts");
            assertThat(hosts.ok()).isTrue();
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> list = (List<Map<String, Object>>) hosts.data().get("hosts");
            assertThat(list).extracting(m -> m.get("uri")).containsExactly(ONE, TWO);
            assertThat(list).extracting(m -> m.get("replicas")).containsExactly(List.of(name(0)), List.of(name(1)));
            assertThat(list).extracting(m -> m.get("room")).containsExactly(0, 0);
        }
    }

    @Test
    void aLiveMigrationMovesAReadyReplicaToItsNewEndpointAndRefusesWhatCannotBe() throws Exception {
        FakeHypervisor one = new FakeHypervisor(ONE, 4);
        FakeHypervisor two = new FakeHypervisor(TWO, 4);
        try (ScalerHarness h = twoHosts(one, two, 2, 3, -1)) {
            h.awaitReady(1);
            assertThat(h.command("migrate", name(0), ONE).message()).contains("runs on " + ONE + " already");
            assertThat(h.command("migrate", name(0), "qemu+tcp://elsewhere/system").message())
                    .contains("not one of libvirt.uris");
            assertThat(h.command("migrate", "scn-0042", TWO).message()).contains("not a replica of this group");
            assertThat(h.command("migrate", name(0)).message()).contains("usage: migrate DOMAIN HOST");

            String before = last(h, name(0), ReplicaState.READY).endpoint().toString();
            AdminResult moving = h.command("migrate", name(0), TWO);
            assertThat(moving.ok()).as(moving.message()).isTrue();
            await().atMost(SOON).until(() -> two.running(name(0)) && h.count(name(0), ReplicaState.READY) == 2
                    && h.state(name(0)) == ReplicaState.READY);
            assertThat(one.names()).isEmpty();
            VmLifecycle migrating = last(h, name(0), ReplicaState.MIGRATING);
            assertThat(migrating.host()).isEqualTo(ONE);
            assertThat(migrating.endpoint().toString()).isEqualTo(before);
            VmLifecycle ready = last(h, name(0), ReplicaState.READY);
            assertThat(ready.host()).isEqualTo(TWO);
            assertThat(ready.endpoint().ip()).isEqualTo("127.0.0.2");
            assertThat(ready.endpoint().port()).isEqualTo(migrating.endpoint().port());
            assertThat(ready.warmStart()).as("the same warm guest: no slow start").isTrue();
            assertThat(h.decisions()).filteredOn(d -> d.action() == ScaleAction.MIGRATE).singleElement()
                    .satisfies(d -> assertThat(d.reason()).contains(name(0) + " from " + ONE + " to " + TWO));
            assertThat(h.actions()).filteredOn(d -> d.action() == ScaleAction.REPLACE).isEmpty();
            assertThat(h.command("status").data().get("scaler").toString()).contains("migrations=1");
        }
    }

    @Test
    void aFailedMigrationLeavesTheReplicaServingWhereItWas() throws Exception {
        FakeHypervisor one = new FakeHypervisor(ONE, 4);
        FakeHypervisor two = new FakeHypervisor(TWO, 4);
        try (ScalerHarness h = twoHosts(one, two, 2, 3, -1)) {
            h.awaitReady(1);
            one.failNext("migrate", 1);
            assertThat(h.command("migrate", name(0), TWO).ok()).isTrue();
            await().atMost(SOON).until(() -> h.count(name(0), ReplicaState.READY) == 2);
            VmLifecycle ready = last(h, name(0), ReplicaState.READY);
            assertThat(ready.host()).isEqualTo(ONE);
            assertThat(ready.reason()).contains("migration to " + TWO + " failed", "injected failure");
            assertThat(one.running(name(0))).isTrue();
            // a move that failed backs off on its own: scaling does not wait for it
            await().atMost(SOON).until(() -> h.held("MigrationFailed"));
            assertThat(h.held("ActionFailed")).isFalse();
            assertThat(h.scaler.backingOff()).isFalse();
            assertThat(h.actions()).filteredOn(d -> d.action() == ScaleAction.REPLACE).isEmpty();
        }
    }

    @Test
    void afterAScaleDownTheLeastUsedHostIsEmptiedByMigration() throws Exception {
        FakeHypervisor one = new FakeHypervisor(ONE, 4);
        FakeHypervisor two = new FakeHypervisor(TWO, 4);
        try (ScalerHarness h = twoHosts(one, two, 2, 3, 3600)) {
            h.awaitReady(1);
            assertThat(h.command("scale", "3").ok()).isTrue();
            h.awaitReady(3);
            // most room first, then fewer replicas, then the list's order: one, two, one
            assertThat(one.names()).containsExactly(name(0), name(2));
            assertThat(two.names()).containsExactly(name(1));
            assertThat(h.command("scale", "2").ok()).isTrue(); // the newest goes: name(2), on host one
            await().atMost(SOON).until(() -> two.names().isEmpty() && h.ready() == 2 && !h.scaler.replicas()
                    .containsValue(ReplicaState.MIGRATING));
            assertThat(one.names()).containsExactly(name(0), name(1));
            assertThat(h.decisions()).filteredOn(d -> d.action() == ScaleAction.MIGRATE).singleElement()
                    .satisfies(d -> {
                        assertThat(d.reasonCode()).isEqualTo("Consolidate");
                        assertThat(d.policy()).isEqualTo("consolidation");
                        assertThat(d.reason()).contains(TWO + " runs 1 replica(s) that fit", "after a scale-down");
                    });
            assertThat(h.actions()).filteredOn(d -> d.action() == ScaleAction.REPLACE).isEmpty();
        }
    }

    @Test
    void aLoneSurvivorOnALaterHostGoesBackToTheFirstAndNothingMovesBackAndForth() throws Exception {
        FakeHypervisor one = new FakeHypervisor(ONE, 4);
        FakeHypervisor two = new FakeHypervisor(TWO, 4);
        try (ScalerHarness h = twoHosts(one, two, 2, 3, 3600)) {
            h.awaitReady(1);
            assertThat(h.command("scale", "2").ok()).isTrue();
            h.awaitReady(2);
            assertThat(two.names()).containsExactly(name(1));
            assertThat(h.command("migrate", name(0), TWO).ok()).isTrue();
            await().atMost(SOON).until(() -> two.names().size() == 2 && h.state(name(0)) == ReplicaState.READY);
            assertThat(h.command("scale", "1").ok()).isTrue(); // name(1) goes; name(0) is alone on the later host
            await().atMost(SOON).until(() -> one.names().equals(List.of(name(0))) && two.names().isEmpty()
                    && h.state(name(0)) == ReplicaState.READY);
            assertThat(h.decisions()).filteredOn(d -> d.reasonCode().equals("Consolidate")).singleElement();
            // nothing moves again: the first host holds it, the later one is empty
            assertThat(h.command("scale", "1").ok()).isTrue();
            await().atMost(SOON).until(() -> h.held("OperatorScaleReached"));
            assertThat(h.decisions()).filteredOn(d -> d.action() == ScaleAction.MIGRATE).hasSize(2);
        }
    }

    @Test
    void aHostWhoseReplicasRunHotGivesItsBusiestToAHostWithRoom() throws Exception {
        FakeHypervisor one = new FakeHypervisor(ONE, 2);
        FakeHypervisor two = new FakeHypervisor(TWO, 2);
        try (ScalerHarness h = twoHosts(one, two, 2, 2, 1)) {
            h.kill();
            h.start(h.config.withRebalanceAbove(60));
            h.awaitReady(1);
            assertThat(h.command("scale", "2").ok()).isTrue();
            h.awaitReady(2);
            // consolidation (after 1 s here, no samples yet) brings the second to host one: both there now. An
            // operator's migrate here raced it (refused when consolidation had moved it first, seen once in CI)
            await().atMost(SOON).until(() -> one.names().size() == 2 && h.state(name(1)) == ReplicaState.READY);
            await().atMost(SOON).until(() -> {
                h.sample(70); // 140 % of one CPU on two CPUs: 70 % of the host, above 60; within the policy's thresholds
                return two.names().size() == 1 && h.ready() == 2;
            });
            assertThat(h.decisions()).filteredOn(d -> d.reasonCode().equals("Rebalance")).singleElement()
                    .satisfies(d -> assertThat(d.reason()).contains("the replicas on " + ONE + " have used 70 % of its CPUs",
                            "above scaler.rebalanceAbove 60 %", TWO + " has room"));
            // 35 % each now: nothing moves back (consolidation would make host one 70 % again)
            long moves = h.decisions().stream().filter(d -> d.action() == ScaleAction.MIGRATE).count();
            await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5)).until(() -> { // past the 1 s period
                h.sample(70);
                return h.decisions().stream().filter(d -> d.action() == ScaleAction.MIGRATE).count() == moves;
            });
        }
    }

    @Test
    void aHostThatGoesAwayHasItsReplicasReplacedElsewhereAndTheExtraIsDrainedWhenItReturns() throws Exception {
        FakeHypervisor one = new FakeHypervisor(ONE, 4);
        FakeHypervisor two = new FakeHypervisor(TWO, 4);
        try (ScalerHarness h = twoHosts(one, two, 2, 3, -1)) {
            secondReplicaOnAHostThatGoesSilent(h, two);
            await().atMost(SOON).until(() -> h.ready() == 2 && one.names().size() == 2);
            assertThat(h.lifecycle()).filteredOn(v -> v.domain().equals(name(1)) && v.state() == ReplicaState.FAILED)
                    .singleElement().satisfies(v -> assertThat(v.reason()).contains("its host " + TWO
                            + " has not answered for"));
            assertThat(h.actions()).filteredOn(d -> d.action() == ScaleAction.REPLACE).singleElement();
            assertThat(one.names()).as("a new name, not the lost one's").containsExactly(name(0), name(2));

            two.reachable(true); // back, with its replica still running: one too many
            await().atMost(SOON).until(() -> h.saw(name(1), ReplicaState.STOPPED) || h.saw(name(2), ReplicaState.STOPPED));
            await().atMost(SOON).until(() -> h.ready() == 2 && h.scaler.replicas().size() == 2);
            assertThat(one.names().size() + two.names().size()).isEqualTo(2);
            assertThat(h.actions()).filteredOn(d -> d.action() == ScaleAction.REPLACE).hasSize(1);
        }
    }

    @Test
    void aDeletionWaitsForAHostThatDoesNotAnswerSaysWhyAndEndsOnceItAnswers() throws Exception {
        FakeHypervisor one = new FakeHypervisor(ONE, 4);
        FakeHypervisor two = new FakeHypervisor(TWO, 4);
        try (ScalerHarness h = twoHosts(one, two, 2, 3, -1)) {
            secondReplicaOnAHostThatGoesSilent(h, two);
            assertThat(h.scaler.deletionWaits()).as("not being deleted").isNull();

            java.util.concurrent.CompletableFuture<Void> deleted = h.scaler.retire("the operator deleted the group");
            await().atMost(SOON).until(() -> h.held("DeletionWaits") && one.names().isEmpty());
            assertThat(h.decisions()).filteredOn(d -> d.reasonCode().equals("DeletionWaits")).singleElement()
                    .satisfies(d -> assertThat(d.reason()).startsWith("the group's deletion waits: " + TWO
                            + " has not answered for ").contains(" s (1 replica(s) of the group there when last seen)"));
            assertThat(h.scaler.deletionWaits()).startsWith(TWO + " has not answered for ");
            assertThat(deleted).as("its replica on the silent host still runs there").isNotDone();
            assertThat(two.names()).containsExactly(name(1));

            two.reachable(true);
            deleted.get(SOON.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
            assertThat(two.names()).as("nothing of the group left running unseen").isEmpty();
            assertThat(one.names()).isEmpty();
            assertThat(h.decisions()).filteredOn(d -> d.reasonCode().equals("DeletionWaits")).hasSize(1);
        }
    }
}
