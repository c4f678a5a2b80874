package io.vmscale.cli.common;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The installation directory: VMSCALE_HOME as the launcher sets it, else the system property
 * {@code vmscale.home} (the build sets it for tests), else the working directory.
 */
public final class Home {
    private Home() {
    }

    public static Path dir() {
        String home = System.getenv("VMSCALE_HOME");
        if (home == null) {
            home = System.getProperty("vmscale.home");
        }
        Path dir = Path.of(home != null ? home : ".").toAbsolutePath().normalize();
        if (!Files.isDirectory(dir.resolve("guest-server"))) {
            throw new IllegalArgumentException(dir + " is not a vmscale installation: run this through ./vmscale");
        }
        return dir;
    }

    /** A configured path: absolute as given, relative to the installation otherwise. */
    public static Path resolve(String path) {
        Path p = Path.of(path);
        return p.isAbsolute() ? p : dir().resolve(p);
    }
}
