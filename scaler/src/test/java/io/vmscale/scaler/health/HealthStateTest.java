package io.vmscale.scaler.health;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The target group's rules, table-tested on a clock the test turns: one check per second from the start. */
class HealthStateTest {
    private static final Instant T0 = Instant.parse("2026-12-03T12:00:00Z");

    /**
     * @param healthy   healthyThreshold
     * @param unhealthy unhealthyThreshold
     * @param grace     graceSeconds
     * @param start     healthy at the start (a READY replica) or not (a new one)
     * @param checks    one character per check, one second apart: + passed, - failed
     * @param expected  what each check changed: . nothing, H healthy, U unhealthy
     */
    @ParameterizedTest(name = "{5}: healthy {0}, unhealthy {1}, grace {2} s, from {3}: {4}")
    @CsvSource({
            // thresholds
            "1, 3, 0, false, +,          H,          one pass makes a new replica healthy",
            "3, 3, 0, false, ++-+++,     .....H,     a failure restarts the run of passes",
            "1, 3, 0, true,  --+---,     .....U,     a pass restarts the run of failures",
            "1, 1, 0, true,  -,          U,          one failure suffices with a threshold of 1",
            "2, 2, 0, true,  --++--,     .U.H.U,     unhealthy, healthy again, unhealthy again",
            "1, 3, 0, false, ------,     ......,     a new replica never fails: only its readiness deadline does",
            // flapping: never enough in a row either way
            "2, 2, 0, true,  -+-+-+-+,   ........,   flapping changes nothing",
            // grace: failures within it do not count, a run begun in it does at the first failure after it
            "1, 2, 3, true,  ---,        ...,        within the grace period nothing fails",
            "1, 2, 3, true,  -----,      ...U.,      the run begun in the grace counts after it",
            "1, 2, 3, true,  --+--,      ....U,      a pass in the grace ends the run: two failures after it are needed",
            "1, 2, 3, true,  --+-+--,    ......U,    a pass after the grace ends a run as well",
    })
    void thresholdsGraceAndFlapping(int healthy, int unhealthy, int grace, boolean start, String checks, String expected,
                                    String why) {
        HealthCheckConfig config = new HealthCheckConfig("tcp", "/", 200, 399, 1000, 500, healthy, unhealthy, grace);
        HealthState state = new HealthState(config, T0, start);
        List<String> got = new ArrayList<>();
        for (int i = 0; i < checks.length(); i++) {
            boolean passed = checks.charAt(i) == '+';
            HealthState.Transition t = state.record(new HealthCheck.Result(passed, passed ? "connected"
                    : "connection refused", 1, T0.plusSeconds(i)));
            got.add(switch (t) {
                case NONE -> ".";
                case HEALTHY -> "H";
                case UNHEALTHY -> "U";
            });
        }
        assertThat(String.join("", got)).as(why).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource({"1, 3", "2, 5"})
    void theReasonNamesTheRunTheTypeAndTheLastDetail(int healthy, int unhealthy) {
        HealthCheckConfig config = new HealthCheckConfig("http", "/healthz", 200, 399, 1000, 500, healthy, unhealthy, 0);
        HealthState state = new HealthState(config, T0, true);
        for (int i = 0; i < unhealthy; i++) {
            state.record(new HealthCheck.Result(false, "HTTP 503 (healthy: 200-399)", 4, T0.plusSeconds(i)));
        }
        assertThat(state.healthy()).isFalse();
        assertThat(state.reason()).isEqualTo("health check failed " + unhealthy
                + " time(s) in a row (http): HTTP 503 (healthy: 200-399)");
        assertThat(state.describe()).isEqualTo("failing " + unhealthy + " of " + unhealthy
                + ": HTTP 503 (healthy: 200-399) (4 ms)");
    }
}
