package io.vmscale.cli.ops;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Role;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.AdminVerbs;
import io.vmscale.cli.chart.ChartCommand;
import io.vmscale.cli.common.BrokerClients;
import io.vmscale.cli.common.ConfigOption;
import io.vmscale.cli.common.OpsLogin;
import io.vmscale.cli.config.VmscaleConfig;
import io.vmscale.cli.log.RecordCommand;
import io.vmscale.cli.log.ReplayCommand;
import io.vmscale.cli.log.SimulateCommand;
import java.io.Console;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * {@code vmscale ops}: an operator's commands to a running vmscale, over the broker. Every command is
 * answered (or the component that should have answered is named) within the timeout.
 * Exit codes: 0 done, 1 refused or failed, 2 usage, 3 no answer in time.
 */
@Command(name = "ops", mixinStandardHelpOptions = true,
        description = "Operate a running vmscale over the broker: balancer membership and load, scaler controls, "
                + "status; an interactive shell; the chart; record, replay and simulate event logs.",
        subcommands = {OpsShell.class, ChartCommand.class, RecordCommand.class, ReplayCommand.class, SimulateCommand.class},
        footer = {"", "Exit codes: 0 done, 1 refused or failed, 2 usage error, 3 no answer within the timeout."},
        modelTransformer = OpsCommand.VerbHelp.class)
public final class OpsCommand implements OpsLogin {
    static final int NO_ANSWER = 3;

    @Option(names = "--config", paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "configuration file (default: conf/vmscale.json of this installation); before or after the "
                    + "subcommand")
    Path configFile;
    @Option(names = "--user", paramLabel = "NAME", scope = ScopeType.INHERIT,
            description = "broker user (default: the operator account of broker.users or of the broker's credentials file)")
    String user;
    @Option(names = "--password-file", paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "with --user: a file whose first line is the password (keep it mode 0600); "
                    + "else $VMSCALE_PASSWORD, else a prompt on the terminal")
    Path passwordFile;
    /** Refused with a reason: a password on the command line shows in {@code ps}. */
    @Option(names = "--password", paramLabel = "SECRET", scope = ScopeType.INHERIT, hidden = true)
    String passwordOnCommandLine;
    @Option(names = "--timeout", paramLabel = "SECONDS", scope = ScopeType.INHERIT, defaultValue = "5",
            description = "how long to wait for answers (default: ${DEFAULT-VALUE})")
    double timeoutSeconds;
    @Option(names = {"-g", "--group"}, paramLabel = "NAME", scope = ScopeType.INHERIT,
            description = "the group a command is for, by its prefix (default: the first, the configuration's top "
                    + "level); 'ops groups' lists them")
    String group;
    @Spec
    CommandSpec spec;
    private VmscaleConfig loaded;

    /**
     * The admin command that the subcommand of this name sends, whose help is its description: the scaler's or the
     * balancer's; none for {@code status}, which asks both.
     */
    static Optional<AdminVerbs.Verb> verb(String subcommand) {
        return subcommand.equals("status") ? Optional.empty()
                : AdminVerbs.find(AdminVerbs.SCALER, subcommand).or(() -> AdminVerbs.find(AdminVerbs.BALANCER, subcommand));
    }

    /** Describes each subcommand named after an admin command with that command's help, so it is written once. */
    static final class VerbHelp implements CommandLine.IModelTransformer {
        @Override
        public CommandSpec transform(CommandSpec ops) {
            ops.subcommands().forEach((name, subcommand) -> verb(name).ifPresent(verb ->
                    subcommand.getCommandSpec().usageMessage().description(verb.help().replace("%", "%%"))));
            return ops;
        }
    }

    /** Logs in with --user, or else with the operator account of the configuration. */
    OpsClient client() {
        if (!(timeoutSeconds > 0 && timeoutSeconds <= 3600)) {
            throw new IllegalArgumentException("--timeout must be above 0 and at most 3600 seconds, got " + timeoutSeconds);
        }
        return new OpsClient(connect(Role.OPERATOR), Duration.ofMillis((long) (timeoutSeconds * 1000)), group);
    }

