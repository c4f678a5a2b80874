package io.vmscale.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.vmscale.libvirt.DomainState;
import io.vmscale.libvirt.DomainStats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class CpuMeterTest {
    private static final long SECOND = 1_000_000_000L;
    private final CpuMeter meter = new CpuMeter(Duration.ofSeconds(1));

    private static DomainStats running(String name, int id, int vcpus, long cpuNs) {
        return new DomainStats(name, "uuid-" + name, id, DomainState.RUNNING, vcpus, cpuNs);
    }

    /** One tick of one domain with one vCPU: when the stats call was made, when it returned, the CPU time read. */
    private record Tick(double askedS, double answeredS, double cpuS) {
    }

    /** What a one-second meter gives for each tick (null: no reading), and its counters after the last. */
    private record Case(List<Tick> ticks, List<Double> percents, long dropped, long clamped) {
    }

    private static Named<Case> of(String name, List<Tick> ticks, List<Double> percents, long dropped, long clamped) {
        return Named.of(name, new Case(ticks, percents, dropped, clamped));
    }

    private static List<Double> readings(Double... percents) {
        return java.util.Arrays.asList(percents);
    }

    static Stream<Named<Case>> timing() {
        return Stream.of(
                of("one busy vCPU reads 100", List.of(new Tick(0, 0, 0), new Tick(1, 1, 1)),
                        readings(null, 100.0), 0, 0),
                of("CPU time above the wall time (QEMU's own threads) is clamped to 100 and counted",
                        List.of(new Tick(0, 0, 0), new Tick(1, 1, 1.1), new Tick(2, 2, 2.4)),
                        readings(null, 100.0, 100.0), 0, 2),
                of("the stamp is when the call returned, not when it was made",
                        List.of(new Tick(0, 0.2, 0), new Tick(1.2, 1.4, 0.6)), readings(null, 50.0), 0, 0),
                of("a call that took 0.7 s of 1 s gives no reading; the next reading starts where it returned",
                        List.of(new Tick(0, 0, 0), new Tick(1, 1.7, 1.2), new Tick(2.7, 2.7, 1.7)),
                        readings(null, null, 50.0), 1, 0),
                of("a slow call above 100 % is dropped, not clamped",
                        List.of(new Tick(0, 0, 0), new Tick(1, 1.7, 2)), readings(null, null), 1, 0),
                of("a call of exactly half the interval still counts",
                        List.of(new Tick(0, 0, 0), new Tick(1, 1.5, 0.75)), readings(null, 50.0), 0, 0),
                of("a late tick reads over the wall time since the last reading, not the nominal interval",
                        List.of(new Tick(0, 0, 0), new Tick(1.5, 1.5, 0.75), new Tick(2.5, 2.5, 1.75)),
                        readings(null, 50.0, 100.0), 0, 0));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("timing")
    void readsOverTheTimeBetweenTheCallsReturns(Case c) {
        CpuMeter oneSecond = new CpuMeter(Duration.ofSeconds(1));
        List<Double> percents = new ArrayList<>();
        for (Tick tick : c.ticks()) {
            List<CpuMeter.Reading> readings = oneSecond.update(List.of(running("a", 1, 1, nanos(tick.cpuS()))),
                    nanos(tick.askedS()), nanos(tick.answeredS()));
            assertThat(readings).hasSizeLessThanOrEqualTo(1);
            percents.add(readings.isEmpty() ? null : Math.round(readings.get(0).percent() * 1e6) / 1e6);
        }
        assertThat(percents).isEqualTo(c.percents());
        assertThat(oneSecond.dropped()).as("dropped").isEqualTo(c.dropped());
        assertThat(oneSecond.clamped()).as("clamped").isEqualTo(c.clamped());
    }

    private static long nanos(double seconds) {
        return Math.round(seconds * SECOND);
    }

    @Test
    void aSlowCallDropsTheReadingsOfEveryDomainOfThatTick() {
        meter.update(List.of(running("a", 1, 1, 0), running("b", 2, 2, 0)), 0);
        assertThat(meter.update(List.of(running("a", 1, 1, SECOND), running("b", 2, 2, SECOND)), SECOND,
                2 * SECOND)).isEmpty();
        assertThat(meter.dropped()).isEqualTo(2);
        assertThat(meter.tracked()).isEqualTo(2);
    }

    @Test
    void refusesAnIntervalThatIsNotPositive() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new CpuMeter(Duration.ZERO))
                .hasMessageContaining("interval must be positive");
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
    void aPausedDomainGivesNoReadingAndStartsAgainFromABaselineWhenResumed() {
        meter.update(List.of(running("a", 1, 1, 10 * SECOND)), 0);
        DomainStats paused = new DomainStats("a", "uuid-a", 1, DomainState.PAUSED, 1, 10 * SECOND);
        assertThat(meter.update(List.of(paused), SECOND)).isEmpty(); // a warm pool's replica is not load
        assertThat(meter.update(List.of(running("a", 1, 1, 10 * SECOND)), 10 * SECOND)).isEmpty();
        assertThat(meter.update(List.of(running("a", 1, 1, 10 * SECOND + SECOND / 2)), 11 * SECOND)).singleElement()
                .satisfies(r -> assertThat(r.percent()).isCloseTo(50.0, org.assertj.core.data.Offset.offset(0.01)));
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
