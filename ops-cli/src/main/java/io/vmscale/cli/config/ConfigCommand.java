package io.vmscale.cli.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vmscale.cli.common.ConfigOption;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code vmscale config check [FILE]}: a configuration file validated, and what it amounts to. */
@Command(name = "config", mixinStandardHelpOptions = true,
        description = "The configuration: 'check [FILE]' validates a file and prints the effective configuration.",
        subcommands = ConfigCommand.Check.class)
public final class ConfigCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
    }

    @Command(name = "check", mixinStandardHelpOptions = true,
            description = "Validate FILE (default: the installation's conf/vmscale.json) and print the effective "
                    + "configuration, its keys over the built-in defaults, as JSON with the passwords masked. Exit 0 "
                    + "when valid; 1 with the file, the key and what was expected when not.")
    static final class Check implements Callable<Integer> {
        @Parameters(paramLabel = "FILE", arity = "0..1", description = "the configuration file")
        Path file;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            VmscaleConfig effective = ConfigOption.load(file);
            ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            ObjectNode tree = json.valueToTree(effective);
            if (tree.path("broker").path("users") instanceof ArrayNode users) {
                users.forEach(user -> {
                    if (user instanceof ObjectNode u && u.has("password")) {
                        u.put("password", "********");
                    }
                });
            }
            var out = spec.commandLine().getOut();
            out.println(json.writeValueAsString(tree));
            out.flush();
            spec.commandLine().getErr().println("vmscale config check: " + ConfigOption.source(file) + ": valid");
            spec.commandLine().getErr().flush();
            return 0;
        }
    }
}
