package io.vmscale.scaler.provision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The user's cloud-init files, read once at start: what is refused in one line, what is passed on as-is. */
class UserDataTest {
    @TempDir
    Path dir;

    @Test
    void aCloudConfigThatIsNotYamlIsOneLineNamingTheFileAndWhere() throws Exception {
        Path file = dir.resolve("user-data.yaml");
        Files.writeString(file, "#cloud-config\nruncmd:\n  - [echo, hi\n  - [echo, there]\n");
        assertThatThrownBy(() -> UserData.load(file)).isInstanceOf(ProvisioningException.class)
                .hasMessageStartingWith("application.userData " + file + ": not valid YAML at line ")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        Files.writeString(file, "#cloud-config\n- a list, not a mapping\n");
        assertThatThrownBy(() -> UserData.load(file)).hasMessage("application.userData " + file
                + ": a #cloud-config must be a YAML mapping (keys such as write_files, runcmd)");
        assertThatThrownBy(() -> UserData.load(dir.resolve("absent.yaml")))
                .hasMessage("application.userData " + dir.resolve("absent.yaml") + ": no such file");
    }

    @Test
    void otherKindsArePassedOnAsTheyAre() throws Exception {
        Path script = dir.resolve("user-data.sh");
        String text = "#!/bin/sh\necho '{not: yaml' > /tmp/x\n";
        Files.writeString(script, text);
        assertThat(UserData.load(script).text()).isEqualTo(text);
        Path config = dir.resolve("ok.yaml");
        Files.writeString(config, "#cloud-config\nwrite_files:\n  - path: /x\n    content: \"é\"\n");
        assertThat(UserData.load(config).text()).isEqualTo(Files.readString(config, StandardCharsets.UTF_8));
    }
}
