package io.vmscale.cli.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Role;
import io.vmscale.broker.TestBrokers;
import io.vmscale.broker.BrokerConfig;
import io.vmscale.broker.event.GroupChange;
import io.vmscale.cli.Main;
import io.vmscale.cli.config.ConfigLoader;
import io.vmscale.cli.config.VmscaleConfig;
import io.vmscale.cli.stack.Stack;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Groups created, changed and deleted at run time through {@code ops group}, on a whole stack (broker, monitor, scaler,
 * balancer) over libvirt's test driver: the scaler reconciles the new group, the monitor reads its domains, its traffic
 * driver runs, a change starts its scaler again with the new spec, and a restart of the stack (the same broker data)
 * takes it back as changed; a deleted group stays deleted.
 */
class GroupLifecycleTest {
    @TempDir
    Path dir;

    private Path config;

    private Stack start(StringWriter log) {
        return Stack.start(ConfigLoader.load(config), new PrintWriter(log, true), "groups-test");
    }

    private int ops(StringWriter out, StringWriter err, String... args) {
        List<String> all = new java.util.ArrayList<>(List.of("ops", "--config", config.toString()));
        all.addAll(List.of(args));
        return Main.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                .execute(all.toArray(String[]::new));
    }

    @Test
    void aGroupCreatedAtRunTimeRunsInEveryComponentAndOutlivesARestartAndADeletedOneStaysDeleted() throws Exception {
        BrokerConfig broker = TestBrokers.config(dir.resolve("broker"));
        config = dir.resolve("vmscale.json");
        Files.writeString(config, """
                {"broker": {"port": %d, "dataDir": "%s"},
                 "libvirt": {"uris": ["test:///default"], "prefix": "rtg"},
                 "provisioning": {"mode": "pool"},
                 "balancer": {"frontPort": 0},
                 "scaler": {"minReplicas": 0, "maxReplicas": 2}}
                """.formatted(broker.port(), broker.dataDir()));
        Path spec = dir.resolve("web.json");
        Files.writeString(spec, """
                {"scaler": {"minReplicas": 0, "maxReplicas": 3, "policy": "target-tracking"},
                 "traffic": {"driver": "exec", "exec": "/bin/true"}}""");
        StringWriter log = new StringWriter();
        List<GroupChange> changes = new CopyOnWriteArrayList<>();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        VmscaleConfig loaded = ConfigLoader.load(config);
        try (Stack stack = start(log);
             BrokerConnection watcher = io.vmscale.cli.common.BrokerClients.connect(loaded.broker(), Role.VIEWER, "t")) {
            watcher.subscribe(GroupChange.class, e -> changes.add(e.body()));
            // a spec with a mistake: refused with the key named, nothing made
            Path bad = dir.resolve("bad.json");
            Files.writeString(bad, "{\"scaler\": {\"maxReplicas\": -1}, \"traffic\": {\"driver\": \"exec\", \"exec\": \"/bin/true\"}}");
            assertThat(ops(out, err, "group", "create", "web", "--file", bad.toString())).isEqualTo(1);
            assertThat(err.toString()).contains("error: group web's spec: key 'scaler.maxReplicas': expected");
            assertThat(ops(out, err, "group", "create", "web", "--file", dir.resolve("nope.json").toString())).isEqualTo(1);
            assertThat(err.toString()).contains("--file " + dir.resolve("nope.json") + ": no such file");
            assertThat(stack.groups().names()).containsExactly("rtg");

            assertThat(ops(out, err, "group", "create", "web", "--file", spec.toString())).as("%s", err).isZero();
            assertThat(out.toString()).contains("group web created: 0..3 replicas web-NNNN, target-tracking");
            assertThat(stack.groups().names()).containsExactly("rtg", "web");
            await().atMost(Duration.ofSeconds(10)).until(() -> changes.stream().anyMatch(c ->
                    c.group().equals("web") && c.change().equals(GroupChange.CREATED)));
            await().atMost(Duration.ofSeconds(10)).until(() -> stack.monitor().prefixes().contains("web"));
            out.getBuffer().setLength(0);
            assertThat(ops(out, err, "groups")).isZero();
            assertThat(out.toString()).contains("web ").contains("0..3");
            assertThat(ops(out, err, "--group", "web", "max", "2")).isZero();
            // its traffic driver answers for it: what carries its traffic, in sync with the scaler's listing
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                out.getBuffer().setLength(0);
                return ops(out, err, "--group", "web", "status") == 0
                        && out.toString().contains("group web's traffic through exec: 0 target(s), ")
                        && out.toString().contains(", in sync");
            });
            // its spec changed: a merge patch; the scaler starts again with it, an operator's 'max 2' gives way to it
            out.getBuffer().setLength(0);
            assertThat(ops(out, err, "group", "change", "web", "{\"scaler\": {\"maxReplicas\": 4}, "
                    + "\"traffic\": {\"exec\": \"/bin/echo\"}}")).as("%s", err).isZero();
            assertThat(out.toString()).contains("changing the group web (scaler.maxReplicas, traffic.exec): its "
                    + "scaler starts again with the new spec");
            await().atMost(Duration.ofSeconds(10)).until(() -> changes.stream().anyMatch(c ->
                    c.group().equals("web") && c.change().equals(GroupChange.CHANGED)));
            assertThat(stack.groups().get("web").orElseThrow().runtimeSettings().maxReplicas()).isEqualTo(4);
            assertThat(ops(out, err, "group", "change", "web", "{\"scaler\": {\"maxReplicas\": 0}}")).isEqualTo(1);
            assertThat(err.toString()).contains("error: group web's spec: key 'scaler.maxReplicas': expected");
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                out.getBuffer().setLength(0);
                return ops(out, err, "--group", "web", "status") == 0
                        && out.toString().contains("group web's traffic through exec: 0 target(s), ");
            });
        }
        assertThat(log.toString()).contains("groups-test: group web created");

        // the same broker data: the group is taken back, in every component
        StringWriter again = new StringWriter();
        try (Stack stack = start(again)) {
            assertThat(again.toString()).contains("groups-test: group web: created at run time, taken back");
            assertThat(stack.groups().names()).containsExactly("rtg", "web");
            assertThat(stack.monitor().prefixes()).contains("rtg", "web");
            assertThat(stack.groups().get("web").orElseThrow().runtimeSettings().policy()).isEqualTo("target-tracking");
            assertThat(stack.groups().get("web").orElseThrow().runtimeSettings().maxReplicas()).as("as changed")
                    .isEqualTo(4);

            out.getBuffer().setLength(0);
            assertThat(ops(out, err, "group", "delete", "rtg")).isEqualTo(1);
            assertThat(err.toString()).contains("the group rtg is the first, the configuration's top level");
            assertThat(ops(out, err, "group", "delete", "web")).isZero();
            assertThat(out.toString()).contains("deleting the group web: its 0 replica(s) are drained one at a time");
            await().atMost(Duration.ofSeconds(10)).until(() -> stack.groups().names().equals(List.of("rtg")));
            await().atMost(Duration.ofSeconds(10)).until(() -> !stack.monitor().prefixes().contains("web"));
        }
        StringWriter third = new StringWriter();
        try (Stack stack = start(third)) {
            assertThat(stack.groups().names()).containsExactly("rtg");
            assertThat(third.toString()).doesNotContain("group web");
        }
    }
}
