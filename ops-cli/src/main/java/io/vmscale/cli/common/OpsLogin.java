package io.vmscale.cli.common;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Role;
import io.vmscale.cli.config.VmscaleConfig;

/**
 * What a subcommand of {@code vmscale ops} logs in with: the configuration and the account that {@code ops}
 * was given ({@code --config}, {@code --user}); the {@code ops} command is one, so its rooms need not know it.
 */
public interface OpsLogin {
    /** The configuration, read once per command. */
    VmscaleConfig config();

    /** The group named with {@code --group}, or empty (the first). */
    default String group() {
        return "";
    }

    /** Logs in with {@code --user} (and its password), or else with the configuration's account of that role. */
    BrokerConnection connect(Role role);
}
