package io.vmscale.broker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Brokers for tests: a data directory of the test's own and a free loopback port. */
public final class TestBrokers {
    /** One account per role: {@code monitor} (component), {@code alice} (operator), {@code bob} (viewer). */
    public static final List<UserConfig> USERS = List.of(
            new UserConfig("monitor", "monitor-secret", "component"),
            new UserConfig("alice", "alice-secret", "operator"),
            new UserConfig("bob", "bob-secret-1", "viewer"));

    /**
     * The slowest publish call allowed: one that waited on the broker would take 5 s and more (the
     * call timeout); this leaves room for the pauses of a loaded machine.
     */
    public static final Duration NEVER_WAITS = Duration.ofMillis(500);

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
