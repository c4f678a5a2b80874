package io.vmscale.broker.log;

import io.vmscale.broker.event.Envelope;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.EventCodec;
import io.vmscale.broker.event.EventFormatException;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Event logs: one envelope per line, as JSON ({@code {"type","v","ts","source","seq","body"}}),
 * append-only and flushed line by line; rotated by size ({@code FILE} becomes {@code FILE.1},
 * {@code FILE.1} becomes {@code FILE.2}, ...).
 */
public final class EventLog {
    private EventLog() {
    }

    /** What a log held: its events in order, and the lines that were not events. */
    public record Contents(List<Envelope<? extends Event>> events, int badLines, List<String> problems) {
    }

    /** Reads a log; a line that is not an event is counted, and the first few are described, not fatal. */
    public static Contents read(Path file) {
        EventCodec codec = new EventCodec();
        List<Envelope<? extends Event>> events = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        int bad = 0;
        int lineNumber = 0;
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                lineNumber++;
                if (line.isBlank()) {
                    continue;
                }
                try {
                    events.add(codec.decode(line));
                } catch (EventFormatException e) {
                    bad++;
                    if (problems.size() < 5) {
                        problems.add(file + ":" + lineNumber + ": " + e.getMessage());
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the event log " + file + ": " + e.getMessage(), e);
        }
        return new Contents(events, bad, problems);
    }

    /** Appends events to a file, rotating it when it grows past a size. Thread-safe. */
    public static final class Writer implements AutoCloseable {
        private final EventCodec codec = new EventCodec();
        private final Path file;
        private final long maxBytes;
        private final int keep;
        private BufferedWriter out;
        private long size;
        private long written;

        /**
         * @param maxBytes rotate when the file would grow past this
         * @param keep     rotated files kept ({@code FILE.1} .. {@code FILE.keep})
         */
        public Writer(Path file, long maxBytes, int keep) throws IOException {
            if (maxBytes < 1024) {
                throw new IllegalArgumentException("an event log must be allowed at least 1024 bytes, got " + maxBytes);
            }
            if (keep < 1) {
                throw new IllegalArgumentException("keep at least one rotated file, got " + keep);
            }
            this.file = file.toAbsolutePath();
            this.maxBytes = maxBytes;
            this.keep = keep;
            Path parent = this.file.getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            open();
        }

        private void open() throws IOException {
            out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND, StandardOpenOption.WRITE);
            size = Files.size(file);
        }

        public synchronized void append(Envelope<? extends Event> envelope) throws IOException {
            String line = codec.encode(envelope) + "\n";
            long bytes = line.getBytes(StandardCharsets.UTF_8).length;
            if (size > 0 && size + bytes > maxBytes) {
                rotate();
            }
            out.write(line);
            out.flush();
            size += bytes;
            written++;
        }

        private void rotate() throws IOException {
            out.close();
            Files.deleteIfExists(rotated(keep));
            for (int i = keep - 1; i >= 1; i--) {
                if (Files.exists(rotated(i))) {
                    Files.move(rotated(i), rotated(i + 1), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            Files.move(file, rotated(1), StandardCopyOption.REPLACE_EXISTING);
            open();
        }

        private Path rotated(int n) {
            return file.resolveSibling(file.getFileName() + "." + n);
        }

        /** Events written since this writer opened. */
        public synchronized long written() {
            return written;
        }

        public Path file() {
            return file;
        }

        @Override
        public synchronized void close() throws IOException {
            out.close();
        }
    }
}
