package io.vmscale.cli.common;

import io.vmscale.cli.config.ConfigLoader;
import io.vmscale.cli.config.VmscaleConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --config FILE}; without it, the installation's conf/vmscale.json, else the built-in defaults. */
public final class ConfigOption {
    @Option(names = "--config", paramLabel = "FILE",
            description = "configuration file (default: conf/vmscale.json of this installation)")
    Path file;

    public VmscaleConfig load() {
        return load(file);
    }

    /** Where {@link #load()} reads from, in words. */
    public String source() {
        return source(file);
    }

    /** Where {@link #load(Path)} reads from, in words: the file, the installation's, or the built-in defaults. */
    public static String source(Path file) {
        if (file != null) {
            return file.toString();
        }
        String home = System.getenv("VMSCALE_HOME");
        if (home != null && Files.isRegularFile(Path.of(home, "conf", "vmscale.json"))) {
            Path shipped = Path.of(home, "conf", "vmscale.json");
            try {
                return shipped.toRealPath().toString(); // an installed vmscale's conf is /etc/vmscale
            } catch (java.io.IOException e) {
                return shipped.toString();
            }
        }
        return "the built-in defaults";
    }

    /** That file, or else the installation's conf/vmscale.json, else the built-in defaults. */
    public static VmscaleConfig load(Path file) {
        if (file != null) {
            return ConfigLoader.load(file);
        }
        String home = System.getenv("VMSCALE_HOME");
        if (home != null) {
            Path shipped = Path.of(home, "conf", "vmscale.json");
            if (Files.isRegularFile(shipped)) {
                return ConfigLoader.load(shipped);
            }
        }
        return ConfigLoader.defaults();
    }
}
