package io.vmscale.scaler.provision;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The operator's cloud-init user-data, read once at start and given to every replica as-is. A {@code #cloud-config}
 * file must be YAML (checked here, so that a typo is one line at start, not a replica that boots without its
 * application); any other kind (a {@code #!} script, {@code #include}, MIME) is cloud-init's to read.
 */
public record UserData(Path file, String text) {
    /** No user-data: an empty cloud-config. */
    public static final UserData NONE = new UserData(null, "#cloud-config\n{}\n");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    /** A seed is a small CD-ROM image, held in memory once per replica. */
    static final int MAX_BYTES = 1 << 20;

    /** Reads and checks the file; every problem is a {@link ProvisioningException} naming the file. */
    public static UserData load(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ProvisioningException("application.userData " + file + ": no such file");
        } catch (IOException e) {
            throw new ProvisioningException("application.userData " + file + ": " + e.getMessage(), e);
        }
        if (bytes.length > MAX_BYTES) {
            throw new ProvisioningException("application.userData " + file + ": " + bytes.length + " bytes, more than "
                    + MAX_BYTES + " (cloud-init's #include can fetch the rest)");
        }
        String text = new String(bytes, StandardCharsets.UTF_8);
        if (text.startsWith("#cloud-config")) {
            try {
                if (!YAML.readTree(text).isObject() && !YAML.readTree(text).isNull()) {
                    throw new ProvisioningException("application.userData " + file
                            + ": a #cloud-config must be a YAML mapping (keys such as write_files, runcmd)");
                }
            } catch (JsonProcessingException e) {
                String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column "
                        + e.getLocation().getColumnNr();
                throw new ProvisioningException("application.userData " + file + ": not valid YAML" + where + ": "
                        + e.getOriginalMessage().lines().findFirst().orElse(""));
            }
        }
        return new UserData(file, text);
    }
}
