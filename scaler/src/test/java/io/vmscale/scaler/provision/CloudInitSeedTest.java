package io.vmscale.scaler.provision;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed as the guest sees it: util-linux's blkid finds an ISO 9660 filesystem labelled {@code cidata}, and the
 * two files are where the directory says, byte for byte (cloud-init reading it in a real VM is HttpAppRealVmTest's).
 */
class CloudInitSeedTest {
    @TempDir
    Path dir;

    @Test
    void blkidReadsTheLabelAndTheDirectoryPointsAtBothFiles() throws Exception {
        String userData = "#cloud-config\n" + "runcmd:\n  - [echo, hello]\n".repeat(200); // more than one sector
        String metaData = CloudInitSeed.metaData("web-0003");
        byte[] iso = CloudInitSeed.iso(userData, metaData);
        Path file = dir.resolve("seed.iso");
        Files.write(file, iso);
        Process blkid = new ProcessBuilder("blkid", "-p", "-o", "export", file.toString()).redirectErrorStream(true)
                .start();
        String seen = new String(blkid.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(blkid.waitFor()).isZero();
        assertThat(seen).contains("LABEL=cidata").contains("TYPE=iso9660");

        assertThat(metaData).isEqualTo("instance-id: web-0003\nlocal-hostname: web-0003\n");
        assertThat(read(iso, "meta-data")).isEqualTo(metaData);
        assertThat(read(iso, "user-data")).isEqualTo(userData);
    }

    /** A file's bytes by its directory record in the root directory (at the sector the volume descriptor names). */
    private static String read(byte[] iso, String name) {
        int root = le32(iso, 16 * 2048 + 156 + 2);
        int at = root * 2048;
        while (iso[at] != 0) {
            int length = iso[at] & 0xff;
            int nameLength = iso[at + 32] & 0xff;
            String recorded = new String(iso, at + 33, nameLength, StandardCharsets.US_ASCII);
            if (recorded.equals(name)) {
                int extent = le32(iso, at + 2);
                int size = le32(iso, at + 10);
                return new String(iso, extent * 2048, size, StandardCharsets.UTF_8);
            }
            at += length;
        }
        throw new AssertionError(name + " not in the root directory");
    }

    private static int le32(byte[] b, int at) {
        return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | (b[at + 3] & 0xff) << 24;
    }
}
