package io.vmscale.broker;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** A test against a real embedded broker (the test users, a fresh data directory), started before each test. */
abstract class OnBroker {
    @TempDir
    Path dataDir;
    BrokerConfig config;
    EmbeddedBroker broker;

    @BeforeEach
    void startBroker() {
        config = TestBrokers.config(dataDir, TestBrokers.USERS);
        broker = EmbeddedBroker.start(config);
    }

    @AfterEach
    void stopBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    /** A TCP connection to the broker as {@code user}, its source {@code user@test}. */
    BrokerConnection tcp(String user, String password) {
        return tcp(user, password, user + "@test");
    }

    BrokerConnection tcp(String user, String password, String source) {
        return BrokerConnection.open(broker.tcpUrl(), user, password, source);
    }
}
