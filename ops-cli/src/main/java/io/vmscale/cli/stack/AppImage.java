package io.vmscale.cli.stack;

import io.vmscale.libvirt.HostConnection;
import io.vmscale.scaler.provision.GuestImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The HTTP application's base image ({@code apps/http/build-image}: Debian 12 with cloud-init, from Debian
 * packages), built when missing or out of date into the storage pool {@link #POOL} ({@link #POOL_DIR}), which is
 * defined through libvirt when missing. What {@code apps/http/vmscale.json} names.
 */
public record AppImage(Path disk, Path kernel, Path initrd) {
    /** The libvirt storage pool of vmscale's images. */
    public static final String POOL = "vmscale";
    public static final Path POOL_DIR = Path.of("/var/lib/vmscale/pool");

    /** Builds the HTTP application's image when needed and makes sure its pool is there. */
    public static AppImage http(Path home, HostConnection host, Consumer<String> log) {
        Map<String, String> built = GuestImage.run(home.resolve("apps/http/build-image"), List.of(POOL_DIR.toString()),
                home, log, "the HTTP application's image", "disk", "kernel", "initrd");
        if (host.volumes().ensurePool(POOL, POOL_DIR)) {
            log.accept("storage pool " + POOL + " defined on " + POOL_DIR);
        }
        return new AppImage(Path.of(built.get("disk")), Path.of(built.get("kernel")), Path.of(built.get("initrd")));
    }
}
