package io.vmscale.scaler;

import static io.vmscale.scaler.ScalerHarness.name;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which replica a scale-in drains ({@code scaler.terminationPolicy}) and scale-in protection ({@code ops protect}),
 * over fake hypervisors whose VMs are real guest servers on loopback.
 */
class ScaleInChoiceTest {
    private static final Duration SOON = Duration.ofSeconds(15);
    private static final String ONE = "fake:///";
    private static final String TWO = "fake://two/";

    @TempDir
    Path dir;

    /** Scales to {@code n} replicas by the operator's command and waits for them. */
    private static void scaleTo(ScalerHarness h, int n) {
        AdminResult scale = h.command("scale", Integer.toString(n));
        assertThat(scale.ok()).as(scale.message()).isTrue();
        h.awaitReady(n);
    }

    @Test
    void newestGoesFirstAndAProtectedReplicaNeverGoesUntilItIsLetGo() throws Exception {
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(4), 1, 4, 0)) {
            h.awaitReady(1);
            scaleTo(h, 3);
            AdminResult protect = h.command("protect", name(2), "on");
            assertThat(protect.ok()).as(protect.message()).isTrue();
            assertThat(protect.message()).isEqualTo(name(2) + " is protected from scale-in (1 protected)");

            scaleTo(h, 2); // the newest is protected: the next newest goes
            assertThat(h.scaler.replicas()).containsOnlyKeys(name(0), name(2));
            assertThat(h.saw(name(1), ReplicaState.STOPPED)).isTrue();

            // every READY one protected: the operator's scale-in holds, and says why, once
            assertThat(h.command("protect", name(0), "on").ok()).isTrue();
            int before = h.decisions().size();
            assertThat(h.command("scale", "1").ok()).isTrue();
            await().atMost(SOON).until(() -> h.held("ScaleInProtected"));
            ScaleDecision held = h.decisions().stream().filter(d -> d.reasonCode().equals("ScaleInProtected"))
                    .findFirst().orElseThrow();
            assertThat(held.policy()).isEqualTo(ScaleDecision.OPERATOR);
            assertThat(held.reason()).contains("every READY replica is protected from scale-in: " + name(0) + ", "
                    + name(2));
            assertThat(h.decisions().subList(before, h.decisions().size())).extracting(ScaleDecision::action)
                    .doesNotContain(ScaleAction.DOWN);
            assertThat(replica(h, name(0)).get("protected")).isEqualTo(true);
            assertThat(h.scaler.replicas()).containsOnlyKeys(name(0), name(2));

            assertThat(h.command("protect", name(2), "off").message()).isEqualTo(name(2) + " may be scaled in again");
            scaleTo(h, 1);
            assertThat(h.scaler.replicas()).containsOnlyKeys(name(0));
        }
    }

    @Test
    void oldestGoesFirstWhenThePolicySaysSo() throws Exception {
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(4), 1, 4, 0)) {
            h.awaitReady(1);
            h.kill();
            h.start(h.config.withTerminationPolicy("oldest")); // takes back name(0), READY the longest
            h.awaitReady(1);
            scaleTo(h, 3);
            scaleTo(h, 2);
            assertThat(h.scaler.replicas()).containsOnlyKeys(name(1), name(2));
            assertThat(h.command("status").data().get("scaler")).asInstanceOf(
                    org.assertj.core.api.InstanceOfAssertFactories.MAP).containsEntry("terminationPolicy", "oldest");
        }
    }

    @Test
    void closestToConsolidationDrainsTheLastHostThatRunsAnyFirst() throws Exception {
        FakeHypervisor one = new FakeHypervisor(ONE, 4);
        FakeHypervisor two = new FakeHypervisor(TWO, 4);
        try (ScalerHarness h = new ScalerHarness(dir, List.of(one, two), List.of(2, 2), 1, 4, 0,
                ScalerConfig.WarmPoolConfig.NONE, -1)) {
            h.awaitReady(1);
            h.kill();
            h.start(h.config.withTerminationPolicy("closest-to-consolidation"));
            h.awaitReady(1);
            scaleTo(h, 3); // by room: name(0) and name(2) on the first host, name(1) on the second
            assertThat(one.names()).containsExactlyInAnyOrder(name(0), name(2));
            assertThat(two.names()).containsExactly(name(1));
            scaleTo(h, 2); // not the newest: the one that empties the second host
            assertThat(two.names()).isEmpty();
            assertThat(h.scaler.replicas()).containsOnlyKeys(name(0), name(2));
        }
    }

    @Test
    void protectionOutlivesTheScalerAndABadCommandIsAnsweredWithWhatIsWrong() throws Exception {
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(4), 1, 4, 0)) {
            h.handOver = true;
            h.awaitReady(1);
            scaleTo(h, 2);
            assertThat(h.command("protect", name(1), "on").ok()).isTrue();
            assertThat(h.kept.get().protectedReplicas()).containsExactly(name(1));

            AdminResult unknown = h.command("protect", "web-0001", "on");
            assertThat(unknown.ok()).isFalse();
            assertThat(unknown.message()).isEqualTo("protect web-0001: not a replica of this group (2 replica(s): "
                    + "'ops status')");
            AdminResult word = h.command("protect", name(1), "yes");
            assertThat(word.ok()).isFalse();
            assertThat(word.message()).isEqualTo("protect " + name(1) + " yes: expected on or off");
            assertThat(h.command("protect", name(1)).message()).contains("DOMAIN on|off");

            h.kill();
            h.start(h.config.withLimits(1, 3)); // another scaler, and the file changed: protection is not the file's
            h.awaitReady(2);
            assertThat(replica(h, name(1)).get("protected")).isEqualTo(true);
            scaleTo(h, 1);
            assertThat(h.scaler.replicas()).containsOnlyKeys(name(1));
            // a replica gone takes its protection with it: a later one of the same name is another replica
            AdminResult replace = h.command("replace", name(1)); // the operator's: it takes a protected one
            assertThat(replace.ok()).as(replace.message()).isTrue();
            await().atMost(SOON).until(() -> h.saw(name(1), ReplicaState.STOPPED) && h.ready() == 1);
            assertThat(h.kept.get().protectedReplicas()).isEmpty();
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> replica(ScalerHarness h, String domain) {
        List<Map<String, Object>> replicas = (List<Map<String, Object>>) h.command("status").data().get("replicas");
        return replicas.stream().filter(r -> domain.equals(r.get("domain"))).findFirst().orElse(Map.of());
    }
}
