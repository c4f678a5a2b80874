package io.vmscale.libvirt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The storage calls on the real qemu:///system, in a transient directory pool of the test's own: an overlay whose
 * backing store is the base, a volume uploaded through a stream, deletion, and the words for what is missing.
 */
class VolumesTest {
    @TempDir
    Path dir;

    private HostConnection host;
    private final String pool = "vmscale-test-" + UUID.randomUUID().toString().substring(0, 8);

    @BeforeEach
    void poolWithABase() {
        host = HostConnection.open("qemu:///system");
        host.call("create pool", c -> c.storagePoolCreateXML("<pool type='dir'><name>" + pool + "</name><target><path>"
                + dir + "</path></target></pool>", 0));
        host.call("create base", c -> c.storagePoolLookupByName(pool).storageVolCreateXML("<volume><name>base.qcow2"
                + "</name><capacity unit='MiB'>16</capacity><target><format type='qcow2'/></target></volume>", 0));
    }

    @AfterEach
    void dropPool() {
        host.call("destroy pool", c -> {
            c.storagePoolLookupByName(pool).destroy();
            return null;
        });
        host.close();
    }

    @Test
    void anOverlayIsBackedByTheBaseAnUploadHoldsItsBytesAndBothGoWhenDeleted() throws Exception {
        Volumes volumes = host.volumes();
        Volumes.Volume overlay = volumes.createOverlay(pool, "base.qcow2", "web-0000.qcow2");
        assertThat(overlay.path()).isEqualTo(dir.resolve("web-0000.qcow2").toString());
        assertThat(overlay.capacity()).isEqualTo(16L << 20);
        assertThat(overlay.format()).isEqualTo("qcow2");
        String xml = host.call("xml", c -> c.storagePoolLookupByName(pool).storageVolLookupByName("web-0000.qcow2")
                .getXMLDesc(0));
        assertThat(xml).contains("<backingStore>").contains("<path>" + dir.resolve("base.qcow2") + "</path>");

        byte[] seed = new byte[5000];
        for (int i = 0; i < seed.length; i++) {
            seed[i] = (byte) (i * 7);
        }
        Volumes.Volume uploaded = volumes.upload(pool, "web-0000-seed.iso", seed);
        assertThat(Files.readAllBytes(Path.of(uploaded.path()))).isEqualTo(seed);
        assertThat(volumes.names(pool)).containsExactlyInAnyOrder("base.qcow2", "web-0000.qcow2", "web-0000-seed.iso");

        assertThat(volumes.delete(pool, "web-0000.qcow2")).isTrue();
        assertThat(volumes.delete(pool, "web-0000-seed.iso")).isTrue();
        assertThat(volumes.delete(pool, "web-0000.qcow2")).as("gone already: no error").isFalse();
        assertThat(volumes.names(pool)).containsExactly("base.qcow2");
        assertThat(volumes.find(pool, "base.qcow2")).isPresent();
        assertThat(volumes.find(pool, "web-0000.qcow2")).isEmpty();
    }

    @Test
    void aMissingBaseOrPoolIsNamedAndNothingIsCreated() {
        Volumes volumes = host.volumes();
        assertThatThrownBy(() -> volumes.createOverlay(pool, "nope.qcow2", "web-0001.qcow2"))
                .isInstanceOf(LibvirtFailure.class)
                .hasMessage("qemu:///system: no base image 'nope.qcow2' in the storage pool '" + pool + "'");
        assertThatThrownBy(() -> volumes.createOverlay("no-such-pool", "base.qcow2", "web-0001.qcow2"))
                .hasMessage("qemu:///system: no storage pool 'no-such-pool' (virsh pool-list --all lists them)");
        assertThat(volumes.names(pool)).containsExactly("base.qcow2");
    }
}
