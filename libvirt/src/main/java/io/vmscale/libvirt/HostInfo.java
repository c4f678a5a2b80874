package io.vmscale.libvirt;

/** What a host has (virNodeGetInfo): logical CPUs and memory. */
public record HostInfo(int cpus, long memoryKiB) {
}
