package io.vmscale.balancer;

import static io.vmscale.balancer.OutlierDetector.Outcome.ALREADY_EJECTED;
import static io.vmscale.balancer.OutlierDetector.Outcome.COUNTED;
import static io.vmscale.balancer.OutlierDetector.Outcome.EJECTED;
import static io.vmscale.balancer.OutlierDetector.Outcome.HELD_BY_MAX_EJECTED;
import static io.vmscale.balancer.OutlierDetector.Outcome.PROBE_FAILED;
import static io.vmscale.balancer.OutlierDetector.State.HEALTHY;
import static io.vmscale.balancer.OutlierDetector.State.PROBING;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vmscale.balancer.OutlierDetector.Health;
import io.vmscale.balancer.OutlierDetector.Outcome;
import io.vmscale.balancer.OutlierDetector.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** The ejection state machine on a fake clock: named cases of events and what each one did. */
class OutlierDetectorTest {
    private static final long MS = 1_000_000L;
    /** Any start: nanoTime may be negative, and the arithmetic must not care. */
    private static final long T0 = Long.MIN_VALUE / 2;

    /** An event at a time (ms after T0) on replica {@code replica}, and what it must do. */
    record Step(long atMs, int replica, String event, Object expected) {
        static Step timeout(long atMs, int replica, Outcome expected) {
            return new Step(atMs, replica, "timeout", expected);
        }

        static Step answer(long atMs, int replica, boolean wasOut) {
            return new Step(atMs, replica, "answer", wasOut);
        }

        static Step state(long atMs, int replica, State expected) {
            return new Step(atMs, replica, "state", expected);
        }

