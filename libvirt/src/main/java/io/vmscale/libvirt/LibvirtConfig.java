package io.vmscale.libvirt;

import io.vmscale.config.InvalidValueException;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The hypervisors and the replica domains on them, shared by the monitor and the scaler.
 *
 * @param uris           libvirt URIs, one per host ({@code qemu:///system}, {@code qemu+ssh://host/system}, ...)
 * @param prefix         replica domains are named {@code PREFIX-NNNN} (NNNN: digits); no other domain is touched
 * @param reconnectMinMs first wait before reconnecting to a host that went away
 * @param reconnectMaxMs longest wait between two reconnection attempts (the wait doubles up to it)
 * @param hosts          settings of some of the hosts of {@code uris}; a host not named here gets {@link Host#of}
 */
public record LibvirtConfig(List<String> uris, String prefix, int reconnectMinMs, int reconnectMaxMs,
                            List<Host> hosts) {
    private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*");

    /**
     * One host's settings.
     *
     * @param uri         one of {@code uris}
     * @param address     port-forward mode: the address its replicas' ports are forwarded on, so that two hosts on one
     *                    machine do not collide; empty: the URI's host when it is an IP address, else 127.0.0.1
     * @param maxReplicas replicas of the group it runs at most (its cores and memory limit it too); -1: no such limit
     */
    public record Host(String uri, String address, int maxReplicas) {
        public Host {
            InvalidValueException.text("uri", uri);
            address = address == null || address.isBlank() ? defaultAddress(uri) : address.strip();
            if (!address.matches("[0-9.]+|[0-9A-Fa-f:]+")) {
                throw new InvalidValueException("address", "an IP address (or empty: from the URI)", "\"" + address + "\"");
            }
            InvalidValueException.range("maxReplicas", maxReplicas, -1, 1000);
        }

        /** The defaults for a host the configuration does not name. */
        public static Host of(String uri) {
            return new Host(uri, "", -1);
        }

        /** The URI's host when it is an IPv4 address ({@code qemu+tcp://127.0.0.2:16509/system}), else 127.0.0.1. */
        static String defaultAddress(String uri) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("^[a-z0-9+]+://([0-9]+(?:\\.[0-9]+){3})(?::[0-9]+)?/")
                    .matcher(uri);
            return m.find() ? m.group(1) : "127.0.0.1";
        }
    }

    /** The same, every host with its defaults. */
    public LibvirtConfig(List<String> uris, String prefix, int reconnectMinMs, int reconnectMaxMs) {
        this(uris, prefix, reconnectMinMs, reconnectMaxMs, List.of());
    }

    public LibvirtConfig {
        if (uris == null || uris.isEmpty()) {
            throw new InvalidValueException("uris", "a list of at least one libvirt URI", "[]");
        }
        uris = List.copyOf(uris);
        for (int i = 0; i < uris.size(); i++) {
            InvalidValueException.text("uris[" + i + "]", uris.get(i));
            if (!uris.get(i).contains(":")) {
                throw new InvalidValueException("uris[" + i + "]", "a libvirt URI such as qemu:///system",
                        "\"" + uris.get(i) + "\"");
            }
        }
        InvalidValueException.text("prefix", prefix);
        if (!PREFIX.matcher(prefix).matches()) {
            throw new InvalidValueException("prefix", "letters, digits, '_', '.' or '-' (domains are named PREFIX-NNNN)",
                    "\"" + prefix + "\"");
        }
        InvalidValueException.range("reconnectMinMs", reconnectMinMs, 10, 600_000);
        InvalidValueException.range("reconnectMaxMs", reconnectMaxMs, reconnectMinMs, 600_000);
        hosts = hosts == null ? List.of() : List.copyOf(hosts);
        for (int i = 0; i < hosts.size(); i++) {
            if (!uris.contains(hosts.get(i).uri())) {
                throw new InvalidValueException("hosts[" + i + "].uri", "one of uris " + uris, "\"" + hosts.get(i).uri() + "\"");
            }
        }
    }

    /** The settings of one host of {@code uris}. */
    public Host host(String uri) {
        return hosts.stream().filter(h -> h.uri().equals(uri)).findFirst().orElseGet(() -> Host.of(uri));
    }

    /** The same hosts with other URIs (and no per-host settings of the old ones). */
    public LibvirtConfig withUris(List<String> others) {
        return new LibvirtConfig(others, prefix, reconnectMinMs, reconnectMaxMs,
                hosts.stream().filter(h -> others.contains(h.uri())).toList());
    }

    /** The same hosts for another group of domains. */
    public LibvirtConfig withPrefix(String other) {
        return new LibvirtConfig(uris, other, reconnectMinMs, reconnectMaxMs, hosts);
    }

    /**
     * True for the domains of our prefix: {@code PREFIX-} and digits, nothing else (with the prefix
     * {@code web}, {@code web-prod-0001} is not ours).
     */
    public boolean ours(String domainName) {
        return ours(prefix, domainName);
    }

    /** True for {@code PREFIX-} and digits. */
    public static boolean ours(String prefix, String domainName) {
        int digits = prefix.length() + 1;
        if (domainName.length() <= digits || !domainName.startsWith(prefix) || domainName.charAt(prefix.length()) != '-') {
            return false;
        }
        for (int i = digits; i < domainName.length(); i++) {
            if (!Character.isDigit(domainName.charAt(i))) {
                return false;
            }
        }
        return true;
    }
}
