package io.vmscale.cli.stack;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The shipped alert rules: valid for Prometheus ({@code promtool check rules}), firing when and only when their unit
 * tests say ({@code promtool test rules}), and naming only metrics that vmscale serves (conf/README.md lists them).
 */
class AlertRulesTest {
    private static final Path HOME = Path.of("..").toAbsolutePath().normalize();

    private static String promtool(String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of(HOME.resolve("scripts/promtool").toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).directory(HOME.resolve("conf").toFile()).redirectErrorStream(true)
                .start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("promtool %s ended", List.of(args)).isTrue();
        assertThat(process.exitValue()).as("promtool %s: %s", List.of(args), output).isZero();
        return output;
    }

    @Test
    void theRulesAreValidAndTheirTestsPass() throws Exception {
        assertThat(promtool("check", "rules", "alerts.yml")).contains("SUCCESS: 8 rules found");
        assertThat(promtool("test", "rules", "alerts-test.yml")).contains("SUCCESS");
    }

    @Test
    void theRulesNameOnlyMetricsVmscaleServes() throws Exception {
        String rules = Files.readString(HOME.resolve("conf/alerts.yml"));
        String documented = Files.readString(HOME.resolve("conf/README.md"));
        TreeSet<String> named = new TreeSet<>();
        Matcher m = Pattern.compile("\\bvmscale_[a-z_]+").matcher(rules.replaceAll("(?m)^\\s*(- alert:|#).*$", ""));
        while (m.find()) {
            named.add(m.group());
        }
        assertThat(named).isNotEmpty();
        for (String name : named) {
            String base = name.replaceAll("_total$", "");
            assertThat(documented).as("%s in conf/README.md's metrics", name).containsPattern("`" + base + "(_total)?`");
        }
    }
}
