package io.vmscale.config;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The hypervisors and the replica domains on them, shared by the monitor and the scaler.
 *
 * @param uris           libvirt URIs, one per host ({@code qemu:///system}, {@code qemu+ssh://host/system}, ...)
 * @param prefix         replica domains are named {@code PREFIX-NNNN} (NNNN: digits); no other domain is touched
 * @param reconnectMinMs first wait before reconnecting to a host that went away
 * @param reconnectMaxMs longest wait between two reconnection attempts (the wait doubles up to it)
 */
public record LibvirtConfig(List<String> uris, String prefix, int reconnectMinMs, int reconnectMaxMs) {
    private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*");

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
    }

    /**
     * True for the domains of our prefix: {@code PREFIX-} and digits, nothing else (with the prefix
     * {@code web}, {@code web-prod-0001} is not ours).
     */
    public boolean ours(String domainName) {
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
