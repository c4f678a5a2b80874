package io.vmscale.scaler.provision;

import io.vmscale.broker.event.Endpoint;

/**
 * A replica domain that was started.
 *
 * @param domain   its name, {@code PREFIX-NNNN}
 * @param host     the libvirt URI it runs on
 * @param endpoint where its guest server answers
 */
public record Replica(String domain, String host, Endpoint endpoint) {
}