    /** Logs in with --user (and its password), or else with the configuration's account of that role. */
    @Override
    public BrokerConnection connect(Role role) {
        VmscaleConfig c = config();
        if (passwordOnCommandLine != null) {
            throw new IllegalArgumentException("--password is not taken: a password on the command line shows in ps; "
                    + "use --password-file FILE, $VMSCALE_PASSWORD or the prompt");
        }
        return user != null
                ? BrokerConnection.open(BrokerClients.url(c.broker()), user, password(), BrokerConnection.source("ops"))
                : BrokerClients.connect(c.broker(), role, "ops");
    }

    /** The password of --user: --password-file, else $VMSCALE_PASSWORD, else asked on the terminal. */
    private String password() {
        if (passwordFile != null) {
            try {
                List<String> lines = Files.readAllLines(passwordFile);
                if (lines.isEmpty() || lines.get(0).isEmpty()) {
                    throw new IllegalArgumentException("--password-file " + passwordFile + " is empty");
                }
                return lines.get(0);
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read --password-file " + passwordFile + ": " + e.getMessage());
            }
        }
        String fromEnvironment = System.getenv("VMSCALE_PASSWORD");
        if (fromEnvironment != null && !fromEnvironment.isEmpty()) {
            return fromEnvironment;
        }
        Console console = System.console();
        if (console == null) {
            throw new IllegalArgumentException("--user " + user + " needs a password: --password-file FILE or "
                    + "$VMSCALE_PASSWORD (there is no terminal to ask on)");
        }
        char[] typed = console.readPassword("password of %s: ", user);
        if (typed == null || typed.length == 0) {
            throw new IllegalArgumentException("no password typed for " + user);
        }
        return new String(typed);
    }

    /** The configuration, read once per command. */
    @Override
    public String group() {
        return group == null ? "" : group;
    }

    @Override
    public VmscaleConfig config() {
        if (loaded == null) {
            loaded = ConfigOption.load(configFile);
        }
        return loaded;
    }

    private int balancer(JsonOption json, String command, String... args) throws InterruptedException {
        return send("balancer", command, List.of(args), json);
    }

    private int scaler(JsonOption json, String command, String... args) throws InterruptedException {
        return send("scaler", command, List.of(args), json);
    }

    private int send(String target, String command, List<String> args, JsonOption json) throws InterruptedException {
        try (OpsClient client = client()) {
            OpsClient.Answers answers = client.send(target, command, args, List.of(target));
            return json.on ? printJson(command, answers, client, out()) : print(answers, client, out(), err());
        }
    }

    /** One line per answer: what was done on stdout, refusals and the components that did not answer on stderr. */
    static int print(OpsClient.Answers answers, OpsClient client, PrintWriter out, PrintWriter err) {
        for (AdminResult result : answers.results()) {
            (result.ok() ? out : err).println(result.responder() + ": " + (result.ok() ? "" : "error: ")
                    + result.message());
        }
        for (String missing : answers.missing()) {
            err.println(client.noAnswer(missing));
        }
        out.flush();
        err.flush();
        return answers.exitCode();
    }

