package io.vmscale.broker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * What a broker's data directory takes on disk: the journal (messages and their acknowledgements,
 * in preallocated files), the bindings (queues and addresses), the pages of addresses past their
 * memory limit, and large messages.
 */
public record StoreSize(long journalBytes, long bindingsBytes, long pagingBytes, long largeMessagesBytes) {
    public static StoreSize of(Path dataDir) {
        return new StoreSize(bytes(dataDir.resolve("journal")), bytes(dataDir.resolve("bindings")),
                bytes(dataDir.resolve("paging")), bytes(dataDir.resolve("large-messages")));
    }

    public long totalBytes() {
        return journalBytes + bindingsBytes + pagingBytes + largeMessagesBytes;
    }

    private static long bytes(Path dir) {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(StoreSize::size).sum();
        } catch (NoSuchFileException e) {
            return 0;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + dir, e);
        }
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0; // rotated away while we looked
        }
    }
}
