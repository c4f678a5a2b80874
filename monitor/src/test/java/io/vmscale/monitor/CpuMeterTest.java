package io.vmscale.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.vmscale.monitor.libvirt.DomainState;
import io.vmscale.monitor.libvirt.DomainStats;
import java.util.List;
import org.junit.jupiter.api.Test;

class CpuMeterTest {
    private static final long SECOND = 1_000_000_000L;
    private final CpuMeter meter = new CpuMeter();

    private static DomainStats running(String name, int id, int vcpus, long cpuNs) {
        return new DomainStats(name, "uuid-" + name, id, DomainState.RUNNING, vcpus, cpuNs);
    }

    @Test
    void firstSightIsABaselineNotAReading() {
        assertThat(meter.update(List.of(running("a", 1, 1, 5 * SECOND)), 0)).isEmpty();
        assertThat(meter.tracked()).isEqualTo(1);
    }

    @Test
    void oneBusyVcpuReadsOneHundred() {
        meter.update(List.of(running("a", 1, 1, 0)), 0);
        List<CpuMeter.Reading> readings = meter.update(List.of(running("a", 1, 1, SECOND)), SECOND);
        assertThat(readings).singleElement().satisfies(r -> {
            assertThat(r.percent()).isCloseTo(100.0, within(1e-9));
            assertThat(r.intervalNanos()).isEqualTo(SECOND);
        });
    }

    @Test
    void dividesByTheNumberOfVcpus() {
        meter.update(List.of(running("a", 1, 4, 0)), 0);
        // one of four vCPUs busy for two seconds
        assertThat(meter.update(List.of(running("a", 1, 4, 2 * SECOND)), 2 * SECOND).get(0).percent())
                .isCloseTo(25.0, within(1e-9));
    }

    @Test
    void usesTheWallTimeBetweenReadingsNotTheNominalInterval() {
        meter.update(List.of(running("a", 1, 1, 0)), 0);
        // a late tick: 1.5 s of wall time, 0.75 s of CPU
        assertThat(meter.update(List.of(running("a", 1, 1, 750_000_000L)), 1_500_000_000L).get(0).percent())
                .isCloseTo(50.0, within(1e-9));
    }

    @Test
    void aRestartedDomainStartsAgainFromABaseline() {
        meter.update(List.of(running("a", 1, 1, 90 * SECOND)), 0);
        // new run id and CPU time back near zero: no reading, not a negative one
        assertThat(meter.update(List.of(running("a", 2, 1, SECOND / 10)), SECOND)).isEmpty();
        assertThat(meter.update(List.of(running("a", 2, 1, SECOND / 10 + SECOND / 2)), 2 * SECOND).get(0).percent())
                .isCloseTo(50.0, within(1e-9));
    }

    @Test
    void cpuTimeGoingBackwardsWithTheSameIdIsNotANegativeReading() {
        meter.update(List.of(running("a", 7, 1, 10 * SECOND)), 0);
        assertThat(meter.update(List.of(running("a", 7, 1, 3 * SECOND)), SECOND)).isEmpty();
    }

    @Test
    void aPausedDomainReadsZero() {
        meter.update(List.of(running("a", 1, 1, 10 * SECOND)), 0);
        DomainStats paused = new DomainStats("a", "uuid-a", 1, DomainState.PAUSED, 1, 10 * SECOND);
        assertThat(meter.update(List.of(paused), SECOND)).singleElement()
                .satisfies(r -> assertThat(r.percent()).isZero());
    }

    @Test
    void aStoppedDomainGivesNoReadingAndLosesItsBaseline() {
        meter.update(List.of(running("a", 1, 1, 10 * SECOND)), 0);
        DomainStats off = new DomainStats("a", "uuid-a", -1, DomainState.SHUTOFF, 0, 0);
        assertThat(meter.update(List.of(off), SECOND)).isEmpty();
        assertThat(meter.tracked()).isZero();
    }

    @Test
    void domainsThatAppearOrVanishBetweenTicksAreHandled() {
        meter.update(List.of(running("a", 1, 1, 0), running("b", 2, 1, 0)), 0);
        List<CpuMeter.Reading> readings = meter.update(List.of(running("b", 2, 1, SECOND / 5),
                running("c", 3, 1, 42 * SECOND)), SECOND);
        assertThat(readings).extracting(r -> r.stats().name()).containsExactly("b");
        assertThat(meter.tracked()).isEqualTo(2); // b and c; a is forgotten
        // a comes back: a baseline again, not a reading against its old one
        assertThat(meter.update(List.of(running("a", 1, 1, 5 * SECOND)), 2 * SECOND)).isEmpty();
    }
}