    /**
     * The answers as one JSON object on stdout, refusals and silences included: {@code {"command", "ok",
     * "answers": [{"responder", "ok", "message", "data"}], "missing": [{"component", "message"}]}}.
     */
    static int printJson(String command, OpsClient.Answers answers, OpsClient client, PrintWriter out) {
        java.util.Map<String, Object> all = new java.util.LinkedHashMap<>();
        all.put("command", command);
        all.put("ok", answers.ok());
        all.put("answers", answers.results().stream().map(r -> {
            java.util.Map<String, Object> one = new java.util.LinkedHashMap<>();
            one.put("responder", r.responder());
            one.put("ok", r.ok());
            one.put("message", r.message());
            one.put("data", r.data() == null ? java.util.Map.of() : r.data());
            return one;
        }).toList());
        all.put("missing", answers.missing().stream().map(m -> {
            java.util.Map<String, Object> one = new java.util.LinkedHashMap<>();
            one.put("component", m);
            one.put("message", client.noAnswer(m));
            return one;
        }).toList());
        try {
            out.println(JSON.writeValueAsString(all));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot write the answers as JSON: " + e.getMessage(), e);
        }
        out.flush();
        return answers.exitCode();
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    /** {@code --json}: the answers as one JSON object instead of lines. */
    public static final class JsonOption {
        @Option(names = "--json", description = "the answers as one JSON object on stdout (refusals and silences too)")
        boolean on;
    }

    /** Asks the scaler and the balancer for their status and shows it, as text or JSON. */
    static int status(OpsClient client, boolean json, PrintWriter out, PrintWriter err) throws InterruptedException {
        OpsClient.Answers answers = client.send("all", "status", List.of(), List.of("scaler", "balancer", "broker"));
        StatusView view = StatusView.of(answers);
        out.print(json ? view.json() + "\n" : view.text());
        out.flush();
        answers.missing().forEach(missing -> err.println(client.noAnswer(missing)));
        err.flush();
        return answers.exitCode();
    }

    private PrintWriter out() {
        return spec.commandLine().getOut();
    }

    private PrintWriter err() {
        return spec.commandLine().getErr();
    }

    @Command(mixinStandardHelpOptions = true, name = "add")
    int add(@Mixin JsonOption json, @Parameters(paramLabel = "IP") String ip, @Parameters(paramLabel = "PORT") String port)
            throws InterruptedException {
        return balancer(json, "add", ip, port);
    }

    @Command(mixinStandardHelpOptions = true, name = "remove")
    int remove(@Mixin JsonOption json, @Parameters(paramLabel = "IP") String ip, @Parameters(paramLabel = "PORT") String port)
            throws InterruptedException {
        return balancer(json, "remove", ip, port);
    }

    @Command(mixinStandardHelpOptions = true, name = "clear")
    int clear(@Mixin JsonOption json) throws InterruptedException {
        return balancer(json, "clear");
    }

    @Command(mixinStandardHelpOptions = true, name = "refresh")
    int refresh(@Mixin JsonOption json) throws InterruptedException {
        return balancer(json, "refresh");
    }

    @Command(mixinStandardHelpOptions = true, name = "load")
    int load(@Mixin JsonOption json, @Parameters(paramLabel = "MODE") String mode,
             @Parameters(paramLabel = "R", arity = "0..1") String replicas) throws InterruptedException {
        List<String> args = new ArrayList<>(List.of(mode));
        if (replicas != null) {
            args.add(replicas);
        }
        return send("balancer", "load", args, json);
    }

    @Command(mixinStandardHelpOptions = true, name = "pause")
    int pause(@Mixin JsonOption json) throws InterruptedException {
        return scaler(json, "pause");
    }

    @Command(mixinStandardHelpOptions = true, name = "resume")
    int resume(@Mixin JsonOption json) throws InterruptedException {
        return scaler(json, "resume");
    }

    @Command(mixinStandardHelpOptions = true, name = "scale")
    int scale(@Mixin JsonOption json, @Parameters(paramLabel = "N") String n) throws InterruptedException {
        return scaler(json, "scale", n);
    }

    @Command(mixinStandardHelpOptions = true, name = "min")
    int min(@Mixin JsonOption json, @Parameters(paramLabel = "N") String n) throws InterruptedException {
        return scaler(json, "min", n);
    }

    @Command(mixinStandardHelpOptions = true, name = "max")
    int max(@Mixin JsonOption json, @Parameters(paramLabel = "N") String n) throws InterruptedException {
        return scaler(json, "max", n);
    }

    @Command(mixinStandardHelpOptions = true, name = "policy")
    int policy(@Mixin JsonOption json, @Parameters(paramLabel = "NAME") String name) throws InterruptedException {
        return scaler(json, "policy", name);
    }

    @Command(mixinStandardHelpOptions = true, name = "dry-run")
    int dryRun(@Mixin JsonOption json, @Parameters(paramLabel = "on|off") String value) throws InterruptedException {
        return scaler(json, "dry-run", value);
    }

    @Command(mixinStandardHelpOptions = true, name = "pool")
    int pool(@Mixin JsonOption json, @Parameters(paramLabel = "N") String n,
             @Parameters(paramLabel = "paused|saved", arity = "0..1") String tier) throws InterruptedException {
        return tier == null ? scaler(json, "pool", n) : scaler(json, "pool", n, tier);
    }

    @Command(mixinStandardHelpOptions = true, name = "migrate")
    int migrate(@Mixin JsonOption json, @Parameters(paramLabel = "DOMAIN") String domain, @Parameters(paramLabel = "HOST") String host)
            throws InterruptedException {
        return scaler(json, "migrate", domain, host);
    }

    @Command(mixinStandardHelpOptions = true, name = "drain")
    int drain(@Mixin JsonOption json, @Parameters(paramLabel = "DOMAIN") String domain) throws InterruptedException {
        return scaler(json, "drain", domain);
    }

    @Command(mixinStandardHelpOptions = true, name = "protect")
    int protect(@Mixin JsonOption json, @Parameters(paramLabel = "DOMAIN") String domain,
                @Parameters(paramLabel = "on|off") String value) throws InterruptedException {
        return scaler(json, "protect", domain, value);
    }

    @Command(mixinStandardHelpOptions = true, name = "image")
    int image(@Mixin JsonOption json, @Parameters(paramLabel = "POOL/VOLUME") String image) throws InterruptedException {
        return scaler(json, "image", image);
    }

    @Command(mixinStandardHelpOptions = true, name = "rollout")
    int rollout(@Mixin JsonOption json, @Parameters(paramLabel = "status|start|cancel|resume|rollback") String what)
            throws InterruptedException {
        return scaler(json, "rollout", what);
    }

    @Command(mixinStandardHelpOptions = true, name = "replace")
    int replace(@Mixin JsonOption json, @Parameters(paramLabel = "DOMAIN") String domain) throws InterruptedException {
        return scaler(json, "replace", domain);
    }

    @Command(mixinStandardHelpOptions = true, name = "groups")
    int groups(@Mixin JsonOption json) throws InterruptedException {
        return listing(json, "groups", StatusView::groups);
    }

    @Command(mixinStandardHelpOptions = true, name = "group")
    int group(@Mixin JsonOption json, @Parameters(paramLabel = "create|change|delete") String what,
              @Parameters(paramLabel = "NAME") String name,
              @Parameters(paramLabel = "SPEC", arity = "0..1", description = "create: the group's configuration "
                      + "element, JSON; change: the keys to change, a JSON merge patch over it") String text,
              @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "create, change: the spec read "
                      + "from FILE (here: the scaler may run on another machine)") Path file)
            throws InterruptedException {
        if (text != null && file != null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "give the spec as SPEC or --file FILE, "
                    + "not both");
        }
        List<String> args = new ArrayList<>(List.of(what, name));
        if (text != null || file != null) {
            args.add(text != null ? text : specFile(file));
        }
        return scaler(json, "group", args.toArray(String[]::new));
    }

    /** A group's spec from a file, read here: the scaler may run on another machine. */
    private static String specFile(Path file) {
        try {
            return Files.readString(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException("--file " + file + ": no such file");
        } catch (IOException e) {
            throw new IllegalArgumentException("--file " + file + ": cannot read it: " + e.getMessage());
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "hosts")
    int hosts(@Mixin JsonOption json) throws InterruptedException {
        return listing(json, "hosts", StatusView::hosts);
    }

    /** A scaler command whose answer is a list under {@code data.NAME}, shown as {@code table} makes it. */
    private int listing(JsonOption json, String name, java.util.function.Function<List<Object>, String> table)
            throws InterruptedException {
        try (OpsClient client = client()) {
            OpsClient.Answers answers = client.send("scaler", name, List.of(), List.of("scaler"));
            if (json.on) {
                return printJson(name, answers, client, out());
            }
            for (AdminResult result : answers.results()) {
                if (!result.ok()) {
                    err().println(result.responder() + ": error: " + result.message());
                } else if (result.data().get(name) instanceof List<?> list) {
                    out().print(table.apply(List.copyOf(list)));
                }
            }
            answers.missing().forEach(missing -> err().println(client.noAnswer(missing)));
            out().flush();
            err().flush();
            return answers.exitCode();
        }
    }

    @Command(mixinStandardHelpOptions = true, name = "status", description = "The replicas (domain, state, CPU %%, endpoint), the last decisions and "
            + "the balancer's figures.")
    int status(@Option(names = "--json", description = "one JSON object: {replicas, decisions, balancer, scaler, broker}")
               boolean json) throws InterruptedException {
        try (OpsClient client = client()) {
            return status(client, json, out(), spec.commandLine().getErr());
        }
    }
}
