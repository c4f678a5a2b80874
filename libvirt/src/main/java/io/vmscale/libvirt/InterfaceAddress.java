package io.vmscale.libvirt;

/** An address of a domain's network interface, as libvirt found it (DHCP lease, guest agent or ARP). */
public record InterfaceAddress(String interfaceName, String mac, String ip, int prefix) {
}
