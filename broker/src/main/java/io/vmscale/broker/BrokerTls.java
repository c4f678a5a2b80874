package io.vmscale.broker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TCP acceptor's transport: plain on loopback; TLS (Artemis's own {@code sslEnabled} acceptor)
 * beyond it, with a PKCS#12 key store that is generated on first use with the JDK's keytool
 * (a self-signed EC pair, ten years) and reused; plain beyond loopback only when the configuration
 * says {@code insecure: true}, logged loudly. Clients trust exactly that certificate through a trust
 * store written beside it ({@link #TRUST_STORE}; it holds no secret).
 */
public final class BrokerTls {
    static final String KEY_STORE = "broker-keystore.p12";
    /** Copy this file to a client host's data directory (same path) to connect from there. */
    public static final String TRUST_STORE = "broker-truststore.p12";
    /** A trust store holds a certificate only; PKCS#12 wants a password all the same. */
    static final String TRUST_STORE_PASSWORD = "vmscale-public";
    private static final String ALIAS = "vmscale-broker";
    private static final Logger log = LoggerFactory.getLogger(BrokerTls.class);
    private static final Set<PosixFilePermission> OWNER_ONLY = EnumSet.of(
            PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

    private BrokerTls() {
    }

    /** Whether the acceptor must use TLS: bound beyond loopback and not declared insecure. */
    public static boolean required(BrokerConfig config) {
        return !loopback(config.bind()) && !config.insecure();
    }

    /**
     * Whether an address is loopback (a wildcard is not: it listens on every interface). A name other
     * than {@code localhost} is not looked up (no DNS query for a decision about security): it counts
     * as beyond loopback.
     */
    static boolean loopback(String bind) {
        String host = bind.startsWith("[") && bind.endsWith("]") ? bind.substring(1, bind.length() - 1) : bind;
        if (host.equalsIgnoreCase("localhost")) {
            return true;
        }
        if (!host.matches("[0-9.]+") && !host.contains(":")) {
            return false;
        }
        try {
            return InetAddress.getByName(host).isLoopbackAddress(); // a literal: parsed, not looked up
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** The key store of a configuration: its {@code keyStore}, else the generated one in the data directory. */
    static Path keyStore(BrokerConfig config, Path dataDir) {
        return config.keyStore().isEmpty() ? dataDir.resolve(KEY_STORE) : Paths.get(config.keyStore()).toAbsolutePath();
    }

    /** Where a key store's password is kept: {@code FILE.password}, mode 0600. */
    static Path passwordFile(Path keyStore) {
        return keyStore.resolveSibling(keyStore.getFileName() + ".password");
    }

    /**
     * The acceptor's URL parameters for TLS, generating the key store, its password file and the
     * clients' trust store when they are missing (a configured key store must exist already).
     */
    static String acceptorParameters(BrokerConfig config, Path dataDir) {
        Path keyStore = keyStore(config, dataDir);
        Path passwordFile = passwordFile(keyStore);
        if (!Files.exists(keyStore)) {
            if (!config.keyStore().isEmpty()) {
                throw new BrokerException("broker.keyStore " + keyStore + " does not exist");
            }
            generate(config, keyStore, passwordFile, dataDir.resolve(TRUST_STORE));
        }
        String password;
        try {
            password = Files.readString(passwordFile, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new BrokerException("cannot read the key store's password from " + passwordFile
                    + " (one line, mode 0600): " + e.getMessage(), e);
        }
        return "sslEnabled=true;keyStoreType=PKCS12;keyStorePath=" + keyStore + ";keyStorePassword=" + password;
    }

    /** What a client adds to {@code tcp://host:port} to reach a TLS acceptor: trust the broker's certificate. */
    static String clientParameters(Path dataDir) {
        Path trustStore = dataDir.resolve(TRUST_STORE);
        if (!Files.exists(trustStore)) {
            throw new BrokerException("the broker uses TLS but " + trustStore + " is missing: copy it from the "
                    + "broker's data directory (the broker writes it at first start)");
        }
        return "sslEnabled=true&trustStoreType=PKCS12&trustStorePath=" + trustStore + "&trustStorePassword="
                + TRUST_STORE_PASSWORD;
    }

    private static void generate(BrokerConfig config, Path keyStore, Path passwordFile, Path trustStore) {
        byte[] secret = new byte[24];
        new SecureRandom().nextBytes(secret);
        String password = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        try {
            Files.createDirectories(keyStore.getParent());
            Files.deleteIfExists(passwordFile);
            Files.createFile(passwordFile, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            Files.writeString(passwordFile, password + "\n");
            Path certificate = keyStore.resolveSibling(ALIAS + ".cer");
            keytool("-genkeypair", "-alias", ALIAS, "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "3650",
                    "-dname", "CN=vmscale broker " + config.bind(), "-ext", "SAN=" + subjectAltNames(config.bind()),
                    "-storetype", "PKCS12", "-keystore", keyStore.toString(), "-storepass", password);
            Files.setPosixFilePermissions(keyStore, OWNER_ONLY);
            keytool("-exportcert", "-alias", ALIAS, "-keystore", keyStore.toString(), "-storepass", password,
                    "-file", certificate.toString());
            Files.deleteIfExists(trustStore);
            keytool("-importcert", "-noprompt", "-alias", ALIAS, "-file", certificate.toString(), "-storetype",
                    "PKCS12", "-keystore", trustStore.toString(), "-storepass", TRUST_STORE_PASSWORD);
            Files.deleteIfExists(certificate);
            log.info("generated the broker's TLS key pair in {} (password in {}); clients trust {}", keyStore,
                    passwordFile, trustStore);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the broker's key store " + keyStore, e);
        }
    }

    private static String subjectAltNames(String bind) {
        List<String> names = new ArrayList<>(List.of("dns:localhost", "ip:127.0.0.1"));
        String host = bind.replace("[", "").replace("]", "");
        if (host.matches("[0-9.]+") || host.contains(":")) {
            if (!host.equals("0.0.0.0") && !host.equals("::")) {
                names.add("ip:" + host);
            }
        } else {
            names.add("dns:" + host);
        }
        try {
            names.add("dns:" + InetAddress.getLocalHost().getHostName());
        } catch (UnknownHostException e) {
            // the names above will do
        }
        return String.join(",", names);
    }

    private static void keytool(String... args) {
        List<String> command = new ArrayList<>();
        command.add(Paths.get(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                process.destroyForcibly();
                throw new BrokerException("keytool " + args[0] + " failed: " + output.strip());
            }
        } catch (IOException e) {
            throw new BrokerException("cannot run keytool (a JDK's bin/keytool is needed to generate the broker's "
                    + "TLS key pair): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BrokerException("interrupted while generating the broker's TLS key pair", e);
        }
    }
}
