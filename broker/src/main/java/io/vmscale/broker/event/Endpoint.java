package io.vmscale.broker.event;

/** Where a replica's service answers: an IP address (or host name) and a UDP port. */
public record Endpoint(String ip, int port) {
    public Endpoint {
        Fields.text("ip", ip);
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be 1..65535, got " + port);
        }
    }

    @Override
    public String toString() {
        return ip.indexOf(':') >= 0 ? "[" + ip + "]:" + port : ip + ":" + port;
    }
}
