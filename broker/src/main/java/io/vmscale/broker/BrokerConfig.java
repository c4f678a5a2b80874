package io.vmscale.broker;

import io.vmscale.config.InvalidValueException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The embedded broker.
 *
 * @param bind         address of the TCP acceptor; loopback unless other hosts must connect (then TLS, unless insecure)
 * @param port         TCP port of the acceptor
 * @param dataDir      journal, bindings, paging, the generated password files and key store ({@code ~} is the home directory)
 * @param users        accounts; when empty, accounts are generated at first start into {@code dataDir}, one file per role
 * @param maxDiskUsage percent of the data directory's disk above which the broker stops taking messages
 * @param insecure     allow a plain-TCP acceptor beyond loopback (logged loudly)
 * @param keyStore     the acceptor's PKCS#12 key store when TLS is on; empty: {@code dataDir/broker-keystore.p12}, generated
 * @param haRole       {@code none}, or {@code primary} / {@code backup} of a replicated pair (Artemis replication)
 * @param haPeer       {@code host:port} of the other broker of the pair; empty when {@code haRole} is none
 */
public record BrokerConfig(String bind, int port, String dataDir, List<UserConfig> users, int maxDiskUsage,
                           boolean insecure, String keyStore, String haRole, String haPeer) {
    public static final int DEFAULT_MAX_DISK_USAGE = 90;
    public static final List<String> HA_ROLES = List.of("none", "primary", "backup");

    public BrokerConfig {
        InvalidValueException.text("bind", bind);
        InvalidValueException.range("port", port, 1, 65535);
        InvalidValueException.text("dataDir", dataDir);
        InvalidValueException.range("maxDiskUsage", maxDiskUsage, 1, 100);
        keyStore = keyStore == null ? "" : keyStore;
        haRole = haRole == null ? "none" : haRole;
        haPeer = haPeer == null ? "" : haPeer;
        InvalidValueException.oneOf("haRole", haRole, HA_ROLES);
        if (!haRole.equals("none") && !haPeer.matches("\\[?[A-Za-z0-9.:-]+\\]?:[0-9]{1,5}")) {
            throw new InvalidValueException("haPeer", "host:port of the other broker of the pair", haPeer);
        }
        users = users == null ? List.of() : List.copyOf(users);
        Set<String> names = new HashSet<>();
        for (int i = 0; i < users.size(); i++) {
            if (!names.add(users.get(i).name())) {
                throw new InvalidValueException("users[" + i + "].name", "a name not used before", users.get(i).name());
            }
        }
    }

    /** Loopback-style defaults for what is not given: the disk guard at 90 %, TLS where needed, a generated key store. */
    public BrokerConfig(String bind, int port, String dataDir, List<UserConfig> users) {
        this(bind, port, dataDir, users, DEFAULT_MAX_DISK_USAGE, false, "", "none", "");
    }

    /** The same broker as the primary or the backup of a replicated pair with the broker at {@code peer}. */
    public BrokerConfig withHa(String role, String peer) {
        return new BrokerConfig(bind, port, dataDir, users, maxDiskUsage, insecure, keyStore, role, peer);
    }

    public boolean replicated() {
        return !haRole.equals("none");
    }
}
