package io.vmscale.scaler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
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

    private static LbStats stats(String endpoint, int inFlight, boolean removed) {
        return new LbStats(0, 0, 0, 0, 0, 0, 0, 0,
                Map.of(endpoint, new LbStats.ServerStats(1, 1, 0, 0, inFlight, false, removed)), "low", 100);
    }
}
