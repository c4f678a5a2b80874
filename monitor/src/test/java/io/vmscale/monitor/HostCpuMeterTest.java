package io.vmscale.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmscale.libvirt.HostCpuTimes;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class HostCpuMeterTest {
    /** Successive CPU times of a host, and the busy % the meter gives after each. */
    private record Case(List<HostCpuTimes> times, List<Double> percents) {
    }

    private static HostCpuTimes times(long kernel, long user, long idle, long iowait) {
        return new HostCpuTimes(kernel, user, idle, iowait);
    }

    static Stream<Named<Case>> cases() {
        return Stream.of(
                Named.of("the first reading is a baseline", new Case(List.of(times(10, 10, 80, 0)), List.of(-1.0))),
                Named.of("busy is kernel and user over all, iowait counting as not busy", new Case(
                        List.of(times(10, 10, 80, 0), times(20, 30, 130, 20)), List.of(-1.0, 30.0))),
                Named.of("an idle host reads 0", new Case(
                        List.of(times(10, 10, 80, 0), times(10, 10, 180, 0)), List.of(-1.0, 0.0))),
                Named.of("every CPU busy reads 100", new Case(
                        List.of(times(10, 10, 80, 0), times(60, 60, 80, 0)), List.of(-1.0, 100.0))),
                Named.of("counters that did not move (libvirt's test driver) are not known", new Case(
                        List.of(times(10, 10, 80, 0), times(10, 10, 80, 0)), List.of(-1.0, -1.0))),
                Named.of("counters going back (a reboot) are a new baseline", new Case(
                        List.of(times(10, 10, 80, 0), times(1, 1, 8, 0), times(6, 1, 13, 0)),
                        List.of(-1.0, -1.0, 50.0))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void readsTheBusyShareOfTheCpuTimeBetweenTwoReadings(Case c) {
        HostCpuMeter meter = new HostCpuMeter();
        assertThat(c.times().stream().map(meter::update).toList()).isEqualTo(c.percents());
    }
}
