package io.vmscale.config;

/** A configuration that cannot be used; the message names the file, the key and what was expected. */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }
}
