package io.vmscale.cli.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmscale.broker.event.AdminVerbs.Verb;
import io.vmscale.broker.event.AdminVerbs;
import io.vmscale.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The ops subcommands, the shell's help and its completion words are the admin vocabulary of {@link AdminVerbs}. */
class OpsVocabularyTest {
    /** Every command of the scaler and the balancer but the wire-only {@code line}, which the shell sends. */
    private static List<Verb> verbs() {
        return AdminVerbs.all().stream().filter(v -> !v.name().equals("line")).toList();
    }

    @Test
    void everyCommandIsAnOpsSubcommandDescribedByItsHelp() {
        CommandLine ops = Main.commandLine().getSubcommands().get("ops");
        for (Verb verb : verbs()) {
            CommandLine subcommand = ops.getSubcommands().get(verb.name());
            assertThat(subcommand).as("ops " + verb.name()).isNotNull();
            if (!verb.name().equals("status")) { // ops status asks both components: a description of its own
                assertThat(subcommand.getCommandSpec().usageMessage().description()).as("ops " + verb.name())
                        .containsExactly(verb.help());
            }
        }
        assertThat(ops.getSubcommands()).containsKeys("migrate", "hosts");
        assertThat(ops.getSubcommands()).doesNotContainKey("line");
    }

    @Test
    void theUsageShowsTheHelpOfEveryCommand() {
        StringWriter text = new StringWriter();
        CommandLine commandLine = Main.commandLine().setOut(new PrintWriter(text, true));
        assertThat(commandLine.execute("ops", "--help")).isZero();
        String usage = text.toString().replaceAll("\\s+", " ");
        for (Verb verb : verbs()) {
            if (!verb.name().equals("status")) {
                assertThat(usage).as(verb.name()).contains(" " + verb.name() + " " + verb.help());
            }
        }
    }

    @Test
    void theShellsHelpListsEveryCommandWithItsUsageAndHelp() throws Exception {
        StringWriter text = new StringWriter();
        assertThat(OpsShell.run("help", null, new PrintWriter(text, true))).isZero();
        String help = text.toString();
        String flowing = help.replaceAll("\\s+", " ");
        for (Verb verb : verbs()) {
            assertThat(help).as(verb.name()).contains("  " + verb.usage());
            assertThat(flowing).as(verb.name()).contains(verb.help());
            verb.shortForms().forEach(shortForm -> assertThat(flowing).as(shortForm).contains(" " + shortForm + " "));
        }
        assertThat(help).contains("  migrate DOMAIN HOST", "  hosts", "  status [--json]", "  help | quit");
        assertThat(help).doesNotContain("  line");
        assertThat(OpsShell.run("?", null, new PrintWriter(new StringWriter(), true))).isZero();
    }

    @Test
    void theShellCompletesEveryCommandItsShortFormsAndArgumentWords() {
        List<String> words = OpsShell.completionWords();
        for (Verb verb : verbs()) {
            assertThat(words).as(verb.name()).contains(verb.name()).containsAll(verb.shortForms())
                    .containsAll(verb.words());
        }
        assertThat(words).contains("migrate", "hosts", "help", "quit").doesNotContain("line").doesNotHaveDuplicates();
    }
}
