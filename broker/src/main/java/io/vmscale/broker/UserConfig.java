package io.vmscale.broker;

import io.vmscale.config.InvalidValueException;
import java.util.List;

/**
 * A broker account.
 *
 * @param name     user name
 * @param password password (keep the configuration file readable by its owner only)
 * @param role     component (publishes and consumes everything), operator (sends admin commands,
 *                 reads everything) or viewer (reads only)
 */
public record UserConfig(String name, String password, String role) {
    public static final List<String> ROLES = List.of("component", "operator", "viewer");

    public UserConfig {
        InvalidValueException.text("name", name);
        InvalidValueException.text("password", password);
        if (password.length() < 8) {
            throw new InvalidValueException("password", "at least 8 characters", password.length() + " characters");
        }
        InvalidValueException.oneOf("role", role, ROLES);
    }

    @Override
    public String toString() {
        return "UserConfig[name=" + name + ", role=" + role + "]"; // never print the password
    }
}
