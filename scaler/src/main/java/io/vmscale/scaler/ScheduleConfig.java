package io.vmscale.scaler;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import io.vmscale.config.InvalidValueException;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One scheduled action, as AWS Auto Scaling's: at every time its cron expression gives in its time zone, the group's
 * min, max and desired count are set (each only when given); the desired count is clamped by min and max then in force.
 *
 * @param name            what decisions and {@code ops status} call it; unique
 * @param cron            five fields, as crontab's: minute hour day-of-month month day-of-week ({@code 0 8 * * MON-FRI})
 * @param timeZone        where the cron's times are read: an IANA zone ({@code Europe/Berlin}) or {@code UTC}; across
 *                        a DST change the local time is kept
 * @param minReplicas     the new min, or -1 (or left out) to leave it
 * @param maxReplicas     the new max, or -1 (or left out) to leave it
 * @param desiredReplicas the count to go to (then the policy decides again), or -1 (or left out) to leave it to the
 *                        policy
 */
public record ScheduleConfig(String name, String cron, String timeZone, Integer minReplicas, Integer maxReplicas,
                             Integer desiredReplicas) {
    private static final CronParser PARSER = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
    /** How far ahead two schedules are compared for a shared instant. */
    private static final int HORIZON_DAYS = 366;
    /** At most this many firings of each within the horizon are compared (a schedule every minute has 527,040). */
    private static final int MAX_COMPARED = 20_000;

    public ScheduleConfig {
        minReplicas = minReplicas == null ? -1 : minReplicas; // left out: left as it is
        maxReplicas = maxReplicas == null ? -1 : maxReplicas;
        desiredReplicas = desiredReplicas == null ? -1 : desiredReplicas;
        InvalidValueException.text("name", name);
        InvalidValueException.text("cron", cron);
        try {
            PARSER.parse(cron).validate();
        } catch (IllegalArgumentException e) {
            throw new InvalidValueException("cron", "five cron fields (minute hour day-of-month month day-of-week, "
                    + "as crontab's): " + e.getMessage(), "\"" + cron + "\"");
        }
        InvalidValueException.text("timeZone", timeZone);
        try {
            ZoneId.of(timeZone);
        } catch (DateTimeException e) {
            throw new InvalidValueException("timeZone", "a time zone ID such as Europe/Berlin or UTC", "\"" + timeZone
                    + "\"");
        }
        InvalidValueException.range("minReplicas", minReplicas, -1, 1000);
        InvalidValueException.range("maxReplicas", maxReplicas, -1, 1000);
        InvalidValueException.range("desiredReplicas", desiredReplicas, -1, 1000);
        if (minReplicas < 0 && maxReplicas < 0 && desiredReplicas < 0) {
            throw new InvalidValueException("desiredReplicas", "at least one of minReplicas, maxReplicas and "
                    + "desiredReplicas (a schedule that sets nothing)", -1);
        }
        if (maxReplicas == 0) {
            throw new InvalidValueException("maxReplicas", "at least 1, or -1 to leave it", 0);
        }
        if (minReplicas >= 0 && maxReplicas >= 0 && minReplicas > maxReplicas) {
            throw new InvalidValueException("maxReplicas", "at least minReplicas (" + minReplicas + ")", maxReplicas);
        }
        if (desiredReplicas >= 0 && (minReplicas >= 0 && desiredReplicas < minReplicas
                || maxReplicas >= 0 && desiredReplicas > maxReplicas)) {
            throw new InvalidValueException("desiredReplicas", "within the schedule's own minReplicas.."
                    + "maxReplicas", desiredReplicas);
        }
    }

    /** When it fires next after {@code after} (strictly), in its time zone. */
    public Optional<ZonedDateTime> next(Instant after) {
        return EXECUTION_TIMES.computeIfAbsent(cron, c -> ExecutionTime.forCron(PARSER.parse(c)))
                .nextExecution(after.atZone(ZoneId.of(timeZone)));
    }

    /** Each cron expression parsed once (the scaler asks every tick; the overlap check thousands of times). */
    private static final Map<String, ExecutionTime> EXECUTION_TIMES = new java.util.concurrent.ConcurrentHashMap<>();

    /** What it sets, in words: {@code min 2, max 6, desired 4}. */
    public String sets() {
        StringBuilder b = new StringBuilder();
        if (minReplicas >= 0) {
            b.append("min ").append(minReplicas);
        }
        if (maxReplicas >= 0) {
            b.append(b.isEmpty() ? "" : ", ").append("max ").append(maxReplicas);
        }
        if (desiredReplicas >= 0) {
            b.append(b.isEmpty() ? "" : ", ").append("desired ").append(desiredReplicas);
        }
        return b.toString();
    }

    /**
     * Names are unique, and no two schedules fire at the same instant within the next year (AWS Auto Scaling refuses
     * overlapping scheduled actions too: which one wins would be a matter of order).
     */
    static void checkTogether(List<ScheduleConfig> schedules) {
        Set<String> names = new HashSet<>();
        for (int i = 0; i < schedules.size(); i++) {
            ScheduleConfig s = schedules.get(i);
            if (s == null) {
                throw new InvalidValueException("schedules[" + i + "]", "an object", "null");
            }
            if (!names.add(s.name())) {
                throw new InvalidValueException("schedules[" + i + "].name", "a name no other schedule has",
                        "\"" + s.name() + "\"");
            }
        }
        if (schedules.size() < 2 || CHECKED.contains(schedules)) {
            return; // a configuration is rebuilt (withLimits...) with the same schedules: compared once
        }
        Instant from = Instant.now().truncatedTo(ChronoUnit.MINUTES);
        Instant until = from.plus(HORIZON_DAYS, ChronoUnit.DAYS);
        Map<Instant, String> fired = new HashMap<>();
        for (int i = 0; i < schedules.size(); i++) {
            ScheduleConfig s = schedules.get(i);
            Instant at = from;
            for (int n = 0; n < MAX_COMPARED; n++) {
                Optional<ZonedDateTime> next = s.next(at);
                if (next.isEmpty() || next.get().toInstant().isAfter(until)) {
                    break;
                }
                at = next.get().toInstant();
                String other = fired.putIfAbsent(at, s.name());
                if (other != null) {
                    throw new InvalidValueException("schedules[" + i + "].cron", "times no other schedule fires "
                            + "at (overlapping scheduled actions are refused)", "\"" + s.cron() + "\" (" + s.timeZone()
                            + "): \"" + s.name() + "\" and \"" + other + "\" both fire at " + next.get());
                }
            }
        }
        CHECKED.add(List.copyOf(schedules));
    }

    /** Lists of schedules found free of overlaps. */
    private static final Set<List<ScheduleConfig>> CHECKED = java.util.concurrent.ConcurrentHashMap.newKeySet();
}
