package io.vmscale.scaler.provision;

import io.vmscale.broker.event.Endpoint;
import io.vmscale.monitor.libvirt.HostConnection;
import io.vmscale.monitor.libvirt.InterfaceAddress;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Where a replica's guest server answers. */
final class Endpoints {
    /** The namespace of our metadata element in the domain XML. */
    static final String NAMESPACE = "https://vmscale.io/xmlns/replica/1";
    private static final Pattern IP = Pattern.compile("\\bip\\s*=\\s*['\"]([^'\"]+)['\"]");
    private static final Pattern PORT = Pattern.compile("\\bport\\s*=\\s*['\"](\\d+)['\"]");
    /** VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE. */
    private static final int LEASE = 0;

    private Endpoints() {
    }

    /** Port-forward mode: {@code <vmscale:replica ip='127.0.0.1' port='21103'/>} in the domain's metadata. */
    static Optional<Endpoint> fromMetadata(HostConnection host, String domain) {
        return host.metadata(domain, NAMESPACE).flatMap(Endpoints::parse);
    }

    static Optional<Endpoint> parse(String element) {
        Matcher ip = IP.matcher(element);
        Matcher port = PORT.matcher(element);
        if (!ip.find() || !port.find()) {
            return Optional.empty();
        }
        int p = Integer.parseInt(port.group(1));
        return p >= 1 && p <= 65535 ? Optional.of(new Endpoint(ip.group(1), p)) : Optional.empty();
    }

    /** NAT mode: the first IPv4 address of the domain's DHCP lease, and the guest's port. */
    static Optional<Endpoint> fromLease(HostConnection host, String domain, int guestPort) {
        for (InterfaceAddress address : host.interfaceAddresses(domain, LEASE)) {
            if (address.ip().indexOf(':') < 0) {
                return Optional.of(new Endpoint(address.ip(), guestPort));
            }
        }
        return Optional.empty();
    }
}
