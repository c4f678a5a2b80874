package io.vmscale.cli.config;

import io.vmscale.config.ConfigBinder;
import java.nio.file.Path;

/**
 * Reads {@code vmscale.json}: the keys a file gives override the built-in defaults (the same values
 * as the shipped {@code conf/vmscale.json}); an unknown key, a wrong type or a value out of range
 * stops with one {@link io.vmscale.config.ConfigException} naming the file, the key and what was expected.
 */
public final class ConfigLoader {
    private static final ConfigBinder<VmscaleConfig> FILE = new ConfigBinder<>(VmscaleConfig.class, "vmscale.json", "groups");

    private ConfigLoader() {
    }

    /** The built-in defaults alone. */
    public static VmscaleConfig defaults() {
        return FILE.defaults();
    }

    /** The file's keys over the defaults. */
    public static VmscaleConfig load(Path file) {
        return FILE.load(file);
    }

    /** The given JSON text's keys over the defaults; {@code name} is used in messages. */
    public static VmscaleConfig parse(String name, String json) {
        return FILE.parse(name, json);
    }
}
