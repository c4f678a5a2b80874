package io.vmscale.cli.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vmscale.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code vmscale config check}: the effective configuration of a valid file, the key and the file of a bad one. */
class ConfigCommandTest {
    @TempDir
    Path dir;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int vmscale(String... args) {
        return Main.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true)).execute(args);
    }

    @Test
    void aValidFileIsPrintedOverTheDefaultsWithItsPasswordsMasked() throws Exception {
        Path file = Files.writeString(dir.resolve("mine.json"), """
                {"broker": {"port": 61700, "users": [{"name": "op", "password": "op-secret-1", "role": "operator"}]},
                 "scaler": {"maxReplicas": 7}}""");
        assertThat(vmscale("config", "check", file.toString())).as(err.toString()).isZero();
        JsonNode effective = new ObjectMapper().readTree(out.toString());
        assertThat(effective.at("/broker/port").asInt()).isEqualTo(61700);
        assertThat(effective.at("/scaler/maxReplicas").asInt()).isEqualTo(7);
        assertThat(effective.at("/scaler/minReplicas").asInt()).as("a default").isEqualTo(
                ConfigLoader.defaults().scaler().minReplicas());
        assertThat(effective.at("/broker/users/0/password").asText()).isEqualTo("********");
        assertThat(out.toString()).doesNotContain("op-secret-1");
        assertThat(err.toString()).contains("vmscale config check: " + file + ": valid");
    }

    @Test
    void aBadFileNamesTheFileAndTheKey() throws Exception {
        Path file = Files.writeString(dir.resolve("bad.json"), "{\"broker\": {\"port\": \"high\"}}");
        assertThat(vmscale("config", "check", file.toString())).isEqualTo(1);
        assertThat(err.toString()).contains(file + ": key 'broker.port': expected an integer");
        assertThat(out.toString()).isEmpty();
        assertThat(vmscale("config", "check", dir.resolve("missing.json").toString())).isEqualTo(1);
        assertThat(err.toString()).contains("missing.json");
    }
}
