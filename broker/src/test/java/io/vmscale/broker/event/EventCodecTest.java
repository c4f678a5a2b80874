package io.vmscale.broker.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class EventCodecTest {
    private static final Instant TS = Instant.parse("2026-11-24T10:15:30.123Z");
    private final EventCodec codec = new EventCodec();

    static Stream<Event> oneOfEachType() {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("replicas", 2);
        data.put("paused", false);
        data.put("names", List.of("vm-0000", "vm-0001"));
        return Stream.of(
                new CpuSample("qemu:///system", "vmscale-0000", "RUNNING", 1, 12_345_678_901L, 87.5, 1000),
                new VmLifecycle("vmscale-0001", "qemu:///system", new Endpoint("127.0.0.1", 21002),
                        ReplicaState.READY, "probe answered"),
                new VmLifecycle("vmscale-0002", "test:///default", null, ReplicaState.FAILED, "crashed"),
                new VmLifecycle("vmscale-0003", "qemu:///system", new Endpoint("127.0.0.1", 21003),
                        ReplicaState.READY, "from the warm pool (paused), answered its probe", true),
                new ScaleDecision(ScaleAction.UP, 1, 2, "threshold-window", "AboveHighThreshold",
                        "every sample of the last 30 s was above 80 %", Map.of("meanCpu", 91.25, "windowSeconds", 30.0),
                        "vmscale-0001"),
                new ScaleDecision(ScaleAction.HOLD, 2, 2, "target-tracking", "WithinTolerance", "inside the band",
                        Map.of(), null),
                new AdminCommand("req-1", "vmscale.reply.abc", "balancer", "add", List.of("10.0.0.5", "21001")),
                new AdminCommand("req-2", "vmscale.reply.abc", "scaler", "scale", List.of("2"), "web"),
                new ScaleDecision(ScaleAction.UP, 1, 2, "operator", "OperatorScale", "asked", Map.of(), null, "web"),
                new AdminResult("req-1", "balancer@host", true, "added 10.0.0.5:21001", data),
                new LbStats(1000, 990, 8, 2, 495.5, 1.25, 2.5, 9.75,
                        Map.of("127.0.0.1:21001", new LbStats.ServerStats(500, 495, 4, 1, 3, false, false),
                                "127.0.0.1:21002", new LbStats.ServerStats(80, 78, 0, 0, 2, false, true)), "high", 1000),
                new HostStatus("qemu:///system", false, "closed: EOF"),
                new HostStatus("qemu:///system", true, "figures", 2, 37.5, 3, 8_000_000, 1_500_000),
                new GroupChange("web", GroupChange.CREATED, "{\"scaler\": {\"maxReplicas\": 3}}", "created by an operator"),
                new GroupChange("web", GroupChange.CHANGED, "{\"scaler\": {\"maxReplicas\": 4}}", "changed: scaler.maxReplicas"),
                new GroupChange("web", GroupChange.DELETED, "", "deleted by an operator"));
    }

    @Test
    void coversEveryEventType() {
        Set<EventType> covered = oneOfEachType().map(Event::type).collect(Collectors.toSet());
        assertThat(covered).isEqualTo(EnumSet.allOf(EventType.class));
    }

    @Test
    void aLifecycleEventOfAnOlderLogWithoutWarmStartIsACold() {
        String older = "{\"type\":\"vm.lifecycle\",\"v\":1,\"ts\":\"2026-11-24T10:15:30.123Z\",\"source\":\"scaler@h\","
                + "\"seq\":7,\"body\":{\"domain\":\"vmscale-0001\",\"host\":\"qemu:///system\",\"endpoint\":null,"
                + "\"state\":\"READY\",\"reason\":\"from the warm pool (paused), answered its probe\"}}";
        VmLifecycle read = (VmLifecycle) codec.decode(older).body();
        assertThat(read.state()).isEqualTo(ReplicaState.READY);
        assertThat(read.warmStart()).as("no field, whatever the reason says").isFalse();
        String newer = codec.encode(Envelope.of(new VmLifecycle("vmscale-0001", "qemu:///system", null,
                ReplicaState.READY, "moved from there", true), TS, "scaler@h", 8));
        assertThat(newer).contains("\"warmStart\":true");
        assertThat(((VmLifecycle) codec.decode(newer).body()).warmStart()).isTrue();
    }

    @Test
    void aCommandOrDecisionOfAnEarlierReleaseIsTheFirstGroups() {
        String command = "{\"type\":\"admin.command\",\"v\":1,\"ts\":\"2026-11-24T10:15:30Z\",\"source\":\"ops@h\","
                + "\"seq\":1,\"body\":{\"requestId\":\"r\",\"replyTo\":\"vmscale.reply.x\",\"target\":\"scaler\","
                + "\"command\":\"scale\",\"args\":[\"2\"]}}";
        assertThat(((AdminCommand) codec.decode(command).body()).group()).isEmpty();
        String decision = "{\"type\":\"scale.decision\",\"v\":1,\"ts\":\"2026-11-24T10:15:30Z\",\"source\":\"s@h\","
                + "\"seq\":1,\"body\":{\"action\":\"HOLD\",\"fromReplicas\":1,\"toReplicas\":1,\"policy\":\"p\","
                + "\"reasonCode\":\"C\",\"reason\":\"r\",\"inputs\":{},\"domain\":null}}";
        assertThat(((ScaleDecision) codec.decode(decision).body()).group()).isEmpty();
        String newer = codec.encode(Envelope.of(new AdminCommand("r", "vmscale.reply.x", "scaler", "status", List.of(),
                "web"), TS, "ops@h", 2));
        assertThat(newer).contains("\"group\":\"web\"");
        assertThat(((AdminCommand) codec.decode(newer).body()).group()).isEqualTo("web");
        String stats = "{\"type\":\"lb.stats\",\"v\":1,\"ts\":\"2026-11-24T10:15:30Z\",\"source\":\"b@h\",\"seq\":1,"
                + "\"body\":{\"sent\":1,\"answered\":1,\"timedOut\":0,\"wrong\":0,\"throughput\":1,\"p50Ms\":0,"
                + "\"p90Ms\":0,\"p99Ms\":0,\"servers\":{},\"mode\":\"low\",\"intervalMs\":1000}}";
        assertThat(((LbStats) codec.decode(stats).body()).group()).isEmpty();
        String ofWeb = codec.encode(Envelope.of(new LbStats(1, 1, 0, 0, 1, 0, 0, 0, java.util.Map.of(), "haproxy", 1000)
                .forGroup("web"), TS, "traffic@h", 3));
        assertThat(ofWeb).contains("\"group\":\"web\"");
        assertThat(((LbStats) codec.decode(ofWeb).body()).group()).isEqualTo("web");
    }

    @ParameterizedTest
    @MethodSource("oneOfEachType")
    void roundTripsEveryEventType(Event body) {
        Envelope<Event> sent = Envelope.of(body, TS, "test@host", 42);
        String json = codec.encode(sent);
        assertThat(json).contains("\"type\":\"" + body.type().wireName() + "\"", "\"v\":1",
                "\"ts\":\"2026-11-24T10:15:30.123Z\"", "\"seq\":42");
        assertThat(codec.decode(json)).isEqualTo(sent);
    }

    @Test
    void reportsAnUnknownTypeByName() {
        String json = "{\"type\":\"cpu.sampel\",\"v\":1,\"ts\":\"2026-11-24T10:15:30Z\",\"source\":\"x@y\",\"seq\":1,\"body\":{}}";
        assertThatThrownBy(() -> codec.decode(json))
                .isInstanceOf(UnknownEventTypeException.class)
                .hasMessageContaining("unknown event type 'cpu.sampel'")
                .hasMessageContaining("cpu.sample, vm.lifecycle");
    }

    @Test
    void toleratesUnknownFieldsAndALaterSchemaVersion() {
        String json = """
                {"type":"vm.lifecycle","v":3,"ts":"2026-11-24T10:15:30Z","source":"scaler@h","seq":7,
                 "zone":"eu-1","body":{"domain":"vmscale-0000","host":"qemu:///system","state":"DRAINING",
                 "reason":"scale down","endpoint":{"ip":"127.0.0.1","port":21001,"proto":"udp"},"weight":3}}
                """;
        Envelope<? extends Event> envelope = codec.decode(json);
        assertThat(envelope.version()).isEqualTo(3);
        assertThat(envelope.body()).isEqualTo(new VmLifecycle("vmscale-0000", "qemu:///system",
                new Endpoint("127.0.0.1", 21001), ReplicaState.DRAINING, "scale down"));
    }

    @Test
    void readsLbStatsRecordedBeforeServersCarriedRemovedAsNotRemoved() {
        String json = """
                {"type":"lb.stats","v":1,"ts":"2026-11-24T10:15:30Z","source":"balancer@h","seq":9,
                 "body":{"sent":10,"answered":9,"timedOut":1,"wrong":0,"throughput":9.0,"p50Ms":1.0,"p90Ms":2.0,
                 "p99Ms":3.0,"servers":{"127.0.0.1:21001":{"sent":10,"answered":9,"timedOut":1,"wrong":0,
                 "inFlight":0,"ejected":false}},"mode":"low","intervalMs":1000}}
                """;
        LbStats stats = (LbStats) codec.decode(json).body();
        assertThat(stats.servers().get("127.0.0.1:21001"))
                .isEqualTo(new LbStats.ServerStats(10, 9, 1, 0, 0, false, false));
    }

    @Test
    void writesRemovedForEveryServer() {
        LbStats stats = new LbStats(1, 1, 0, 0, 1, 1, 1, 1,
                Map.of("127.0.0.1:21001", new LbStats.ServerStats(1, 1, 0, 0, 0, false, true)), "low", 1000);
        assertThat(codec.encode(Envelope.of(stats, TS, "balancer@h", 1)))
                .contains("\"inFlight\":0,\"ejected\":false,\"removed\":true");
    }

    @Test
    void carriesAReplicaBeingCalibrated() {
        LbStats stats = new LbStats(1, 1, 0, 0, 1, 1, 1, 1,
                Map.of("127.0.0.1:21001", new LbStats.ServerStats(1, 1, 0, 0, 12, false, false, true)), "low", 1000);
        String json = codec.encode(Envelope.of(stats, TS, "balancer@h", 1));
        assertThat(json).contains("\"removed\":false,\"calibrating\":true");
        assertThat(((LbStats) codec.decode(json).body()).servers().get("127.0.0.1:21001").calibrating()).isTrue();
    }

    @Test
    void readsAHostStatusWrittenBeforeTheHostFiguresExisted() {
        String json = """
                {"type":"host.status","v":1,"ts":"2026-11-24T10:15:30Z","source":"monitor@h","seq":3,
                 "body":{"host":"qemu:///system","connected":true,"reason":"connected"}}
                """;
        HostStatus status = (HostStatus) codec.decode(json).body();
        assertThat(status).isEqualTo(new HostStatus("qemu:///system", true, "connected"));
        assertThat(status).extracting(HostStatus::cpus, HostStatus::cpuPercent, HostStatus::domainVcpus,
                HostStatus::memoryKiB, HostStatus::freeMemoryKiB).containsOnly(-1, -1.0, -1L);
    }

    @Test
    void refusesHostFiguresOutOfRange() {
        assertThatThrownBy(() -> new HostStatus("h", true, "figures", 2, 100.5, 0, 1, 1))
                .hasMessageContaining("cpuPercent must be 0 to 100 or -1 (unknown), got 100.5");
        assertThatThrownBy(() -> new HostStatus("h", true, "figures", -2, 1, 0, 1, 1))
                .hasMessageContaining("cpus must be >= 0 or -1 (unknown), got -2");
    }

    @Test
    void saysWhatIsWrongWithABadEnvelope() {
        assertThatThrownBy(() -> codec.decode("not json")).isInstanceOf(EventFormatException.class)
                .hasMessageStartingWith("not JSON");
        assertThatThrownBy(() -> codec.decode("[1,2]")).hasMessageContaining("must be a JSON object");
        assertThatThrownBy(() -> codec.decode("{\"v\":1}")).hasMessageContaining("field 'type' is missing");
        assertThatThrownBy(() -> codec.decode(
                "{\"type\":\"lb.stats\",\"v\":0,\"ts\":\"2026-11-24T10:15:30Z\",\"source\":\"a\",\"seq\":1,\"body\":{}}"))
                .hasMessageContaining("lb.stats: field 'v' must be an integer >= 1");
        assertThatThrownBy(() -> codec.decode(
                "{\"type\":\"lb.stats\",\"v\":1,\"ts\":\"yesterday\",\"source\":\"a\",\"seq\":1,\"body\":{}}"))
                .hasMessageContaining("field 'ts' is not an ISO-8601 instant");
    }

    @Test
    void saysWhatIsWrongWithABadBody() {
        String json = """
                {"type":"cpu.sample","v":1,"ts":"2026-11-24T10:15:30Z","source":"monitor@h","seq":1,
                 "body":{"host":"qemu:///system","domain":"d","state":"RUNNING","vcpus":0,"cpuTimeNs":1,
                 "cpuPercent":1.0,"intervalMs":1000}}
                """;
        assertThatThrownBy(() -> codec.decode(json)).isInstanceOf(EventFormatException.class)
                .hasMessageContaining("cpu.sample body: vcpus must be >= 1, got 0");
        String noDomain = json.replace("\"domain\":\"d\",", "").replace("\"vcpus\":0", "\"vcpus\":1");
        assertThatThrownBy(() -> codec.decode(noDomain)).hasMessageContaining("domain is required");
        String badState = """
                {"type":"vm.lifecycle","v":1,"ts":"2026-11-24T10:15:30Z","source":"s","seq":1,
                 "body":{"domain":"d","host":"h","state":"EXPLODED"}}
                """;
        assertThatThrownBy(() -> codec.decode(badState)).hasMessageContaining("vm.lifecycle body")
                .hasMessageContaining("EXPLODED");
    }

    @Test
    void eventsAreImmutable() {
        Map<String, Double> inputs = new LinkedHashMap<>(Map.of("meanCpu", 50.0));
        ScaleDecision decision = new ScaleDecision(ScaleAction.HOLD, 1, 1, "p", "Code", "why", inputs, null);
        inputs.put("meanCpu", 99.0);
        assertThat(decision.inputs()).containsEntry("meanCpu", 50.0);
        assertThatThrownBy(() -> decision.inputs().put("x", 1.0)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> new AdminCommand("r", "to", "balancer", "add", java.util.Arrays.asList("a", null)))
                .isInstanceOf(NullPointerException.class);
    }
}
