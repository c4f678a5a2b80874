package io.vmscale.config;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The embedded broker.
 *
 * @param bind    address of the TCP acceptor; loopback unless other hosts must connect
 * @param port    TCP port of the acceptor
 * @param dataDir journal, bindings, paging and the generated password file ({@code ~} is the home directory)
 * @param users   accounts; when empty, accounts are generated at first start into {@code dataDir/credentials.properties}
 */
public record BrokerConfig(String bind, int port, String dataDir, List<UserConfig> users) {
    public BrokerConfig {
        InvalidValueException.text("bind", bind);
        InvalidValueException.range("port", port, 1, 65535);
        InvalidValueException.text("dataDir", dataDir);
        users = users == null ? List.of() : List.copyOf(users);
        Set<String> names = new HashSet<>();
        for (int i = 0; i < users.size(); i++) {
            if (!names.add(users.get(i).name())) {
                throw new InvalidValueException("users[" + i + "].name", "a name not used before", users.get(i).name());
            }
        }
    }
}
