package io.vmscale.broker;

import io.vmscale.config.BrokerConfig;
import io.vmscale.config.UserConfig;
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
 * generated at first start into {@code dataDir/credentials.properties} (mode 0600), which local
 * clients such as the ops CLI read.
 */
public final class Credentials {
    public static final String FILE_NAME = "credentials.properties";
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

    /** The accounts the broker of this configuration uses, generating the password file when needed. */
    public static Credentials forBroker(BrokerConfig config, Path dataDir) {
        if (!config.users().isEmpty()) {
            List<Account> accounts = new ArrayList<>();
            for (UserConfig user : config.users()) {
                accounts.add(new Account(user.name(), user.password(), Role.of(user.role())));
            }
            return new Credentials(accounts);
        }
        Path file = dataDir.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            generate(file);
        }
        return read(file);
    }

    /** Reads a generated password file. */
    public static Credentials read(Path file) {
        Properties properties = new Properties();
        try (Reader in = Files.newBufferedReader(file)) {
            properties.load(in);
        } catch (IOException e) {
            throw new BrokerException("cannot read broker credentials " + file + ": " + e.getMessage(), e);
        }
        warnIfReadableByOthers(file);
        List<Account> accounts = new ArrayList<>();
        for (Role role : Role.values()) {
            String user = properties.getProperty(role.id() + ".user");
            String password = properties.getProperty(role.id() + ".password");
            if (user != null && password != null) {
                accounts.add(new Account(user, password, role));
            }
        }
        if (accounts.isEmpty()) {
            throw new BrokerException(file + " holds no account (expected keys such as component.user, component.password)");
        }
        return new Credentials(accounts);
    }

    private static void generate(Path file) {
        SecureRandom random = new SecureRandom();
        StringBuilder text = new StringBuilder()
                .append("# vmscale broker accounts, generated ").append(Instant.now()).append('\n')
                .append("# Keep this file private (mode 0600). Delete it and restart the broker to get new passwords.\n");
        for (Role role : Role.values()) {
            byte[] secret = new byte[18];
            random.nextBytes(secret);
            String user = role == Role.COMPONENT ? "vmscale" : role.id();
            text.append(role.id()).append(".user=").append(user).append('\n')
                    .append(role.id()).append(".password=")
                    .append(Base64.getUrlEncoder().withoutPadding().encodeToString(secret)).append('\n');
        }
        try {
            Files.createDirectories(file.getParent());
            Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            Files.writeString(file, text);
            log.info("generated broker accounts in {}", file);
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
