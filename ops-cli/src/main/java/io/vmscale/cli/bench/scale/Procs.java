package io.vmscale.cli.bench.scale;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import java.util.stream.Stream;

/** What /proc says of a process: its CPU time and its resident memory. */
public final class Procs {
    private Procs() {
    }

    /** utime + stime of the process, in clock ticks (USER_HZ, 100 on Linux), or 0 when it is gone. */
    public static long cpuTicks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** Its resident set in KiB (VmRSS), or 0 when it is gone. */
    public static long rssKiB(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return 0;
    }

    /** The first process whose command name is {@code comm} (libvirtd, say). */
    public static OptionalLong pidOf(String comm) {
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path proc : (Iterable<Path>) procs::iterator) {
                String name = proc.getFileName().toString();
                Path file = proc.resolve("comm");
                if (name.chars().allMatch(Character::isDigit) && Files.isReadable(file)
                        && Files.readString(file).trim().equals(comm)) {
                    return OptionalLong.of(Long.parseLong(name));
                }
            }
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
        return OptionalLong.empty();
    }
}
