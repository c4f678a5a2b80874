package io.vmscale.cli.bench.scale;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A component in a process of its own, as it runs in production: its output kept in a file and read line by line. */
final class Child implements AutoCloseable {
    private final String name;
    private final Process process;
    private final PrintWriter in;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final Path log;

    private Child(String name, Process process, Path log) throws IOException {
        this.name = name;
        this.process = process;
        this.log = log;
        this.in = new PrintWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8), true);
        Writer file = Files.newBufferedWriter(log);
        Thread reader = new Thread(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8)); file) {
                for (String line; (line = out.readLine()) != null; ) {
                    file.write(line + "\n");
                    file.flush();
                    lines.add(line);
                }
            } catch (IOException e) {
                // the process is gone
            }
        }, name + "-output");
        reader.setDaemon(true);
        reader.start();
    }

    /** {@code java -cp THIS_CLASSPATH ARGS...}, its output in {@code log}. */
    static Child java(String name, Path log, List<String> args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dvmscale.home=" + io.vmscale.cli.common.Home.dir(),
                "--add-exports", "java.base/sun.nio.ch=ALL-UNNAMED", // as the launcher's jar manifest says
                "-cp", System.getProperty("java.class.path")));
        command.addAll(args);
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        return new Child(name, process, log);
    }

    long pid() {
        return process.pid();
    }

    /** The first line from now on that starts with {@code prefix}; fails naming the log when none comes in time. */
    String await(String prefix, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            String line = left > 0 ? lines.poll(left, TimeUnit.NANOSECONDS) : null;
            if (line == null) {
                throw new IllegalStateException(name + " did not say '" + prefix + "' within " + timeout.toSeconds()
                        + " s" + (process.isAlive() ? "" : " (it exited with " + process.exitValue() + ")")
                        + ": see " + log);
            }
            if (line.startsWith(prefix)) {
                return line;
            }
        }
    }

    void send(String line) {
        in.println(line);
    }

    /** Its heap in use after a full collection, in MB, through jcmd; -1 when jcmd cannot tell. */
    double heapMb() {
        try {
            String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
            new ProcessBuilder(jcmd, Long.toString(pid()), "GC.run").redirectErrorStream(true).start().waitFor();
            Process info = new ProcessBuilder(jcmd, Long.toString(pid()), "GC.heap_info").redirectErrorStream(true).start();
            String text = new String(info.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            info.waitFor();
            var m = java.util.regex.Pattern.compile("used (\\d+)K").matcher(text);
            return m.find() ? Long.parseLong(m.group(1)) / 1000.0 : -1;
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }

    /** Asks it to finish ({@code quit} on stdin) and waits, then stops it if it did not. */
    void quit(Duration timeout) throws InterruptedException {
        send("quit");
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            close();
        }
    }
}
