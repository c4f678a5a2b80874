package io.vmscale.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * TLS beyond loopback. Tests keep all traffic on loopback: the acceptor is told to use TLS there,
 * as it would on any other address.
 */
class BrokerTlsTest {
    private static final List<UserConfig> USERS = List.of(new UserConfig("monitor", "monitor-secret", "component"));

    @TempDir
    Path dataDir;

    @ParameterizedTest(name = "{0} insecure={1}: TLS {2}")
    @CsvSource({
            "127.0.0.1, false, false",
            "::1, false, false",
            "localhost, false, false",
            "0.0.0.0, false, true",
            "192.0.2.10, false, true",
            "vm-host.example, false, true",
            "0.0.0.0, true, false",
            "192.0.2.10, true, false"})
    void requiresTlsBeyondLoopbackUnlessDeclaredInsecure(String bind, boolean insecure, boolean tls) {
        BrokerConfig config = new BrokerConfig(bind, 61616, "/tmp/unused", List.of(), 90, insecure, "", "none", "");
        assertThat(BrokerTls.required(config)).isEqualTo(tls);
    }

    @Test
    void aTlsAcceptorRefusesPlainTcpAndTrustsItsOwnGeneratedCertificate() throws Exception {
        BrokerConfig config = TestBrokers.config(dataDir, USERS);
        String firstKeyStore;
        try (EmbeddedBroker broker = EmbeddedBroker.start(config, true)) {
            assertThat(broker.clientUrl()).startsWith(broker.tcpUrl() + "?sslEnabled=true");
            assertThatThrownBy(() -> BrokerConnection.open(broker.tcpUrl(), "monitor", "monitor-secret", "plain@test")
                    .close()).isInstanceOf(BrokerException.class).hasMessageContaining("cannot connect");
            try (BrokerConnection tls = BrokerConnection.open(broker.clientUrl(), "monitor", "monitor-secret", "tls@test")) {
                assertThat(tls.brokerAway()).isFalse();
            }
            Path keyStore = dataDir.resolve(BrokerTls.KEY_STORE);
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keyStore))).isEqualTo("rw-------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(BrokerTls.passwordFile(keyStore))))
                    .isEqualTo("rw-------");
            firstKeyStore = java.util.HexFormat.of().formatHex(Files.readAllBytes(keyStore));
        }
        try (EmbeddedBroker again = EmbeddedBroker.start(config, true)) {
            assertThat(java.util.HexFormat.of().formatHex(Files.readAllBytes(dataDir.resolve(BrokerTls.KEY_STORE))))
                    .as("the generated pair is reused").isEqualTo(firstKeyStore);
            BrokerConnection.open(again.clientUrl(), "monitor", "monitor-secret", "tls@test").close();
        }
    }

    @Test
    void aClientWithoutTheTrustStoreSaysWhatToCopy() {
        BrokerConfig remote = new BrokerConfig("192.0.2.10", 61616, dataDir.toString(), List.of(), 90, false, "", "none", "");
        assertThatThrownBy(() -> EmbeddedBroker.clientUrl(remote))
                .isInstanceOf(BrokerException.class)
                .hasMessageContaining(BrokerTls.TRUST_STORE + " is missing: copy it from the broker's data directory");
    }

    @Test
    void aConfiguredKeyStoreMustExist() {
        BrokerConfig config = new BrokerConfig("0.0.0.0", TestBrokers.freePort(), dataDir.toString(), USERS, 90, false,
                dataDir.resolve("nowhere.p12").toString(), "none", "");
        assertThatThrownBy(() -> EmbeddedBroker.start(config))
                .isInstanceOf(BrokerException.class).hasMessageContaining("nowhere.p12 does not exist");
    }
}
