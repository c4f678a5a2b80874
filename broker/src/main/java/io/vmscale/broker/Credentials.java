package io.vmscale.broker;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker's accounts: those of the configuration, or, when it lists none, one account per role
 * generated at first start into a file of its own, {@code dataDir/ROLE.credentials} (mode 0600), and
 * reused: an operator's file can be handed to operators without the components' password. Local
 * clients read the file of the role they need. A {@code credentials.properties} of an earlier release
 * (every role in one file) is split into these files, same passwords, and removed.
 */
public final class Credentials {
    /** The one file of earlier releases. */
    static final String LEGACY_FILE_NAME = "credentials.properties";
    private static final Logger log = LoggerFactory.getLogger(Credentials.class);
    private static final Set<PosixFilePermission> OWNER_ONLY = EnumSet.of(
            PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

    private final List<Account> accounts;

    private Credentials(List<Account> accounts) {
        this.accounts = List.copyOf(accounts);
    }

    public List<Account> accounts() {
        return accounts;
    }

    /** The first account with this role. */
    public Optional<Account> forRole(Role role) {
        return accounts.stream().filter(a -> a.role() == role).findFirst();
    }

    /** The generated file of a role: {@code dataDir/ROLE.credentials}. */
    public static Path file(Path dataDir, Role role) {
        return dataDir.resolve(role.id() + ".credentials");
    }

    /** The accounts the broker of this configuration uses, generating the missing password files. */
    public static Credentials forBroker(BrokerConfig config, Path dataDir) {
        if (!config.users().isEmpty()) {
            List<Account> accounts = new ArrayList<>();
            for (UserConfig user : config.users()) {
                accounts.add(new Account(user.name(), user.password(), Role.of(user.role())));
            }
            return new Credentials(accounts);
        }
        Path legacy = dataDir.resolve(LEGACY_FILE_NAME);
        Properties earlier = Files.exists(legacy) ? load(legacy) : new Properties();
        SecureRandom random = new SecureRandom();
        List<Account> accounts = new ArrayList<>();
        for (Role role : Role.values()) {
            Path file = file(dataDir, role);
            if (!Files.exists(file)) {
                String user = earlier.getProperty(role.id() + ".user", role == Role.COMPONENT ? "vmscale" : role.id());
                String password = earlier.getProperty(role.id() + ".password");
                if (password == null) {
                    byte[] secret = new byte[18];
                    random.nextBytes(secret);
                    password = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
                }
                write(file, new Account(user, password, role));
            }
            accounts.add(read(dataDir, role));
        }
        if (Files.exists(legacy)) {
            try {
                Files.delete(legacy);
                log.info("split {} into one file per role in {}", legacy, dataDir);
            } catch (IOException e) {
                log.warn("could not remove {} (now one file per role): {}", legacy, e.toString());
            }
        }
        return new Credentials(accounts);
    }

    /** Reads the generated file of one role. */
    public static Account read(Path dataDir, Role role) {
        Path file = file(dataDir, role);
        Properties properties = load(file);
        warnIfReadableByOthers(file);
        String user = properties.getProperty("user");
        String password = properties.getProperty("password");
        if (user == null || password == null || user.isBlank() || password.isEmpty()) {
            throw new BrokerException(file + " holds no account (expected the keys user and password)");
        }
        return new Account(user, password, role);
    }

    private static Properties load(Path file) {
        Properties properties = new Properties();
        try (Reader in = Files.newBufferedReader(file)) {
            properties.load(in);
        } catch (IOException e) {
            throw new BrokerException("cannot read broker credentials " + file + ": " + e.getMessage(), e);
        }
        return properties;
    }

    private static void write(Path file, Account account) {
        String text = "# vmscale broker account of the role " + account.role().id() + ", generated " + Instant.now()
                + "\n# Keep this file private (mode 0600). Delete it and restart the broker for a new password.\n"
                + "user=" + account.user() + "\npassword=" + account.password() + "\n";
        try {
            Files.createDirectories(file.getParent());
            Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            Files.writeString(file, text);
            log.info("generated the broker account of role {} in {}", account.role().id(), file);
        } catch (FileAlreadyExistsException e) {
            // another process generated it first: use theirs
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write broker credentials " + file, e);
        }
    }

    private static void warnIfReadableByOthers(Path file) {
        try {
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
            if (!OWNER_ONLY.containsAll(permissions)) {
                log.warn("{} is readable by others ({}); it should be mode 0600", file,
                        PosixFilePermissions.toString(permissions));
            }
        } catch (IOException | UnsupportedOperationException e) {
            // not a POSIX file system: nothing to check
        }
    }
}
