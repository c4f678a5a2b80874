package io.vmscale.broker.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vmscale.broker.event.Envelope;
import io.vmscale.broker.event.HostStatus;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EventLogTest {
    @TempDir
    Path dir;

    private static Envelope<HostStatus> event(long seq) {
        return Envelope.of(new HostStatus("qemu:///system", seq % 2 == 0, "reason " + seq),
                Instant.parse("2026-11-24T10:00:00Z").plusMillis(seq), "monitor@test", seq);
    }

    @Test
    void writesOneLinePerEventAndReadsThemBackInOrder() throws Exception {
        Path file = dir.resolve("events.jsonl");
        try (EventLog.Writer writer = new EventLog.Writer(file, 1 << 20, 2)) {
            for (long i = 1; i <= 50; i++) {
                writer.append(event(i));
            }
            assertThat(writer.written()).isEqualTo(50);
        }
        assertThat(Files.readAllLines(file)).hasSize(50);
        EventLog.Contents contents = EventLog.read(file);
        assertThat(contents.badLines()).isZero();
        assertThat(contents.events()).hasSize(50).first().isEqualTo(event(1));
        assertThat(contents.events().get(49)).isEqualTo(event(50));
    }

    @Test
    void rotatesBySizeKeepingTheNewestFiles() throws Exception {
        Path file = dir.resolve("events.jsonl");
        try (EventLog.Writer writer = new EventLog.Writer(file, 2048, 2)) {
            for (long i = 1; i <= 100; i++) {
                writer.append(event(i));
            }
        }
        assertThat(Files.size(file)).isLessThanOrEqualTo(2048);
        assertThat(dir.resolve("events.jsonl.1")).exists();
        assertThat(dir.resolve("events.jsonl.2")).exists();
        assertThat(dir.resolve("events.jsonl.3")).doesNotExist();
        long last = EventLog.read(file).events().get(EventLog.read(file).events().size() - 1).seq();
        long firstOfCurrent = EventLog.read(file).events().get(0).seq();
        long lastOfPrevious = EventLog.read(dir.resolve("events.jsonl.1")).events()
                .get(EventLog.read(dir.resolve("events.jsonl.1")).events().size() - 1).seq();
        assertThat(last).isEqualTo(100);
        assertThat(lastOfPrevious).isEqualTo(firstOfCurrent - 1);
    }

    @Test
    void badLinesAreCountedAndNamedNotFatal() throws Exception {
        Path file = dir.resolve("events.jsonl");
        try (EventLog.Writer writer = new EventLog.Writer(file, 1 << 20, 1)) {
            writer.append(event(1));
        }
        Files.writeString(file, "not json\n{\"type\":\"no.such\",\"v\":1}\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        try (EventLog.Writer writer = new EventLog.Writer(file, 1 << 20, 1)) {
            writer.append(event(2));
        }
        EventLog.Contents contents = EventLog.read(file);
        assertThat(contents.events()).extracting(Envelope::seq).containsExactly(1L, 2L);
        assertThat(contents.badLines()).isEqualTo(2);
        assertThat(contents.problems()).first().asString().contains("events.jsonl:2").contains("not JSON");
    }

    @Test
    void aMissingLogIsAClearError() {
        assertThatThrownBy(() -> EventLog.read(dir.resolve("nope.jsonl")))
                .hasMessageContaining("cannot read the event log").hasMessageContaining("nope.jsonl");
    }
}
