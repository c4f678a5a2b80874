package io.vmscale.libvirt;

/**
 * A libvirt lifecycle callback, as it came.
 *
 * @param host   the connection's URI
 * @param domain the domain's name
 * @param event  libvirt's event type: DEFINED, UNDEFINED, STARTED, SUSPENDED, RESUMED, STOPPED,
 *               SHUTDOWN, PMSUSPENDED, CRASHED
 * @param detail libvirt's detail (DESTROYED, CRASHED, BOOTED, ...)
 */
public record DomainLifecycle(String host, String domain, String event, String detail) {
}
