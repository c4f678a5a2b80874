package io.vmscale.scaler.provision;

import io.vmscale.broker.event.Endpoint;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Where a replica's guest server answers, and whose it is: our metadata element in the domain XML. */
final class Endpoints {
    /** The namespace of our metadata element in the domain XML. */
    static final String NAMESPACE = "https://vmscale.io/xmlns/replica/1";
    private static final Pattern IP = attribute("ip");
    private static final Pattern PORT = attribute("port");
    private static final Pattern GROUP = attribute("group");
    private static final Pattern CREATED = attribute("created");
    private static final Pattern IMAGE = attribute("image");

    private Endpoints() {
    }

    private static Pattern attribute(String name) {
        return Pattern.compile("\\b" + name + "\\s*=\\s*['\"]([^'\"]*)['\"]");
    }

    /** Port-forward mode: {@code <vmscale:replica ip='127.0.0.1' port='21103'/>} in the metadata element. */
    static Optional<Endpoint> parse(String element) {
        Matcher ip = IP.matcher(element);
        Matcher port = PORT.matcher(element);
        if (!ip.find() || !port.find() || !port.group(1).matches("\\d{1,5}")) {
            return Optional.empty();
        }
        int p = Integer.parseInt(port.group(1));
        return p >= 1 && p <= 65535 ? Optional.of(new Endpoint(ip.group(1), p)) : Optional.empty();
    }

    /**
     * A domain definition moved from one port-forward endpoint to another: every {@code from} (QEMU's
     * {@code hostfwd=udp:ADDRESS:PORT-}) and the {@code ip} of our metadata element say {@code to}.
     *
     * @throws ProvisioningException when the definition does not forward {@code from}
     */
    static String moved(String xml, Endpoint from, Endpoint to) {
        String forward = from.ip() + ":" + from.port() + "-";
        if (!xml.contains(forward)) {
            throw new ProvisioningException("the definition forwards nothing from " + from + ": cannot move it");
        }
        String out = xml.replace(forward, to.ip() + ":" + to.port() + "-");
        Matcher mark = Pattern.compile("<(\\w+:)?replica\\b[^>]*>").matcher(out);
        if (!mark.find()) {
            throw new ProvisioningException("the definition has no <vmscale:replica/> element: cannot move it");
        }
        String element = IP.matcher(mark.group()).replaceFirst(m -> "ip='" + to.ip() + "'");
        return out.substring(0, mark.start()) + element + out.substring(mark.end());
    }

    /** The group an ownership mark names ({@code group='PREFIX'}), or empty for an element without one. */
    static Optional<String> group(String element) {
        Matcher group = GROUP.matcher(element);
        return group.find() ? Optional.of(group.group(1)) : Optional.empty();
    }

    /** The base image the mark says the domain boots ({@code image='POOL/VOLUME'}), or empty when it says none. */
    static Optional<String> image(String element) {
        Matcher image = IMAGE.matcher(element);
        return image.find() && !image.group(1).isEmpty() ? Optional.of(image.group(1)) : Optional.empty();
    }

    /** When the mark says the domain was defined ({@code created='ISO-8601'}), or empty. */
    static Optional<java.time.Instant> created(String element) {
        Matcher created = CREATED.matcher(element);
        if (!created.find()) {
            return Optional.empty();
        }
        try {
            return Optional.of(java.time.Instant.parse(created.group(1)));
        } catch (java.time.format.DateTimeParseException e) {
            return Optional.empty(); // a mark written by hand: no age known
        }
    }
}
