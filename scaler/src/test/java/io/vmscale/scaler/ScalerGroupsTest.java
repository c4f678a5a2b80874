package io.vmscale.scaler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.GroupChange;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.broker.event.VmLifecycle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Several groups in one scaler process: each reconciled on its own, commands to the group they name. */
class ScalerGroupsTest {
    @TempDir
    Path dir;

    private static AdminResult send(ScalerGroups groups, String group, String command, String... args) {
        return groups.handle(new AdminCommand("r-" + UUID.randomUUID(), "vmscale.reply.test", "scaler", command,
                List.of(args), group));
    }

    private static ScalerGroups of(ScalerHarness... harnesses) {
        Map<String, Scaler> scalers = new LinkedHashMap<>();
        for (ScalerHarness h : harnesses) {
            scalers.put(h.group, h.scaler);
        }
        return new ScalerGroups(scalers, "scaler@test");
    }

    /** The groups udp and web on one host, from nearby port bases, each with its first replica READY. */
    private final class TwoGroups implements AutoCloseable {
        final ScalerHarness udp;
        final ScalerHarness web;
        final ScalerGroups groups;

        TwoGroups() throws Exception {
            FakeHypervisor host = new FakeHypervisor(8);
            int base = 40000 + (int) (Math.random() * 20000);
            udp = ScalerHarness.group(Files.createDirectory(dir.resolve("udp")), host, "udp", 1, 3, base);
            try {
                web = ScalerHarness.group(Files.createDirectory(dir.resolve("web")), host, "web", 1, 3, base + 100);
            } catch (IOException | RuntimeException e) {
                udp.close();
                throw e;
            }
            groups = of(udp, web);
            try {
                udp.awaitReady(1);
                web.awaitReady(1);
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        @Override
        public void close() {
            try {
                web.close();
            } finally {
                udp.close();
            }
        }
    }

    @Test
    void aCommandGoesToTheGroupItNamesAndTheFirstWhenItNamesNone() throws Exception {
        try (TwoGroups two = new TwoGroups()) {
            ScalerHarness udp = two.udp;
            ScalerHarness web = two.web;
            ScalerGroups groups = two.groups;

            assertThat(send(groups, "web", "scale", "2").ok()).isTrue();
            web.awaitReady(2);
            assertThat(udp.scaler.replicas()).containsOnlyKeys("udp-0000");
            assertThat(web.scaler.replicas()).containsOnlyKeys("web-0000", "web-0001");
            assertThat(web.actions()).extracting(ScaleDecision::group).containsOnly("web");
            assertThat(web.actions()).anyMatch(d -> d.action() == ScaleAction.UP && d.toReplicas() == 2);
            assertThat(udp.actions()).noneMatch(d -> d.toReplicas() == 2);

            AdminResult first = send(groups, "", "status");
            assertThat(((Map<?, ?>) first.data().get("scaler")).get("group")).isEqualTo("udp");
            AdminResult named = send(groups, "web", "status");
            assertThat(((Map<?, ?>) named.data().get("scaler")).get("group")).isEqualTo("web");

            AdminResult nope = send(groups, "nope", "pause");
            assertThat(nope.ok()).isFalse();
            assertThat(nope.message()).isEqualTo("no group nope here: the groups are udp, web (ops groups)");
            assertThat(udp.scaler.runtimeSettings().paused()).isFalse();
            assertThat(web.scaler.runtimeSettings().paused()).isFalse();

            AdminResult listed = send(groups, "", "groups");
            assertThat(listed.ok()).isTrue();
            assertThat(listed.message()).isEqualTo("2 group(s): udp: 1 READY of 1; web: 2 READY of 2");
            assertThat(((List<?>) listed.data().get("groups")).stream().map(g -> String.valueOf(((Map<?, ?>) g).get("name"))))
                    .containsExactly("udp", "web");
        }
    }

    @Test
    void twoGroupsOnOneHostNeverChooseOnePort() throws Exception {
        FakeHypervisor host = new FakeHypervisor(8);
        int base = 40000 + (int) (Math.random() * 20000);
        // the same host ports from the same base: replica 0 of each wants base + 0
        try (ScalerHarness udp = ScalerHarness.group(Files.createDirectory(dir.resolve("udp")), host, "udp", 2, 2, base);
             ScalerHarness web = ScalerHarness.group(Files.createDirectory(dir.resolve("web")), host, "web", 2, 2, base)) {
            udp.awaitReady(2);
            web.awaitReady(2);
            List<String> endpoints = List.of(udp.endpoint("udp-0000"), udp.endpoint("udp-0001"),
                    web.endpoint("web-0000"), web.endpoint("web-0001"));
            assertThat(endpoints).doesNotHaveDuplicates();
        }
    }

    @Test
    void oneGroupsSlowStartStallsNoOtherGroup() throws Exception {
        FakeHypervisor slow = new FakeHypervisor(8);
        FakeHypervisor quick = new FakeHypervisor(8);
        int base = 40000 + (int) (Math.random() * 20000);
        try (ScalerHarness stuck = ScalerHarness.group(Files.createDirectory(dir.resolve("a")), slow, "a", 1, 3, base);
             ScalerHarness free = ScalerHarness.group(Files.createDirectory(dir.resolve("b")), quick, "b", 1, 3,
                     base + 100)) {
            stuck.awaitReady(1);
            free.awaitReady(1);
            ScalerGroups groups = of(stuck, free);
            slow.holdStarts();
            try {
                assertThat(send(groups, "a", "scale", "2").ok()).isTrue();
                await().atMost(Duration.ofSeconds(10)).until(() -> slow.startWaiting);
                assertThat(send(groups, "b", "scale", "3").ok()).isTrue();
                free.awaitReady(3); // while a's start waits
                // and a's own loop goes on: it looks at libvirt and answers while its lane waits in libvirt, where the
                // domain being started shows paused (QEMU coming up): not taken for a warm pool's replica
                AdminResult status = send(groups, "a", "status");
                assertThat(status.ok()).as("%s", status).isTrue();
                assertThat(slow.power("a-0001")).isEqualTo(io.vmscale.scaler.provision.Hypervisor.Power.PAUSED);
                stuck.scaler.ticks(); // from now on: three looks at libvirt while the start is held
                java.util.concurrent.atomic.AtomicLong looks = new java.util.concurrent.atomic.AtomicLong();
                await().atMost(Duration.ofSeconds(10)).until(() -> looks.addAndGet(stuck.scaler.ticks().count()) >= 3);
                assertThat(slow.startWaiting).isTrue();
            } finally {
                slow.releaseStarts();
            }
            stuck.awaitReady(2);
            assertThat(stuck.lifecycle()).noneMatch(v -> v.state() == ReplicaState.POOLED);
        }
    }

    @Test
    void aGroupsDrainWaitsForItsOwnTrafficNotAnotherGroups() throws Exception {
        try (TwoGroups two = new TwoGroups()) {
            ScalerHarness udp = two.udp;
            ScalerHarness web = two.web;
            ScalerGroups groups = two.groups;
            assertThat(send(groups, "web", "scale", "2").ok()).isTrue();
            web.awaitReady(2);
            assertThat(send(groups, "web", "scale", "1").ok()).isTrue();
            await().atMost(Duration.ofSeconds(10)).until(() -> web.saw("web-0001", ReplicaState.DRAINING));
            // the udp group's traffic stats do not list web's replica: they say nothing of its drain
            groups.onLbStats(stats(udp.endpoint("udp-0000"), 0, false).forGroup("udp"), Instant.now());
            groups.onLbStats(stats(web.endpoint("web-0001"), 0, true).forGroup("web"), Instant.now());
            await().atMost(Duration.ofSeconds(10)).until(() -> web.saw("web-0001", ReplicaState.STOPPING));
            assertThat(web.lifecycle()).filteredOn(v -> v.domain().equals("web-0001")
                    && v.state() == ReplicaState.STOPPING).first().satisfies(v -> assertThat(v.reason())
                    .isEqualTo("drained: the balancer acknowledged it and has nothing in flight to it"));
            assertThat(udp.lifecycle()).noneMatch(v -> v.state() == ReplicaState.DRAINING);
        }
    }

    /**
     * The group udp with its first replica READY, in groups made at run time as an operator makes them: each a harness
     * on the same host, its spec only checked to be JSON.
     */
    private final class Made implements ScalerGroups.Lifecycle, AutoCloseable {
        final FakeHypervisor host = new FakeHypervisor(8);
        final int base = 40000 + (int) (Math.random() * 20000);
        final Map<String, ScalerHarness> made = new java.util.concurrent.ConcurrentHashMap<>();
        final List<GroupChange> changes = new java.util.concurrent.CopyOnWriteArrayList<>();
        final ScalerHarness udp;
        final ScalerGroups groups;

        Made() throws Exception {
            udp = ScalerHarness.group(Files.createDirectory(dir.resolve("udp")), host, "udp", 1, 3, base);
            try {
                udp.awaitReady(1);
            } catch (RuntimeException e) {
                udp.close();
                throw e;
            }
            groups = new ScalerGroups(new LinkedHashMap<>(Map.of("udp", udp.scaler)), "scaler@test", this);
        }

        @Override
        public void close() {
            made.values().forEach(h -> h.scaler.close());
            udp.close();
        }

        @Override
        public Scaler create(String name, String spec) {
            if (!spec.startsWith("{")) {
                throw new IllegalArgumentException("group " + name + "'s spec: expected a JSON object");
            }
            try {
                ScalerHarness h = ScalerHarness.group(Files.createDirectories(dir.resolve(name + "-" + made.size())),
                        host, name, 1, 3, base + 100 * (made.size() + 1));
                made.put(name, h);
                return h.scaler;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        /** A change's spec is only checked to be JSON; any but {@code {}} raises the group's maximum to 5. */
        @Override
        public ScalerGroups.Respec respec(String name, String patch) {
            if (!patch.startsWith("{")) {
                throw new IllegalArgumentException("group " + name + "'s change: expected a JSON object");
            }
            ScalerHarness h = made.get(name);
            java.util.function.Function<Integer, java.util.function.Function<RuntimeSettings, Scaler>> start =
                    max -> carried -> {
                        h.kept.set(carried);
                        h.handOver = true;
                        h.start(h.config.withLimits(1, max));
                        return h.scaler;
                    };
            return new ScalerGroups.Respec(patch, patch.equals("{}") ? List.of() : List.of("scaler.maxReplicas"), null, List.of(),
                    start.apply(5), start.apply(h.config.maxReplicas()));
        }

        @Override
        public void changed(GroupChange change) {
            changes.add(change);
        }

        boolean deleted(String name) {
            return changes.stream().anyMatch(c -> c.group().equals(name) && c.change().equals(GroupChange.DELETED));
        }
    }

    /** Acknowledges every draining replica of the group as its traffic would: no longer listed, nothing in flight. */
    private static void acknowledgeDrains(ScalerGroups groups, ScalerHarness h) {
        h.lifecycle().stream().filter(v -> v.state() == ReplicaState.DRAINING).map(VmLifecycle::domain).distinct()
                .forEach(d -> groups.onLbStats(stats(h.endpoint(d), 0, true).forGroup(h.group), Instant.now()));
    }

    @Test
    void aGroupIsCreatedAndDeletedAtRunTimeWithoutDisturbingAnother() throws Exception {
        try (Made made = new Made()) {
            FakeHypervisor host = made.host;
            ScalerHarness udp = made.udp;
            ScalerGroups groups = made.groups;
            AdminResult bad = send(groups, "", "group", "create", "web", "min 1");
            assertThat(bad.ok()).isFalse();
            assertThat(bad.message()).isEqualTo("group web's spec: expected a JSON object");
            assertThat(groups.names()).containsExactly("udp");

            AdminResult created = send(groups, "", "group", "create", "web", "{}");
            assertThat(created.ok()).as("%s", created).isTrue();
            assertThat(created.message()).startsWith("group web created: 1..3 replicas web-NNNN");
            ScalerHarness web = made.made.get("web");
            try {
                web.awaitReady(1);
                assertThat(made.changes).extracting(GroupChange::group, GroupChange::change)
                        .containsExactly(org.assertj.core.groups.Tuple.tuple("web", GroupChange.CREATED));
                assertThat(send(groups, "web", "scale", "2").ok()).isTrue();
                web.awaitReady(2);
                assertThat(send(groups, "", "group", "create", "web", "{}").message())
                        .isEqualTo("there is a group web already");
                AdminResult first = send(groups, "", "group", "delete", "udp");
                assertThat(first.ok()).isFalse();
                assertThat(first.message()).startsWith("the group udp is the first, the configuration's top level");

                AdminResult deleting = send(groups, "", "group", "delete", "web");
                assertThat(deleting.ok()).as("%s", deleting).isTrue();
                assertThat(deleting.message()).isEqualTo("deleting the group web: its 2 replica(s) are drained one at "
                        + "a time, then its domains and volumes removed ('ops groups' lists it until then)");
                AdminResult refused = send(groups, "web", "scale", "3");
                assertThat(refused.ok()).isFalse();
                assertThat(refused.message()).startsWith("the group web is being deleted");
                assertThat(send(groups, "", "groups").message()).contains("web: ").contains("(being deleted)");

                await().atMost(Duration.ofSeconds(20)).until(() -> {
                    acknowledgeDrains(groups, web);
                    return made.deleted("web");
                });
                assertThat(host.names()).noneMatch(n -> n.startsWith("web-"));
                assertThat(groups.names()).containsExactly("udp");
                assertThat(send(groups, "web", "status").message()).startsWith("no group web here");
                assertThat(web.decisions()).anyMatch(d -> d.action() == ScaleAction.DOWN
                        && d.reasonCode().equals("GroupDeleted") && d.fromReplicas() == 2 && d.toReplicas() == 0);
                // each replica drained (its traffic's word) before it stopped
                assertThat(web.lifecycle()).filteredOn(v -> v.state() == ReplicaState.STOPPING).extracting(VmLifecycle::reason)
                        .hasSize(2).allMatch(r -> r.startsWith("drained: the balancer"));
                // the other group served throughout
                assertThat(udp.scaler.replicas()).containsExactly(Map.entry("udp-0000", ReplicaState.READY));
                assertThat(udp.lifecycle()).noneMatch(v -> v.state() == ReplicaState.DRAINING);
                // and a group of the name may be created again
                assertThat(send(groups, "", "group", "create", "web", "{}").ok()).isTrue();
                made.made.get("web").awaitReady(1);
            } finally {
                made.made.values().forEach(h -> h.scaler.close()); // before the host's guests close
            }
        }
    }

    @Test
    void aGroupChangedAtRunTimeKeepsItsReplicasAndRefusesCommandsUntilItsNewScalerRuns() throws Exception {
        try (Made made = new Made()) {
            ScalerGroups groups = made.groups;
            assertThat(send(groups, "", "group", "create", "web", "{}").ok()).isTrue();
            ScalerHarness web = made.made.get("web");
            try {
                web.awaitReady(1);
                AdminResult first = send(groups, "", "group", "change", "udp", "{\"scaler\": {}}");
                assertThat(first.ok()).isFalse();
                assertThat(first.message()).startsWith("the group udp is the first, the configuration's top level");
                assertThat(send(groups, "", "group", "change", "web", "[]").message())
                        .isEqualTo("group web's change: expected a JSON object");
                assertThat(send(groups, "", "group", "change", "web", "{}").message())
                        .isEqualTo("nothing changes: the group web's spec says so already");

                // a start under way on a slow host: the change waits for it, commands to the group are refused meanwhile
                made.host.holdStarts();
                assertThat(send(groups, "web", "scale", "2").ok()).isTrue();
                await().atMost(Duration.ofSeconds(10)).until(() -> made.host.startWaiting);
                Scaler before = groups.get("web").orElseThrow();
                AdminResult changing = send(groups, "", "group", "change", "web", "{\"scaler\": {\"maxReplicas\": 5}}");
                assertThat(changing.ok()).as("%s", changing).isTrue();
                assertThat(changing.message()).isEqualTo("changing the group web (scaler.maxReplicas): its scaler starts "
                        + "again with the new spec once its actions under way end, and takes its replicas back (1 READY now)");
                AdminResult refused = send(groups, "web", "scale", "3");
                assertThat(refused.ok()).isFalse();
                assertThat(refused.message()).startsWith("the group web is being changed");
                assertThat(send(groups, "", "groups").message()).contains("web: ").contains("(being changed)");
                assertThat(send(groups, "", "group", "change", "web", "{\"a\": 1}").message())
                        .isEqualTo("the group web is being changed already");
                assertThat(send(groups, "", "group", "delete", "web").message()).isEqualTo("the group web is being "
                        + "changed: delete it once 'ops groups' no longer says BEING CHANGED");
                made.host.releaseStarts();

                await().atMost(Duration.ofSeconds(20)).until(() -> made.changes.stream()
                        .anyMatch(c -> c.group().equals("web") && c.change().equals(GroupChange.CHANGED)));
                Scaler after = groups.get("web").orElseThrow();
                assertThat(after).isNotSameAs(before);
                assertThat(after.runtimeSettings().maxReplicas()).isEqualTo(5);
                await().atMost(Duration.ofSeconds(10)).until(() -> after.replicas().equals(Map.of(
                        "web-0000", ReplicaState.READY, "web-0001", ReplicaState.READY)));
                // taken back, never drained nor restarted; the other group untouched
                assertThat(web.lifecycle()).noneMatch(v -> v.state() == ReplicaState.DRAINING
                        || v.state() == ReplicaState.STOPPING || v.state() == ReplicaState.FAILED);
                assertThat(made.udp.lifecycle()).noneMatch(v -> v.state() == ReplicaState.DRAINING);
                assertThat(send(groups, "web", "scale", "3").ok()).isTrue();
                web.awaitReady(3);
            } finally {
                made.host.releaseStarts();
                made.made.values().forEach(h -> h.scaler.close());
            }
        }
    }

    @Test
    void aGroupDeletedWhileItsStartIsInLibvirtLeavesNothingBehind() throws Exception {
        try (Made made = new Made()) {
            FakeHypervisor host = made.host;
            ScalerHarness udp = made.udp;
            ScalerGroups groups = made.groups;
            assertThat(send(groups, "", "group", "create", "web", "{}").ok()).isTrue();
            ScalerHarness web = made.made.get("web");
            try {
                web.awaitReady(1);
                host.holdStarts();
                try {
                    assertThat(send(groups, "web", "scale", "2").ok()).isTrue();
                    await().atMost(Duration.ofSeconds(10)).until(() -> host.startWaiting);
                    // the scale-up's start is in libvirt: the group is deleted meanwhile
                    assertThat(send(groups, "", "group", "delete", "web").ok()).isTrue();
                } finally {
                    host.releaseStarts();
                }
                await().atMost(Duration.ofSeconds(20)).until(() -> {
                    acknowledgeDrains(groups, web);
                    return made.deleted("web");
                });
                assertThat(host.names()).noneMatch(n -> n.startsWith("web-"));
                // the replica being started answered at once here (the fake's guests do): drained like the other
                assertThat(web.saw("web-0001", ReplicaState.STOPPED)).as("the replica being started went too").isTrue();
                assertThat(udp.scaler.replicas()).containsExactly(Map.entry("udp-0000", ReplicaState.READY));
            } finally {
                made.made.values().forEach(h -> h.scaler.close()); // before the host's guests close
            }
        }
    }

    private static LbStats stats(String endpoint, int inFlight, boolean removed) {
        return new LbStats(0, 0, 0, 0, 0, 0, 0, 0,
                Map.of(endpoint, new LbStats.ServerStats(1, 1, 0, 0, inFlight, false, removed)), "low", 100);
    }
}
