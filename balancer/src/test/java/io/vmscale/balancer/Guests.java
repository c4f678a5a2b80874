package io.vmscale.balancer;

import io.vmscale.broker.event.Endpoint;
import io.vmscale.guest.GuestServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/** Real guest servers on loopback for a test, closed together at its end. */
final class Guests implements AutoCloseable {
    private final List<GuestServer> servers = new ArrayList<>();

    /** One worker and a queue of 256, on a free port. */
    Endpoint start() throws IOException {
        return start(0);
    }

    /** One worker and a queue of 256, on the given port (0: a free one). */
    Endpoint start(int port) throws IOException {
        return add(GuestServer.start(new GuestServer.Options(loopback(port), 1, 256)));
    }

    /** The guest server's default options (a worker per core), on a free port. */
    Endpoint startWithDefaults() throws IOException {
        return add(GuestServer.start(GuestServer.Options.defaults(loopback(0))));
    }

    /** The i-th server started. */
    GuestServer get(int i) {
        return servers.get(i);
    }

    private static InetSocketAddress loopback(int port) {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    private Endpoint add(GuestServer server) {
        servers.add(server);
        return new Endpoint("127.0.0.1", server.address().getPort());
    }

    @Override
    public void close() {
        servers.forEach(GuestServer::close);
    }
}
