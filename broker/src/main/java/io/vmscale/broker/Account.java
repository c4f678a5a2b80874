package io.vmscale.broker;

/** A broker user with its password and role. */
public record Account(String user, String password, Role role) {
    public Account {
        if (user == null || user.isBlank() || password == null || password.isEmpty() || role == null) {
            throw new IllegalArgumentException("an account needs a user, a password and a role");
        }
    }

    @Override
    public String toString() {
        return "Account[user=" + user + ", role=" + role.id() + "]";
    }
}
