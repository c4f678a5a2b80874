package io.vmscale.scaler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.ReplicaState;
import java.time.Duration;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class FleetTest {
    private static final String HOST = "qemu:///system";
    private static final Instant T0 = Instant.parse("2026-11-24T10:00:00Z");
    private static final Endpoint AT = new Endpoint("127.0.0.1", 21100);

    static Stream<Arguments> moves() {
        return Stream.of(
                Arguments.of("a started replica answers", ReplicaState.STARTING, ReplicaState.READY, true),
                Arguments.of("a started replica never answers", ReplicaState.STARTING, ReplicaState.FAILED, true),
                Arguments.of("a booting replica is not drained", ReplicaState.STARTING, ReplicaState.DRAINING, false),
                Arguments.of("a serving replica is drained", ReplicaState.READY, ReplicaState.DRAINING, true),
                Arguments.of("a serving replica dies", ReplicaState.READY, ReplicaState.FAILED, true),
                Arguments.of("a serving replica is not stopped undrained", ReplicaState.READY, ReplicaState.STOPPING, false),
                Arguments.of("a drained replica is stopped", ReplicaState.DRAINING, ReplicaState.STOPPING, true),
                Arguments.of("a draining replica dies", ReplicaState.DRAINING, ReplicaState.FAILED, true),
                Arguments.of("a draining replica does not serve again", ReplicaState.DRAINING, ReplicaState.READY, false),
                Arguments.of("a failed replica is stopped (cleaned up)", ReplicaState.FAILED, ReplicaState.STOPPING, true),
                Arguments.of("a failed replica does not come back", ReplicaState.FAILED, ReplicaState.READY, false),
                Arguments.of("a stopping replica only goes", ReplicaState.STOPPING, ReplicaState.READY, false),
                Arguments.of("a stopping replica stays stopping on a failed stop", ReplicaState.STOPPING,
                        ReplicaState.FAILED, false),
                Arguments.of("a drained replica goes back to the warm pool", ReplicaState.DRAINING, ReplicaState.POOLED, true),
                Arguments.of("a serving replica is not parked undrained", ReplicaState.READY, ReplicaState.POOLED, false),
                Arguments.of("a warmed replica is parked", ReplicaState.WARMING, ReplicaState.POOLED, true),
                Arguments.of("a warming replica does not serve unprobed", ReplicaState.WARMING, ReplicaState.READY, false),
                Arguments.of("a warming replica is not counted as starting", ReplicaState.WARMING, ReplicaState.STARTING,
                        false),
                Arguments.of("a warming replica dies", ReplicaState.WARMING, ReplicaState.FAILED, true),
                Arguments.of("a parked replica is taken for a scale-up", ReplicaState.POOLED, ReplicaState.STARTING, true),
                Arguments.of("a parked replica does not serve unprobed", ReplicaState.POOLED, ReplicaState.READY, false),
                Arguments.of("a parked replica is trimmed", ReplicaState.POOLED, ReplicaState.STOPPING, true),
                Arguments.of("a parked replica dies", ReplicaState.POOLED, ReplicaState.FAILED, true),
                Arguments.of("a failed replica is not parked", ReplicaState.FAILED, ReplicaState.POOLED, false),
                Arguments.of("a serving replica is live-migrated", ReplicaState.READY, ReplicaState.MIGRATING, true),
                Arguments.of("a migrated replica serves again", ReplicaState.MIGRATING, ReplicaState.READY, true),
                Arguments.of("a migrating replica dies", ReplicaState.MIGRATING, ReplicaState.FAILED, true),
                Arguments.of("a migrating replica is not drained", ReplicaState.MIGRATING, ReplicaState.DRAINING, false),
                Arguments.of("a booting replica is not migrated", ReplicaState.STARTING, ReplicaState.MIGRATING, false),
                Arguments.of("a parked replica is not migrated", ReplicaState.POOLED, ReplicaState.MIGRATING, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("moves")
    void onlyLegalMovesAreMade(String name, ReplicaState from, ReplicaState to, boolean legal) {
        assertThat(Fleet.legal(from, to)).isEqualTo(legal);
        Fleet fleet = new Fleet();
        fleet.starting("r-0000", HOST, AT, T0, "scale up");
        walkTo(fleet, from);
        if (legal) {
            assertThat(fleet.move("r-0000", to, T0.plusSeconds(9), "why").state()).isEqualTo(to);
        } else {
            assertThatThrownBy(() -> fleet.move("r-0000", to, T0.plusSeconds(9), "why"))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("not a legal move");
            assertThat(fleet.get("r-0000").orElseThrow().state()).isEqualTo(from);
        }
    }

    private static void walkTo(Fleet fleet, ReplicaState state) {
        if (state == ReplicaState.WARMING || state == ReplicaState.POOLED) {
            fleet.move("r-0000", ReplicaState.READY, T0.plusSeconds(1), "probe");
            fleet.move("r-0000", ReplicaState.DRAINING, T0.plusSeconds(2), "down");
            fleet.move("r-0000", ReplicaState.POOLED, T0.plusSeconds(3), "parked");
            if (state == ReplicaState.WARMING) { // a fresh pool boot instead
                fleet.move("r-0000", ReplicaState.STOPPING, T0.plusSeconds(4), "trimmed");
                fleet.gone("r-0000");
                fleet.warming("r-0000", HOST, AT, T0.plusSeconds(5), "pool refill");
            }
            return;
        }
        switch (state) {
            case STARTING -> { }
            case READY -> fleet.move("r-0000", ReplicaState.READY, T0.plusSeconds(1), "probe");
            case MIGRATING -> {
                fleet.move("r-0000", ReplicaState.READY, T0.plusSeconds(1), "probe");
                fleet.move("r-0000", ReplicaState.MIGRATING, T0.plusSeconds(2), "to host two");
            }
            case DRAINING -> {
                fleet.move("r-0000", ReplicaState.READY, T0.plusSeconds(1), "probe");
                fleet.move("r-0000", ReplicaState.DRAINING, T0.plusSeconds(2), "down");
            }
            case FAILED -> fleet.move("r-0000", ReplicaState.FAILED, T0.plusSeconds(1), "died");
            case STOPPING -> {
                fleet.move("r-0000", ReplicaState.FAILED, T0.plusSeconds(1), "died");
                fleet.move("r-0000", ReplicaState.STOPPING, T0.plusSeconds(2), "cleanup");
            }
            default -> throw new IllegalArgumentException(state.name());
        }
    }

    @Test
    void aMigratedReplicaCountsThroughoutAndItsSamplesCountAgainAfterAWarmUpAtItsNewHost() {
        Fleet fleet = new Fleet();
        fleet.starting("r-0000", HOST, AT, T0, "scale up");
        fleet.move("r-0000", ReplicaState.READY, T0.plusSeconds(5), "probe");
        fleet.move("r-0000", ReplicaState.MIGRATING, T0.plusSeconds(60), "to two");
        assertThat(fleet.counted()).isEqualTo(1);
        assertThat(fleet.settled()).isFalse();
        Endpoint there = new Endpoint("127.0.0.2", AT.port());
        Fleet.Member moved = fleet.moved("r-0000", "qemu+tcp://127.0.0.2:16509/system", there, T0.plusSeconds(63), "moved");
        assertThat(moved.state()).isEqualTo(ReplicaState.READY);
        assertThat(moved.host()).isEqualTo("qemu+tcp://127.0.0.2:16509/system");
        assertThat(moved.endpoint()).isEqualTo(there);
        assertThat(moved.readyAt()).as("a new QEMU process: its samples count after a warm-up").isEqualTo(T0.plusSeconds(63));
        assertThat(moved.warmStart()).isFalse();
        assertThatThrownBy(() -> fleet.moved("r-0000", HOST, AT, T0, "again")).hasMessageContaining("not MIGRATING");
        fleet.move("r-0000", ReplicaState.MIGRATING, T0.plusSeconds(90), "to one");
        assertThat(fleet.moved("r-0000", "qemu+tcp://127.0.0.2:16509/system", there, T0.plusSeconds(95), "failed")
                .readyAt()).as("a failed move: where it was, as it was").isEqualTo(T0.plusSeconds(63));
    }

    @Test
    void thePoolIsNeitherCapacityNorLoadAndAReplicaTakenFromItIsWarmAtOnce() {
        Fleet fleet = new Fleet();
        fleet.starting("r-0000", HOST, AT, T0, "scale up");
        fleet.move("r-0000", ReplicaState.READY, T0.plusSeconds(5), "probe");
        fleet.warming("r-0001", HOST, AT, T0.plusSeconds(5), "pool refill");
        fleet.pooled("r-0002", HOST, AT, T0.plusSeconds(5), "found paused");
        assertThat(fleet.counted()).isEqualTo(1);
        assertThat(fleet.settled()).as("the pool refills in the background").isTrue();
        assertThat(fleet.pool()).extracting(Fleet.Member::domain).containsExactly("r-0001", "r-0002");
        assertThat(fleet.views(Duration.ofSeconds(10))).extracting(v -> v.domain()).containsExactly("r-0000");

        fleet.move("r-0002", ReplicaState.STARTING, T0.plusSeconds(20), "taken from the pool");
        fleet.move("r-0002", ReplicaState.READY, T0.plusSeconds(20), "resumed, answered");
        assertThat(fleet.counted()).isEqualTo(2);
        assertThat(fleet.views(Duration.ofSeconds(10))).filteredOn(v -> v.domain().equals("r-0002")).singleElement()
                .satisfies(v -> assertThat(v.warmSince()).as("no warm-up after the pool").isEqualTo(T0.plusSeconds(20)));
        assertThat(fleet.views(Duration.ofSeconds(10))).filteredOn(v -> v.domain().equals("r-0000")).singleElement()
                .satisfies(v -> assertThat(v.warmSince()).as("a cold boot warms up").isEqualTo(T0.plusSeconds(15)));

        fleet.move("r-0002", ReplicaState.DRAINING, T0.plusSeconds(30), "down");
        Fleet.Member back = fleet.move("r-0002", ReplicaState.POOLED, T0.plusSeconds(31), "returned");
        assertThat(back.readyAt()).isNull();
        assertThat(fleet.counted()).isEqualTo(1);
    }

    @Test
    void startingAndReadyAreCapacityAndOnlyAStoppingReplicaIsForgotten() {
        Fleet fleet = new Fleet();
        fleet.starting("r-0000", HOST, AT, T0, "scale up");
        fleet.starting("r-0001", HOST, AT, T0, "scale up");
        fleet.move("r-0000", ReplicaState.READY, T0.plusSeconds(5), "probe");
        assertThat(fleet.counted()).isEqualTo(2);
        assertThat(fleet.settled()).isFalse();
        assertThatThrownBy(() -> fleet.starting("r-0001", HOST, AT, T0, "again")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> fleet.gone("r-0000")).hasMessageContaining("not STOPPING");
        fleet.move("r-0001", ReplicaState.FAILED, T0.plusSeconds(6), "died");
        assertThat(fleet.counted()).isEqualTo(1);
        fleet.move("r-0001", ReplicaState.STOPPING, T0.plusSeconds(7), "cleanup");
        fleet.gone("r-0001");
        assertThat(fleet.settled()).isTrue();
        assertThat(fleet.scaleDownCandidate()).map(Fleet.Member::domain).contains("r-0000");
    }

    @Test
    void aReadyReplicaIsWarmFromReadyPlusTheWarmUp() {
        Fleet fleet = new Fleet();
        fleet.starting("r-0000", HOST, AT, T0, "scale up");
        fleet.move("r-0000", ReplicaState.READY, T0.plusSeconds(5), "probe");
        var view = fleet.views(Duration.ofSeconds(15)).get(0);
        assertThat(view.warm(T0.plusSeconds(19))).isFalse();
        assertThat(view.warming(T0.plusSeconds(19))).isTrue();
        assertThat(view.warm(T0.plusSeconds(20))).isTrue();
    }
}
