package io.vmscale.cli.ops;

import io.vmscale.broker.event.AdminVerbs.Verb;
import io.vmscale.broker.event.AdminVerbs;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
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
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code vmscale ops shell}: one command per line, in the original syntax ({@code + 10.0.0.5 21001},
 * {@code - ...}, {@code clear_servers}, {@code refresh}, {@code low}, {@code custom 0.3}) or the
 * {@code ops} subcommands' ({@code add}, {@code load high}, {@code pause}, {@code scale 3}, {@code status}).
 * On a terminal: line editing, history and completion (JLine); from a pipe: plain lines. Its routing, its
 * {@code help} and its completion words are made from {@link AdminVerbs}, the vocabulary the components answer.
 */
@Command(name = "shell", mixinStandardHelpOptions = true,
        description = "Interactive shell: the original one-line syntax (+ IP PORT, - IP PORT, clear_servers, refresh, "
                + "low, mid, high, custom R) and every ops command; history and completion on a terminal.")
final class OpsShell implements Callable<Integer> {
    /** The command the original one-line syntax passes to the balancer as typed. */
    private static final String LINE = "line";
    /** What the shell itself answers. */
    private static final List<String> SHELL = List.of("help", "quit");
    /** The first words that go to the balancer as a line: its commands' names and their original short forms. */
    private static final Set<String> BALANCER = balancerWords();
    private static final List<String> WORDS = completionWords();
    private static final String HELP = help();

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
        if (line.length() > AdminVerbs.MAX_LINE) {
            out.println("line too long: " + line.length() + " characters; a command line is at most "
                    + AdminVerbs.MAX_LINE);
            out.flush();
            return 1;
        }
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
            out.println(HELP);
            out.flush();
            return 0;
        }
        if (first.equals("status")) {
            return OpsCommand.status(client, rest.contains("--json"), out, out);
        }
        if (BALANCER.contains(first)) {
            return OpsCommand.print(client.send(AdminVerbs.BALANCER, LINE, words, List.of(AdminVerbs.BALANCER)), client,
                    out, out); // one conversation on the terminal: refusals answer the line like the rest
        }
        if (AdminVerbs.find(AdminVerbs.SCALER, first).isPresent()) {
            return OpsCommand.print(client.send(AdminVerbs.SCALER, first, rest, List.of(AdminVerbs.SCALER)), client, out,
                    out);
        }
        out.println("unknown command '" + (first.length() > 40 ? first.substring(0, 40) + "..." : first)
                + "'; 'help' lists the commands");
        out.flush();
        return 1;
    }

    /** The commands a line of the shell can name: every component's, but the balancer's wire-only {@code line}. */
    private static List<Verb> verbs() {
        return AdminVerbs.all().stream().filter(v -> !(v.component().equals(AdminVerbs.BALANCER) && v.name().equals(LINE)))
                .toList();
    }

    private static Set<String> balancerWords() {
        Set<String> words = new LinkedHashSet<>();
        for (Verb verb : verbs()) {
            if (verb.component().equals(AdminVerbs.BALANCER) && !shared(verb)) {
                words.add(verb.name());
                words.addAll(verb.shortForms());
            }
        }
        return Set.copyOf(words);
    }

    /** True for a command both components answer ({@code status}): the shell asks both at once. */
    private static boolean shared(Verb verb) {
        return verbs().stream().anyMatch(v -> v.name().equals(verb.name()) && !v.component().equals(verb.component()));
    }

    /** Completion: every command's name, its short forms and its argument words, and the shell's own. */
    static List<String> completionWords() {
        Set<String> words = new LinkedHashSet<>();
        for (Verb verb : verbs()) {
            words.addAll(verb.shortForms());
            words.add(verb.name());
            words.addAll(verb.words());
        }
        words.addAll(SHELL);
        return List.copyOf(words);
    }

    /** What 'help' prints: each component's commands with their help, then the shared ones, then the shell's. */
    static String help() {
        List<String> lines = new ArrayList<>();
        List<Verb> shared = verbs().stream().filter(OpsShell::shared).toList();
        for (String component : List.of(AdminVerbs.BALANCER, AdminVerbs.SCALER)) {
            lines.add(component + ":");
            List<String> shortForms = new ArrayList<>();
            for (Verb verb : verbs()) {
                if (verb.component().equals(component) && !shared.contains(verb)) {
                    lines.addAll(entry(verb.usage(), verb.help()));
                    shortForms.addAll(verb.shortForms());
                }
            }
            if (!shortForms.isEmpty()) {
                lines.addAll(entry("the original syntax, as typed: " + String.join(" ", shortForms), ""));
            }
        }
        lines.add("both:");
        for (String name : shared.stream().map(Verb::name).distinct().toList()) {
            lines.addAll(entry(name + (name.equals("status") ? " [--json]" : ""), String.join(" ", shared.stream()
                    .filter(v -> v.name().equals(name)).map(Verb::help).toList())));
        }
        lines.add("shell:");
        lines.addAll(entry(String.join(" | ", SHELL), "This list; leave the shell (or Ctrl-D)."));
        return String.join("\n", lines);
    }

    private static final int USAGE_WIDTH = 22;
    private static final int WIDTH = 100;

    /** One command: its usage, then its help wrapped beside it at {@link #WIDTH} columns. */
    private static List<String> entry(String usage, String help) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder("  " + usage);
        String indent = " ".repeat(2 + USAGE_WIDTH);
        if (line.length() >= indent.length() && !help.isEmpty()) {
            lines.add(line.toString());
            line = new StringBuilder(indent);
        }
        line.append(" ".repeat(Math.max(0, indent.length() - line.length())));
        for (String word : help.isEmpty() ? new String[0] : help.split(" ")) {
            if (line.length() > indent.length() && line.length() + 1 + word.length() > WIDTH) {
                lines.add(line.toString());
                line = new StringBuilder(indent);
            }
            line.append(line.length() > indent.length() ? " " : "").append(word);
        }
        lines.add(line.toString().stripTrailing());
        return lines;
    }
}
