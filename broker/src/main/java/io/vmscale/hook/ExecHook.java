package io.vmscale.hook;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * An executable of the operator's, called with one JSON document on its standard input: the contract of the
 * {@code exec} traffic driver and of the termination hook. It runs with a timeout (then it is killed), its exit
 * status and the start of its output (standard output and error together) are what comes back. Never throws for
 * what the program does: a missing program, a crash, a timeout are a result that says so.
 */
public final class ExecHook {
    /** Output kept of a run, in bytes. */
    static final int KEPT = 2048;

    private final Path program;
    private final Duration timeout;

    public ExecHook(Path program, Duration timeout) {
        this.program = program;
        this.timeout = timeout;
    }

    public Path program() {
        return program;
    }

    /**
     * How a run ended.
     *
     * @param exit     the exit status, or -1 when it did not end by itself (not found, timed out)
     * @param timedOut it was killed at the timeout
     * @param output   the start of what it wrote, trimmed
     * @param millis   how long it ran
     */
    public record Result(int exit, boolean timedOut, String output, long millis) {
        public boolean ok() {
            return exit == 0 && !timedOut;
        }

        /** In words, for the log and the events: {@code exit 0 in 12 ms}, {@code timed out after 5000 ms}. */
        public String describe() {
            String how = timedOut ? "timed out after " + millis + " ms (killed)" : exit < 0 ? "did not run"
                    : "exit " + exit + " in " + millis + " ms";
            return output.isEmpty() ? how : how + ": " + output;
        }
    }

    /** Runs the program with {@code json} on its standard input and waits for it, at most the timeout. */
    public Result run(String json) {
        long t0 = System.nanoTime();
        if (!Files.isExecutable(program)) {
            return new Result(-1, false, program + " is not an executable file", 0);
        }
        Process process;
        try {
            process = new ProcessBuilder(program.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            return new Result(-1, false, "cannot run " + program + ": " + e.getMessage(), 0);
        }
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        Thread reader = new Thread(() -> keep(process.getInputStream(), output), "exec-hook-output");
        reader.setDaemon(true);
        reader.start();
        try (OutputStream in = process.getOutputStream()) {
            in.write(json.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // it did not read its input (exited early): its exit status says the rest
        }
        boolean ended;
        try {
            ended = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ended = false;
        }
        if (!ended) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
        try {
            reader.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String text;
        synchronized (output) {
            text = output.toString(StandardCharsets.UTF_8).strip();
        }
        long millis = (System.nanoTime() - t0) / 1_000_000;
        return ended ? new Result(process.exitValue(), false, text, millis) : new Result(-1, true, text, millis);
    }

    /** Keeps the first {@link #KEPT} bytes, reads (and drops) the rest so that the program never blocks on a full pipe. */
    private static void keep(InputStream stream, ByteArrayOutputStream output) {
        byte[] buffer = new byte[4096];
        try (stream) {
            int n;
            while ((n = stream.read(buffer)) >= 0) {
                synchronized (output) {
                    int room = KEPT - output.size();
                    if (room > 0) {
                        output.write(buffer, 0, Math.min(room, n));
                    }
                }
            }
        } catch (IOException e) {
            // the process ended or was killed
        }
    }
}
