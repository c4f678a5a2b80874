package io.vmscale.cli.chart;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.Envelope;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.broker.event.VmLifecycle;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChartModelTest {
    private static final Instant T0 = Instant.parse("2026-11-24T10:00:00Z");
    private static final Endpoint AT = new Endpoint("127.0.0.1", 21101);
    private final ChartModel model = new ChartModel(null, 75, 40);
    private long seq;

    private void at(int second, String source, Event event) {
        model.accept(Envelope.of(event, T0.plusSeconds(second), source, ++seq));
    }

    private static VmLifecycle state(ReplicaState state) {
        return new VmLifecycle("r-0001", "qemu:///system", AT, state, "why");
    }

    private static CpuSample cpu(double percent) {
        return new CpuSample("qemu:///system", "r-0001", "RUNNING", 1, 0, percent, 1000);
    }

    @Test
    void theWarmPoolIsASeriesOfItsOwnAndItsReplicasCpuIsNotDrawnAsLoad() {
        at(0, "scaler@a", state(ReplicaState.WARMING));
        at(1, "monitor@a", cpu(100)); // booting for the pool: not load
        at(5, "monitor@a", new VmLifecycle("r-0001", "qemu:///system", null, ReplicaState.STOPPED, "stopped: saved"));
        at(6, "scaler@a", state(ReplicaState.POOLED)); // the monitor's STOPPED of the save came first: still pooled
        at(7, "monitor@a", cpu(0));
        assertThat(model.snapshot().cpu()).doesNotContainKey("r-0001");
        assertThat(model.snapshot().pool()).extracting(ChartModel.Point::value).first().isEqualTo(1.0);

        at(10, "scaler@a", state(ReplicaState.STARTING));
        at(10, "scaler@a", state(ReplicaState.READY));
        at(11, "monitor@a", cpu(55));
        ChartModel.Snapshot s = model.snapshot();
        assertThat(s.cpu().get("r-0001")).extracting(ChartModel.Point::value).containsExactly(55.0);
        assertThat(s.pool()).extracting(ChartModel.Point::value).containsExactly(1.0, 0.0, 0.0);
        assertThat(s.replicas()).extracting(ChartModel.Point::value).last().isEqualTo(1.0);
    }

    @Test
    void aTrafficDriverWithoutLatenciesDrawsNoP99AtZero() {
        at(0, "balancer@a", new LbStats(0, 0, 0, 0, 0, 0, 0, 0, Map.of(), "round-robin", 1000, 0)); // idle: 0 ms is true
        at(1, "balancer@a", new LbStats(50, 50, 0, 0, 50, 3, 5, 7.5, Map.of(), "round-robin", 1000, 0));
        at(2, "traffic@a", new LbStats(0, 0, 0, 0, 0, 0, 0, 0, Map.of(), "haproxy", 1000, 0)); // before any traffic
        at(3, "traffic@a", new LbStats(40, 40, 0, 0, 40, 0, 0, 0, Map.of(), "haproxy", 1000, 0)); // served, not timed
        ChartModel.Snapshot s = model.snapshot();
        assertThat(s.p99()).extracting(ChartModel.Point::value).containsExactly(0.0, 7.5);
        assertThat(s.throughput()).extracting(ChartModel.Point::value).containsExactly(0.0, 50.0, 0.0, 40.0);
    }

    @Test
    void aLiveMigrationIsAMarkerAndTheReplicaCountsThroughoutWhateverTheOldHostSays() {
        String two = "qemu+tcp://127.0.0.2:16509/system";
        at(0, "scaler@a", state(ReplicaState.READY));
        at(10, "scaler@a", new ScaleDecision(ScaleAction.MIGRATE, 1, 1, "operator", "OperatorMigrate", "moving r-0001",
                java.util.Map.of(), "r-0001"));
        at(10, "scaler@a", state(ReplicaState.MIGRATING));
        at(12, "monitor@a", new VmLifecycle("r-0001", "qemu:///system", null, ReplicaState.PAUSED, "suspended: migrated"));
        at(13, "scaler@a", new VmLifecycle("r-0001", two, new Endpoint("127.0.0.2", 21101), ReplicaState.READY, "moved"));
        at(14, "monitor@a", new VmLifecycle("r-0001", "qemu:///system", null, ReplicaState.STOPPED, "stopped: migrated"));
        ChartModel.Snapshot s = model.snapshot();
        assertThat(s.replicas()).extracting(ChartModel.Point::value).containsOnly(1.0);
        assertThat(s.markers()).singleElement().satisfies(m -> {
            assertThat(m.kind()).isEqualTo(ChartModel.Kind.MIGRATE);
            assertThat(m.label()).isEqualTo("MIGRATE r-0001 OperatorMigrate");
        });
        at(20, "monitor@a", new VmLifecycle("r-0001", two, null, ReplicaState.STOPPED, "destroyed"));
        assertThat(model.snapshot().replicas()).extracting(ChartModel.Point::value).last().isEqualTo(0.0);
    }

    private static LbStats calibrating(boolean calibrating) {
        return new LbStats(1, 1, 0, 0, 1, 1, 1, 1, Map.of(AT.toString(),
                new LbStats.ServerStats(1, 1, 0, 0, 16, false, false, calibrating)), "low", 1000);
    }

    @Test
    void aCalibrationIsAShadedStretchFromTheMarkToItsEndAndOneGoingOnReachesNow() {
        at(0, "balancer@a", calibrating(false));
        at(2, "balancer@a", calibrating(true));
        at(3, "balancer@a", calibrating(true));
        at(6, "balancer@a", calibrating(false));
        at(8, "balancer@a", calibrating(true));
        at(9, "monitor@a", cpu(100));
        assertThat(model.snapshot().calibrations()).containsExactly(
                new ChartModel.Span(T0.plusSeconds(2), T0.plusSeconds(6), "calibrating " + AT),
                new ChartModel.Span(T0.plusSeconds(8), T0.plusSeconds(9), "calibrating " + AT));
    }

    @Test
    void aGroupsChartHoldsOnlyItsOwnDomainsDecisionsAndTraffic() {
        ChartModel web = new ChartModel(null, 75, 40).of("web", false);
        ChartModel first = new ChartModel(null, 75, 40).of("r", true);
        List<Event> events = List.of(
                new CpuSample("qemu:///system", "web-0000", "RUNNING", 1, 0, 80, 1000),
                cpu(30),
                new VmLifecycle("web-0000", "qemu:///system", AT, ReplicaState.READY, "answered"),
                new ScaleDecision(ScaleAction.UP, 1, 2, "threshold-window", "AboveHighThreshold", "high", Map.of(), null,
                        "web"),
                new ScaleDecision(ScaleAction.DOWN, 2, 1, "threshold-window", "BelowLowThreshold", "low", Map.of(), null),
                new LbStats(9, 9, 0, 0, 9, 0, 0, 0, Map.of(), "haproxy", 1000, 0).forGroup("web"),
                new LbStats(50, 50, 0, 0, 50, 3, 5, 7.5, Map.of(), "round-robin", 1000, 0));
        for (Event e : events) {
            web.accept(Envelope.of(e, T0, "x@a", ++seq));
            first.accept(Envelope.of(e, T0, "x@a", ++seq));
        }
        assertThat(web.snapshot().cpu()).containsOnlyKeys("web-0000");
        assertThat(web.snapshot().markers()).extracting(ChartModel.Marker::label).singleElement().asString()
                .startsWith("UP 1");
        assertThat(web.snapshot().throughput()).extracting(ChartModel.Point::value).containsExactly(9.0);
        assertThat(first.snapshot().cpu()).containsOnlyKeys("r-0001");
        assertThat(first.snapshot().markers()).extracting(ChartModel.Marker::label).singleElement().asString()
                .startsWith("DOWN 2");
        assertThat(first.snapshot().throughput()).extracting(ChartModel.Point::value).containsExactly(50.0);
    }
}
