package io.vmscale.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class MainTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine commandLine = Main.commandLine();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        return commandLine.execute(args);
    }

    @Test
    void helpListsTheSubcommands() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString()).contains("demo", "test", "broker", "guest-server", "bench");
    }

    @Test
    void everySubcommandHasHelp() {
        for (String command : new String[] {"demo", "up", "console", "broker", "monitor", "balancer", "image", "guest-server", "bench"}) {
            assertThat(run(command, "--help")).as(command).isZero();
        }
    }

    @Test
    void aBadConfigurationIsOneLineNamingFileAndKey(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("bad.json");
        Files.writeString(file, "{\"broker\": {\"port\": \"high\"}}");
        assertThat(run("broker", "--config", file.toString())).isEqualTo(1);
        assertThat(err.toString().trim()).isEqualTo("vmscale broker: " + file
                + ": key 'broker.port': expected an integer, got a string (\"high\")");
    }

    @Test
    void anUnknownBenchmarkIsNamed() {
        assertThat(run("bench", "nothing")).isEqualTo(1);
        assertThat(err.toString()).contains("unknown benchmark 'nothing' (known: guest-server, broker, monitor, boot, http-boot, haproxy, balancer, idle, scale-up, scale)");
    }

    @Test
    void roundsAndSecondsBelowOneAreRefusedBeforeAnyRun() {
        assertThat(run("bench", "balancer", "--rounds", "0")).isEqualTo(2);
        assertThat(err.toString()).contains("--rounds 0: must be 1 or more");
        assertThat(run("bench", "idle", "--seconds", "-1")).isEqualTo(2);
        assertThat(err.toString()).contains("--seconds -1: must be 1 or more");
    }

    @Test
    void anUnknownOptionIsRefused() {
        assertThat(run("demo", "--frobnicate")).isEqualTo(2);
        assertThat(err.toString()).contains("Unknown option: '--frobnicate'");
    }

    @Test
    void theDemoRunsEndToEndOnLoopback(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("vmscale.json");
        Files.writeString(config, "{}");
        assertThat(run("demo", "--loopback", "--config", config.toString(), "--requests", "12")).as(err.toString()).isZero();
        String text = out.toString();
        assertThat(text).contains("security on", "a viewer's admin command was refused");
        assertThat(text.lines().reduce((a, b) -> b).orElseThrow())
                .isEqualTo("summary: answers=12 wrong=0 lost=0 garbage-dropped=1 events-delivered=2");
    }
}
