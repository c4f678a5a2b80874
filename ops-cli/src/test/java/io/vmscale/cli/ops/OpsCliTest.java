package io.vmscale.cli.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmscale.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Walks the ops command table, so a new command cannot skip the conventions: {@code --help} on every subcommand,
 * a wrong option refused with exit 2 and the reason on stderr (nothing on stdout), {@code --json} on every command
 * that asks a component. No broker is needed: none of these gets that far.
 */
class OpsCliTest {
    /** Commands that do not ask a component for an answer: they draw, record, replay, simulate or converse. */
    private static final Set<String> NOT_ASKING = Set.of("chart", "record", "replay", "simulate", "shell");

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int vmscale(String... args) {
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
        return Main.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true)).execute(args);
    }

    @Test
    void everyOpsCommandHasHelpRefusesAWrongOptionAndTakesJson() {
        CommandLine ops = Main.commandLine().getSubcommands().get("ops");
        assertThat(ops.getSubcommands()).hasSizeGreaterThan(15);
        for (String name : ops.getSubcommands().keySet()) {
            assertThat(vmscale("ops", name, "--help")).as("ops " + name + " --help: " + err).isZero();
            assertThat(out.toString()).as("ops " + name + " --help").startsWith("Usage: vmscale ops " + name);
            assertThat(err.toString()).as("ops " + name + " --help").isEmpty();

            assertThat(vmscale("ops", name, "--frobnicate")).as("ops " + name + " --frobnicate").isEqualTo(2);
            assertThat(err.toString()).as("ops " + name + " --frobnicate") // or the missing argument it lacks first
                    .containsAnyOf("Unknown option: '--frobnicate'", "Missing required parameter")
                    .contains("Usage: vmscale ops " + name);
            assertThat(out.toString()).as("ops " + name + " --frobnicate").isEmpty();

            if (!NOT_ASKING.contains(name)) {
                assertThat(ops.getSubcommands().get(name).getCommandSpec().findOption("--json"))
                        .as("ops " + name + " --json").isNotNull();
                assertThat(ops.getSubcommands().get(name).getCommandSpec().findOption("--config"))
                        .as("ops " + name + " --config (after the subcommand)").isNotNull();
            }
        }
    }

    @Test
    void aMissingArgumentAndAnUnknownCommandAreUsageErrorsOnStderr() {
        assertThat(vmscale("ops", "scale")).isEqualTo(2);
        assertThat(err.toString()).contains("Missing required parameter: 'N'").contains("Usage: vmscale ops scale");
        assertThat(out.toString()).isEmpty();
        assertThat(vmscale("ops", "frobnicate")).isEqualTo(2);
        assertThat(err.toString()).contains("Unmatched argument at index 1: 'frobnicate'");
        assertThat(vmscale("chart")).isEqualTo(2);
        assertThat(err.toString()).contains("Unmatched argument at index 0: 'chart'");
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void theShellCompletionScriptKnowsTheOpsCommands() {
        assertThat(vmscale("generate-completion")).isZero();
        assertThat(out.toString()).contains("complete -F _complete_vmscale").contains("scale").contains("dry-run")
                .contains("migrate");
    }
}