        /** {@code mayTake} with this many in flight (limit 8). */
        static Step mayTake(long atMs, int replica, int inFlight, boolean expected) {
            return new Step(atMs, replica, "mayTake " + inFlight, expected);
        }
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("K-1 timeouts in a row eject nothing; an answer starts the count again", 4, List.of(
                        Step.timeout(0, 0, COUNTED), Step.timeout(1, 0, COUNTED), Step.answer(2, 0, false),
                        Step.timeout(3, 0, COUNTED), Step.timeout(4, 0, COUNTED), Step.state(5, 0, HEALTHY))),
                Arguments.of("K in a row eject for the base period, then one probe at a time", 4, List.of(
                        Step.timeout(0, 0, COUNTED), Step.timeout(1, 0, COUNTED), Step.timeout(2, 0, EJECTED),
                        Step.state(3, 0, State.EJECTED), Step.mayTake(3, 0, 0, false),
                        Step.state(1001, 0, State.EJECTED), Step.state(1002, 0, PROBING),
                        Step.mayTake(1002, 0, 0, true), Step.mayTake(1002, 0, 1, false))),
                Arguments.of("a request of before the ejection timing out while ejected changes nothing", 4, List.of(
                        Step.timeout(0, 0, COUNTED), Step.timeout(0, 0, COUNTED), Step.timeout(0, 0, EJECTED),
                        Step.timeout(500, 0, ALREADY_EJECTED), Step.state(1000, 0, PROBING))),
                Arguments.of("a failed probe ejects again for twice as long, and so on up to the maximum", 4, List.of(
                        Step.timeout(0, 0, COUNTED), Step.timeout(0, 0, COUNTED), Step.timeout(0, 0, EJECTED),
                        Step.timeout(1000, 0, PROBE_FAILED), Step.state(2999, 0, State.EJECTED),
                        Step.state(3000, 0, PROBING), Step.timeout(3000, 0, PROBE_FAILED),
                        Step.state(6999, 0, State.EJECTED), Step.timeout(7000, 0, PROBE_FAILED),
                        Step.state(7000 + 7999, 0, State.EJECTED), Step.state(7000 + 8000, 0, PROBING),
                        Step.timeout(15000, 0, PROBE_FAILED), Step.state(15000 + 9999, 0, State.EJECTED),
                        Step.state(15000 + 10000, 0, PROBING))),
                Arguments.of("an answered probe brings it back, its back-off forgotten", 4, List.of(
                        Step.timeout(0, 0, COUNTED), Step.timeout(0, 0, COUNTED), Step.timeout(0, 0, EJECTED),
                        Step.timeout(1000, 0, PROBE_FAILED), Step.answer(3000, 0, true), Step.state(3000, 0, HEALTHY),
                        Step.mayTake(3000, 0, 7, true), Step.mayTake(3000, 0, 8, false),
                        Step.timeout(3001, 0, COUNTED), Step.timeout(3002, 0, COUNTED),
                        Step.timeout(3003, 0, EJECTED), Step.state(3003 + 999, 0, State.EJECTED),
                        Step.state(3003 + 1000, 0, PROBING))),
                Arguments.of("at most half of 4 ejected: the third one stays in while two are out", 4, List.of(
                        Step.timeout(0, 0, COUNTED), Step.timeout(0, 0, COUNTED), Step.timeout(0, 0, EJECTED),
                        Step.timeout(0, 1, COUNTED), Step.timeout(0, 1, COUNTED), Step.timeout(0, 1, EJECTED),
                        Step.timeout(0, 2, COUNTED), Step.timeout(0, 2, COUNTED),
                        Step.timeout(0, 2, HELD_BY_MAX_EJECTED), Step.state(1, 2, HEALTHY),
                        Step.timeout(2, 2, HELD_BY_MAX_EJECTED),
                        // one of the two back: the third can go now
                        Step.answer(1500, 0, true), Step.timeout(1500, 2, EJECTED))),
                Arguments.of("a probing replica counts as out", 4, List.of(
                        Step.timeout(0, 0, COUNTED), Step.timeout(0, 0, COUNTED), Step.timeout(0, 0, EJECTED),
                        Step.timeout(0, 1, COUNTED), Step.timeout(0, 1, COUNTED), Step.timeout(0, 1, EJECTED),
                        Step.state(2000, 0, PROBING), Step.timeout(2000, 2, COUNTED), Step.timeout(2000, 2, COUNTED),
                        Step.timeout(2000, 2, HELD_BY_MAX_EJECTED))),
                Arguments.of("one replica alone may still be ejected (at least one, as Envoy)", 1, List.of(
                        Step.timeout(0, 0, COUNTED), Step.timeout(0, 0, COUNTED), Step.timeout(0, 0, EJECTED))),
                Arguments.of("of two, one at most", 2, List.of(
                        Step.timeout(0, 0, COUNTED), Step.timeout(0, 0, COUNTED), Step.timeout(0, 0, EJECTED),
                        Step.timeout(0, 1, COUNTED), Step.timeout(0, 1, COUNTED),
                        Step.timeout(0, 1, HELD_BY_MAX_EJECTED), Step.mayTake(1, 1, 0, true))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void table(String name, int replicas, List<Step> steps) {
        // K = 3, base 1 s, maximum 10 s, at most half ejected
        OutlierDetector detector = new OutlierDetector(3, Duration.ofSeconds(1), Duration.ofSeconds(10), 0.5);
        List<Health> health = new ArrayList<>();
        for (int i = 0; i < replicas; i++) {
            health.add(detector.join());
        }
        int i = 0;
        for (Step step : steps) {
            long now = T0 + step.atMs() * MS;
            Health h = health.get(step.replica());
            Object actual = switch (step.event().split(" ")[0]) {
                case "timeout" -> detector.onTimeout(h, now);
                case "answer" -> detector.onAnswer(h);
                case "state" -> detector.state(h, now);
                default -> detector.mayTake(h, now, Integer.parseInt(step.event().split(" ")[1]), 8);
            };
            assertThat(actual).as("step %d: %s", i, step).isEqualTo(step.expected());
            i++;
        }
    }

    @Test
    void aReplicaThatLeftNoLongerCountsTowardsTheFraction() {
        OutlierDetector detector = new OutlierDetector(1, Duration.ofSeconds(1), Duration.ofSeconds(10), 0.5);
        Health a = detector.join();
        Health b = detector.join();
        assertThat(detector.onTimeout(a, T0)).isEqualTo(EJECTED);
        assertThat(detector.onTimeout(b, T0)).isEqualTo(HELD_BY_MAX_EJECTED);
        detector.leave(a);
        assertThat(detector.maxEjected()).isEqualTo(1);
        assertThat(detector.ejectedCount()).isZero();
        assertThat(detector.onTimeout(b, T0)).isEqualTo(EJECTED);
    }

    @Test
    void refusesSettingsThatMakeNoSense() {
        assertThatThrownBy(() -> new OutlierDetector(0, Duration.ofSeconds(1), Duration.ofSeconds(2), 0.5))
                .hasMessageContaining("ejectAfter");
        assertThatThrownBy(() -> new OutlierDetector(3, Duration.ofSeconds(3), Duration.ofSeconds(2), 0.5))
                .hasMessageContaining("base <= max");
        assertThatThrownBy(() -> new OutlierDetector(3, Duration.ofSeconds(1), Duration.ofSeconds(2), 1.5))
                .hasMessageContaining("maxEjectedFraction");
    }
}
