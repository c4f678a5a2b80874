package io.vmscale.scaler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.config.InvalidValueException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scheduled actions: when a cron expression fires in its time zone (across DST changes), which sets of schedules are
 * refused, and a schedule run by the scaler, its desired count clamped by min..max.
 */
class ScheduleTest {
    @TempDir
    Path dir;

    private static ScheduleConfig daily(String name, String cron, String zone) {
        return new ScheduleConfig(name, cron, zone, -1, -1, 2);
    }

    private static Instant next(ScheduleConfig s, String after) {
        return s.next(Instant.parse(after)).map(ZonedDateTime::toInstant).orElseThrow();
    }

    @Test
    void localTimeIsKeptAcrossTheDstChanges() {
        ScheduleConfig eight = daily("morning", "0 8 * * *", "Europe/Berlin");
        // Berlin moves from UTC+1 to UTC+2 at 01:00 UTC on 29 March 2026, and back on 25 October
        assertThat(next(eight, "2026-03-27T12:00:00Z")).isEqualTo("2026-03-28T07:00:00Z");
        assertThat(next(eight, "2026-03-28T12:00:00Z")).isEqualTo("2026-03-29T06:00:00Z");
        assertThat(next(eight, "2026-10-24T12:00:00Z")).isEqualTo("2026-10-25T07:00:00Z");
        ScheduleConfig utc = daily("utc", "0 8 * * *", "UTC");
        assertThat(next(utc, "2026-03-28T12:00:00Z")).isEqualTo("2026-03-29T08:00:00Z");
    }

    @Test
    void aTimeTheSpringChangeSkipsAndOneTheAutumnChangeRepeats() {
        ScheduleConfig half = daily("half-past-two", "30 2 * * *", "Europe/Berlin");
        // 02:30 does not exist on 29 March: the next firing is the next day's, not a shifted one
        Instant spring = next(half, "2026-03-28T12:00:00Z");
        // 02:30 happens twice on 25 October: the schedule fires once
        Instant autumnFirst = next(half, "2026-10-24T12:00:00Z");
        Instant autumnNext = next(half, autumnFirst.toString());
        assertThat(spring).isEqualTo("2026-03-30T00:30:00Z");
        assertThat(autumnFirst).as("the first 02:30, still summer time").isEqualTo("2026-10-25T00:30:00Z");
        assertThat(autumnNext).isEqualTo("2026-10-26T01:30:00Z");
    }

    @Test
    void schedulesFiringAtTheSameInstantAreRefusedWithTheInstantAndWhy() {
        ScheduleConfig weekdays = daily("weekdays", "0 8 * * MON-FRI", "Europe/Berlin");
        ScheduleConfig mondays = daily("mondays", "0 8 * * 1", "Europe/Berlin");
        assertThatThrownBy(() -> ScheduleConfig.checkTogether(List.of(weekdays, mondays)))
                .isInstanceOf(InvalidValueException.class)
                .hasMessageContaining("schedules[1].cron")
                .hasMessageContaining("\"mondays\" and \"weekdays\" both fire at ");
        // the same instant written in two zones: 08:00 in Berlin in winter is 07:00 UTC
        ScheduleConfig utcSeven = daily("utc-seven", "0 7 * * *", "UTC");
        assertThatThrownBy(() -> ScheduleConfig.checkTogether(List.of(daily("berlin-eight", "0 8 * * *",
                "Europe/Berlin"), utcSeven))).hasMessageContaining("both fire at ");
        ScheduleConfig evening = daily("evening", "0 20 * * *", "Europe/Berlin");
        ScheduleConfig.checkTogether(List.of(weekdays, evening)); // accepted
        assertThatThrownBy(() -> ScheduleConfig.checkTogether(List.of(weekdays, daily("weekdays", "0 9 * * *",
                "UTC")))).hasMessageContaining("schedules[1].name").hasMessageContaining("a name no other schedule has");
    }

    @Test
    void aScheduleThatSetsNothingOrContradictsItselfIsRefused() {
        assertThatThrownBy(() -> new ScheduleConfig("x", "0 8 * *", "UTC", 1, 2, -1))
                .hasMessageContaining("cron").hasMessageContaining("five cron fields");
        assertThatThrownBy(() -> new ScheduleConfig("x", "0 8 * * *", "Mars/Olympus", 1, 2, -1))
                .hasMessageContaining("a time zone ID such as Europe/Berlin or UTC");
        assertThatThrownBy(() -> new ScheduleConfig("x", "0 8 * * *", "UTC", -1, -1, -1))
                .hasMessageContaining("a schedule that sets nothing");
        assertThatThrownBy(() -> new ScheduleConfig("x", "0 8 * * *", "UTC", 3, 2, -1))
                .hasMessageContaining("at least minReplicas (3)");
        assertThatThrownBy(() -> new ScheduleConfig("x", "0 8 * * *", "UTC", 1, 2, 5))
                .hasMessageContaining("within the schedule's own minReplicas..maxReplicas");
        assertThat(new ScheduleConfig("x", "0 8 * * *", "UTC", 2, -1, 4).sets()).isEqualTo("min 2, desired 4");
    }

    @Test
    void theScalerRunsADueScheduleClampsItsDesiredCountAndGoesThereAsTheScheduleSaid() throws Exception {
        try (ScalerHarness h = new ScalerHarness(dir, new FakeHypervisor(4), 1, 3, 0)) {
            h.awaitReady(1);
            h.kill();
            // a clock 1.5 s before a minute's start: an every-minute schedule falls due soon after the start
            Instant real = Instant.now();
            Instant minute = real.plus(Duration.ofMinutes(1)).truncatedTo(java.time.temporal.ChronoUnit.MINUTES);
            h.clock = Clock.offset(Clock.systemUTC(), Duration.between(real, minute.minusMillis(1500)));
            h.start(h.config.withSchedules(List.of(new ScheduleConfig("grow", "* * * * *", "UTC", 2, -1, 4))));
            await().atMost(Duration.ofSeconds(20)).until(() -> h.held("ScheduledAction"));
            h.awaitReady(3);
            ScaleDecision said = h.decisions().stream().filter(d -> d.reasonCode().equals("ScheduledAction"))
                    .findFirst().orElseThrow();
            assertThat(said.policy()).isEqualTo("schedule");
            assertThat(said.reason()).startsWith("schedule grow (* * * * *, UTC) at ")
                    .endsWith(": replicas now 2..3, desired 3 (4 clamped by min..max)");
            // the new min may have started one already (BelowMinReplicas); the schedule's steps say who asked
            assertThat(h.actions()).filteredOn(d -> d.policy().equals("schedule")).isNotEmpty()
                    .allSatisfy(d -> assertThat(d.action() + " " + d.reason())
                            .startsWith(ScaleAction.UP + " schedule grow asked for 3 replica(s), "));
            await().atMost(Duration.ofSeconds(5)).until(() -> h.held("OperatorScaleReached"));
            assertThat(h.command("status").message()).isEqualTo("3 replica(s), threshold-window 2..3");
        }
    }
}
