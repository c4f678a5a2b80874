package io.vmscale.broker.event;

/**
 * {@code host.status}: the monitor's connection to a hypervisor came or went. While a host is
 * disconnected its domains get no samples; that is not a load of zero.
 *
 * @param host      the libvirt URI
 * @param connected whether the monitor is connected now
 * @param reason    why, in words ("connected", "closed: EOF", "cannot connect: ...")
 */
public record HostStatus(String host, boolean connected, String reason) implements Event {
    public HostStatus {
        Fields.text("host", host);
        reason = reason == null ? "" : reason;
    }
}
