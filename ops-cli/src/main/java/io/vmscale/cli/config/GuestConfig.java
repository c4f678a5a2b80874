package io.vmscale.cli.config;

import io.vmscale.config.InvalidValueException;

/**
 * The guest service in each replica (and {@code ./vmscale guest-server} on this host).
 *
 * @param port    UDP port it listens on
 * @param workers worker threads, 0 for one per core
 * @param queue   requests that may wait for a worker before new ones are shed
 */
public record GuestConfig(int port, int workers, int queue) {
    public GuestConfig {
        InvalidValueException.range("port", port, 1, 65535);
        InvalidValueException.range("workers", workers, 0, 256);
        InvalidValueException.range("queue", queue, 1, 1_000_000);
    }
}
