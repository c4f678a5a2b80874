package io.vmscale.balancer.traffic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.hook.ExecHook;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The exec driver and its hook, with real programs: what they are told, a bad exit, a program that hangs. */
class ExecDriverTest {
    private static final Duration SOON = Duration.ofSeconds(10);
    private static final Pattern OURS = Pattern.compile("web-\\d{4}");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private Path program(String name, String body) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
        return p;
    }

    private List<JsonNode> told(Path log) throws Exception {
        List<JsonNode> lines = new ArrayList<>();
        if (Files.exists(log)) {
            for (String line : Files.readAllLines(log)) {
                lines.add(JSON.readTree(line));
            }
        }
        return lines;
    }

    @Test
    void eachChangeIsOneRunWithTheWholeListAndADrainDoneIsItsAcknowledgement() throws Exception {
        Path log = dir.resolve("told.jsonl");
        Path hook = program("hook", "cat >> " + log + "; echo >> " + log);
        List<Event> published = new CopyOnWriteArrayList<>();
        Endpoint a = new Endpoint("127.0.0.1", 21100);
        Endpoint b = new Endpoint("127.0.0.1", 21101);
        try (TrafficService service = new TrafficService(new ExecDriver(new ExecHook(hook, Duration.ofSeconds(5)), "web"),
                OURS.asMatchPredicate(), published::add, Duration.ofMillis(100))) {
            service.applyListing(List.of(new VmLifecycle("web-0000", "h", a, ReplicaState.READY, "listed")));
            service.onLifecycle(new VmLifecycle("web-0001", "h", b, ReplicaState.READY, "ready"));
            service.onLifecycle(new VmLifecycle("other-0001", "h", b, ReplicaState.READY, "not ours"));
            service.onLifecycle(new VmLifecycle("web-0000", "h", a, ReplicaState.DRAINING, "scale down"));
            await().atMost(SOON).until(() -> published.stream().anyMatch(e -> e instanceof LbStats s
                    && s.servers().containsKey(a.toString()) && s.servers().get(a.toString()).removed()));
            service.onLifecycle(new VmLifecycle("web-0000", "h", null, ReplicaState.STOPPED, "stopped"));
            await().atMost(SOON).until(() -> told(log).size() == 4);
            List<JsonNode> changes = told(log);
            assertThat(changes).extracting(c -> c.get("action").asText() + " " + c.get("domain").asText())
                    .containsExactly("add web-0000", "add web-0001", "drain web-0000", "remove web-0000");
            assertThat(changes.get(2).get("replicas").toString()).isEqualTo(
                    "[{\"domain\":\"web-0000\",\"ip\":\"127.0.0.1\",\"port\":21100,\"draining\":true},"
                            + "{\"domain\":\"web-0001\",\"ip\":\"127.0.0.1\",\"port\":21101,\"draining\":false}]");
            assertThat(changes.get(3).get("replicas")).hasSize(1);
            assertThat(changes.get(0).get("group").asText()).isEqualTo("web");
        }
    }

    @Test
    void aBadExitIsLoggedAndTriedAgainAHangingProgramIsKilledAtItsTimeout() throws Exception {
        Path fails = program("fails", "cat > /dev/null; echo 'dns server said no' >&2; exit 3");
        ExecHook.Result bad = new ExecHook(fails, Duration.ofSeconds(5)).run("{}");
        assertThat(bad.ok()).isFalse();
        assertThat(bad.describe()).matches("exit 3 in \\d+ ms: dns server said no");

        Path hangs = program("hangs", "sleep 60");
        ExecHook.Result hung = new ExecHook(hangs, Duration.ofMillis(300)).run("{}");
        assertThat(hung.timedOut()).isTrue();
        assertThat(hung.millis()).isBetween(300L, 5_000L);
        assertThat(hung.describe()).startsWith("timed out after ");

        assertThat(new ExecHook(dir.resolve("absent"), Duration.ofSeconds(1)).run("{}").describe())
                .isEqualTo("did not run: " + dir.resolve("absent") + " is not an executable file");

        ExecDriver driver = new ExecDriver(new ExecHook(fails, Duration.ofSeconds(5)), "web");
        try (TrafficService service = new TrafficService(driver, OURS.asMatchPredicate(), e -> { }, Duration.ofMillis(50))) {
            service.onLifecycle(new VmLifecycle("web-0000", "h", new Endpoint("127.0.0.1", 21100), ReplicaState.READY,
                    "ready"));
            await().atMost(SOON).until(() -> service.syncs() >= 5);
            assertThat(driver.runs()).as("refused once, not again before its retry").isEqualTo(1);
            assertThat(driver.refused()).isEqualTo(1);
        }
    }
}
