package io.vmscale.cli.common;

import io.vmscale.broker.Account;
import io.vmscale.broker.BrokerConfig;
import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.BrokerException;
import io.vmscale.broker.Credentials;
import io.vmscale.broker.EmbeddedBroker;
import io.vmscale.broker.Role;
import io.vmscale.broker.UserConfig;
import java.nio.file.Files;
import java.nio.file.Path;

/** Connections of a separate process to the broker of a configuration, over TCP. */
public final class BrokerClients {
    private BrokerClients() {
    }

    public static String url(BrokerConfig config) {
        return EmbeddedBroker.clientUrl(config);
    }

    /**
     * Logs in with the first account of the role: from the configuration's users, or else from the
     * password file the broker generated in its data directory.
     */
    public static BrokerConnection connect(BrokerConfig config, Role role, String component) {
        return connectAs(config, role, BrokerConnection.source(component));
    }

    /** The same, with the envelope source given ({@code component@host...}). */
    public static BrokerConnection connectAs(BrokerConfig config, Role role, String source) {
        Account account = account(config, role);
        return BrokerConnection.open(url(config), account.user(), account.password(), source);
    }

    private static Account account(BrokerConfig config, Role role) {
        for (UserConfig user : config.users()) {
            if (user.role().equals(role.id())) {
                return new Account(user.name(), user.password(), role);
            }
        }
        Path dataDir = EmbeddedBroker.dataDirectory(config);
        Path file = Credentials.file(dataDir, role);
        if (!config.users().isEmpty() || !Files.exists(file)) {
            throw new BrokerException("no broker account with role " + role.id() + ": add one to broker.users, "
                    + "or start the broker once so that it writes " + file);
        }
        return Credentials.read(dataDir, role);
    }
}
