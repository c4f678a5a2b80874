/** The monitor: libvirt access, CPU % per domain, samples and lifecycle events on the broker. */
package io.vmscale.monitor;
