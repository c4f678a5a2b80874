package io.vmscale.cli.ops;

import io.vmscale.scaler.Scaler;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.reader.impl.completer.StringsCompleter;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code vmscale ops shell}: one command per line, in the original syntax ({@code + 10.0.0.5 21001},
 * {@code - ...}, {@code clear_servers}, {@code refresh}, {@code low}, {@code custom 0.3}) or the
 * {@code ops} subcommands' ({@code add}, {@code load high}, {@code pause}, {@code scale 3}, {@code status}).
 * On a terminal: line editing, history and completion (JLine); from a pipe: plain lines.
 */
@Command(name = "shell", mixinStandardHelpOptions = true,
        description = "Interactive shell: the original one-line syntax (+ IP PORT, - IP PORT, clear_servers, refresh, "
                + "low, mid, high, custom R) and every ops command; history and completion on a terminal.")
final class OpsShell implements Callable<Integer> {
    private static final Set<String> BALANCER = Set.of("+", "-", "add", "remove", "clear_servers", "clear", "refresh",
            "low", "mid", "high", "off", "custom", "load");
    private static final List<String> WORDS = List.of("+", "-", "add", "remove", "clear_servers", "clear", "refresh",
            "low", "mid", "high", "custom", "load", "pause", "resume", "scale", "min", "max", "policy",
            "threshold-window", "target-tracking", "dry-run", "on", "off", "pool", "paused", "saved", "status", "help", "quit");

    @ParentCommand
    OpsCommand ops;
    @Spec
    CommandSpec spec;

    /** Where lines come from: a JLine reader on a terminal, plain lines from a pipe; null at the end. */
    private interface Lines {
        String next() throws IOException;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try (OpsClient client = ops.client()) {
            out.println("vmscale ops shell: 'help' lists the commands, 'quit' or Ctrl-D leaves");
            out.flush();
            if (System.console() == null) {
                BufferedReader reader = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                return session(reader::readLine, client, out);
            }
            try (Terminal terminal = TerminalBuilder.builder().system(true).build()) {
                LineReader reader = LineReaderBuilder.builder().terminal(terminal).appName("vmscale")
                        .completer(new StringsCompleter(WORDS))
                        .variable(LineReader.HISTORY_FILE, Path.of(System.getProperty("user.home"), ".vmscale_history"))
                        .build();
                return session(() -> {
                    while (true) {
                        try {
                            return reader.readLine("vmscale> ");
                        } catch (UserInterruptException e) {
                            // Ctrl-C drops the line being typed
                        } catch (EndOfFileException e) {
                            return null;
                        }
                    }
                }, client, out);
            }
        }
    }

    /** Runs every line until the end or 'quit': 0 when every command was carried out, else 1. */
    private static int session(Lines lines, OpsClient client, PrintWriter out) throws IOException, InterruptedException {
        int failures = 0;
        for (String line = lines.next(); line != null; line = lines.next()) {
            Integer result = run(line, client, out);
            if (result == null) {
                break;
            }
            failures += result == 0 ? 0 : 1;
        }
        return failures == 0 ? 0 : 1;
    }

    /** Runs one line; null means leave. */
    static Integer run(String line, OpsClient client, PrintWriter out) throws InterruptedException, IOException {
        List<String> words = line.isBlank() ? List.of() : List.of(line.strip().split("\\s+"));
        if (words.isEmpty()) {
            return 0;
        }
        String first = words.get(0).toLowerCase(Locale.ROOT);
        List<String> rest = words.subList(1, words.size());
        if (first.equals("quit") || first.equals("exit")) {
            return null;
        }
        if (first.equals("help") || first.equals("?")) {
            out.println("""
                    balancer: + IP PORT | - IP PORT | clear_servers | refresh | low | mid | high | off | custom R
                              (or add IP PORT, remove IP PORT, clear, load MODE [R])
                    scaler:   pause | resume | scale N | min N | max N | policy threshold-window|target-tracking
                              | dry-run on|off | pool N [paused|saved]
                    both:     status [--json]
                    shell:    help | quit""");
            out.flush();
            return 0;
        }
        if (first.equals("status")) {
            return OpsCommand.status(client, rest.contains("--json"), out, out);
        }
        if (BALANCER.contains(first)) {
            return OpsCommand.print(client.send("balancer", "line", words, List.of("balancer")), client, out);
        }
        if (Scaler.COMMANDS.contains(first)) {
            return OpsCommand.print(client.send("scaler", first, rest, List.of("scaler")), client, out);
        }
        out.println("unknown command '" + (first.length() > 40 ? first.substring(0, 40) + "..." : first)
                + "'; 'help' lists the commands");
        out.flush();
        return 1;
    }
}
