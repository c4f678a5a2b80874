package io.vmscale.broker;

import io.vmscale.config.BrokerConfig;
import io.vmscale.config.UserConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;

/** Brokers for tests: a data directory of the test's own and a free loopback port. */
public final class TestBrokers {
    private TestBrokers() {
    }

    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Generated accounts, as on a first start. */
    public static BrokerConfig config(Path dataDir) {
        return new BrokerConfig("127.0.0.1", freePort(), dataDir.toString(), List.of());
    }

    public static BrokerConfig config(Path dataDir, List<UserConfig> users) {
        return new BrokerConfig("127.0.0.1", freePort(), dataDir.toString(), users);
    }
}
