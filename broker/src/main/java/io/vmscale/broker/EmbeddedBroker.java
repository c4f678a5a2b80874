package io.vmscale.broker;

import io.vmscale.broker.event.Topic;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.activemq.artemis.api.core.RoutingType;
import org.apache.activemq.artemis.api.core.SimpleString;
import org.apache.activemq.artemis.core.config.ClusterConnectionConfiguration;
import org.apache.activemq.artemis.core.config.Configuration;
import org.apache.activemq.artemis.core.config.CoreAddressConfiguration;
import org.apache.activemq.artemis.core.config.ha.ReplicaPolicyConfiguration;
import org.apache.activemq.artemis.core.config.ha.ReplicatedPolicyConfiguration;
import org.apache.activemq.artemis.core.config.impl.ConfigurationImpl;
import org.apache.activemq.artemis.core.config.impl.SecurityConfiguration;
import org.apache.activemq.artemis.core.server.ActivateCallback;
import org.apache.activemq.artemis.core.server.JournalType;
import org.apache.activemq.artemis.core.server.cluster.impl.MessageLoadBalancingType;
import org.apache.activemq.artemis.core.server.embedded.EmbeddedActiveMQ;
import org.apache.activemq.artemis.core.settings.impl.AddressFullMessagePolicy;
import org.apache.activemq.artemis.core.settings.impl.AddressSettings;
import org.apache.activemq.artemis.core.settings.impl.PageFullMessagePolicy;
import org.apache.activemq.artemis.spi.core.security.ActiveMQJAASSecurityManager;
import org.apache.activemq.artemis.spi.core.security.jaas.InVMLoginModule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded Artemis broker: an in-VM acceptor for components in the same JVM, a TCP acceptor
 * (loopback by default) for the others; security on with the roles of {@link Role}; a persistent
 * journal in the data directory; the topics of {@link Topic} created up front.
 */
public final class EmbeddedBroker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedBroker.class);
    private static final AtomicInteger NEXT_IN_VM_ID = new AtomicInteger();

    private final EmbeddedActiveMQ server;
    private final Credentials credentials;
    private final String tcpUrl;
    private final String inVmUrl;
    private final Path dataDir;
    private final Duration startupTime;
    private final MessageSizeLimit sizeLimit;
    private final String clientUrl;
    private BrokerStatus status;
    private Thread statusStarting;
    private boolean closed;

    private EmbeddedBroker(EmbeddedActiveMQ server, Credentials credentials, String tcpUrl, String inVmUrl,
                           Path dataDir, Duration startupTime, MessageSizeLimit sizeLimit, String clientUrl) {
        this.sizeLimit = sizeLimit;
        this.clientUrl = clientUrl;
        this.server = server;
        this.credentials = credentials;
        this.tcpUrl = tcpUrl;
        this.inVmUrl = inVmUrl;
        this.dataDir = dataDir;
        this.startupTime = startupTime;
    }

    /** The data directory of a configuration, with a leading {@code ~} taken as the home directory. */
    public static Path dataDirectory(BrokerConfig config) {
        String dir = config.dataDir();
        if (dir.equals("~") || dir.startsWith("~/")) {
            dir = System.getProperty("user.home") + dir.substring(1);
        }
        return Paths.get(dir).toAbsolutePath().normalize();
    }

    public static EmbeddedBroker start(BrokerConfig config) {
        return start(config, false);
    }

    /** @param forceTls TLS even on loopback (tests: the machine's traffic stays on loopback) */
    static EmbeddedBroker start(BrokerConfig config, boolean forceTls) {
        long started = System.nanoTime();
        Path dataDir = dataDirectory(config);
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create broker data directory " + dataDir, e);
        }
        Credentials credentials = Credentials.forBroker(config, dataDir);
        int inVmId = NEXT_IN_VM_ID.getAndIncrement();
        String tcpUrl = "tcp://" + hostForUrl(config.bind()) + ":" + config.port();
        String inVmUrl = "vm://" + inVmId;

        Configuration configuration = new ConfigurationImpl()
                .setName("vmscale")
                .setPersistenceEnabled(true)
                .setJournalType(JournalType.NIO)
                .setJournalDirectory(dataDir.resolve("journal").toString())
                .setBindingsDirectory(dataDir.resolve("bindings").toString())
                .setPagingDirectory(dataDir.resolve("paging").toString())
                .setLargeMessagesDirectory(dataDir.resolve("large-messages").toString())
                .setJournalFileSize(1024 * 1024)
                .setJournalMinFiles(2)
                .setSecurityEnabled(true)
                .setJMXManagementEnabled(false)
                // the disk guard: above this the broker takes no more messages (it withholds producer
                // credits); only publisher threads wait then, never a data path (see BrokerConnection)
                .setMaxDiskUsage(config.maxDiskUsage());
        boolean tls = forceTls || BrokerTls.required(config);
        if (!BrokerTls.loopback(config.bind()) && !tls) {
            log.warn("INSECURE: broker.insecure is true and the acceptor {} is reachable beyond loopback over plain "
                    + "TCP: passwords and events cross the network in clear. Remove 'insecure' to use TLS.", tcpUrl);
        }
        // STOMP for the web console's page: the same acceptor takes WebSocket upgrades for it (same port,
        // same TLS, same accounts and permissions)
        String acceptor = tcpUrl + "?protocols=CORE,STOMP" + (tls ? ";" + BrokerTls.acceptorParameters(config, dataDir) : "");
        try {
            configuration.addAcceptorConfiguration("in-vm", inVmUrl);
            configuration.addAcceptorConfiguration("tcp", acceptor);
        } catch (Exception e) {
            throw new BrokerException("bad acceptor address " + tcpUrl + ": " + e.getMessage(), e);
        }
        addressSettings(configuration);
        List<String> addresses = new ArrayList<>();
        for (Topic topic : Topic.values()) {
            addresses.add(topic.address());
            addresses.add(topic.replayAddress());
        }
        // wildcards: a recorder or a chart reads every topic through one queue, in routing order
        addresses.add(Topic.PREFIX + "*");
        addresses.add(Topic.REPLAY_PREFIX + "*");
        for (String address : addresses) {
            configuration.addAddressConfiguration(new CoreAddressConfiguration()
                    .setName(address).addRoutingType(RoutingType.MULTICAST));
        }
        configuration.putSecurityRoles(Topic.PREFIX + "#", roles(false));
        configuration.putSecurityRoles(Topic.ADMIN.address(), roles(true));
        configuration.putSecurityRoles(Topic.REPLAY_PREFIX + "#", roles(true));
        configuration.putSecurityRoles(Topic.REPLY_PREFIX + "#", replyRoles());
        configuration.putSecurityRoles(BrokerConnection.LEASE_PREFIX + "#", Set.of(permissions(Role.COMPONENT, true,
                true, true)));
        configuration.putSecurityRoles(BrokerConnection.STATE_PREFIX + "#", Set.of(permissions(Role.COMPONENT, true,
                true, true)));

        SecurityConfiguration users = new SecurityConfiguration();
        for (Account account : credentials.accounts()) {
            users.addUser(account.user(), account.password());
            users.addRole(account.user(), account.role().id());
        }
        if (config.replicated()) {
            replication(configuration, config, tls, dataDir, credentials);
        }
        MessageSizeLimit sizeLimit = new MessageSizeLimit();
        configuration.registerBrokerPlugin(sizeLimit);
        configuration.registerBrokerPlugin(new StompEventType());
        EmbeddedActiveMQ server = new EmbeddedActiveMQ();
        server.setConfiguration(configuration);
        server.setSecurityManager(new ActiveMQJAASSecurityManager(InVMLoginModule.class.getName(), users));
        boolean backup = config.haRole().equals("backup");
        EmbeddedBroker[] made = new EmbeddedBroker[1];
        try {
            server.createActiveMQServer();
            if (backup) {
                // a backup answers status once it is live, that is once its primary is gone
                server.getActiveMQServer().registerActivateCallback(new ActivateCallback() {
                    @Override
                    public void activationComplete() {
                        log.warn("broker {}: the primary {} is gone: this backup is live now", tcpUrl, config.haPeer());
                        EmbeddedBroker broker = made[0];
                        if (broker != null) {
                            broker.answerStatus(config.maxDiskUsage());
                        }
                    }
                });
            }
            server.start();
        } catch (Exception e) {
            try {
                server.stop();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new BrokerException("broker failed to start on " + tcpUrl + ": " + e.getMessage(), e);
        }
        if (!backup && !server.getActiveMQServer().isActive()) {
            stopQuietly(server);
            throw new BrokerException("broker failed to start on " + tcpUrl + " (is the port already taken?)");
        }
        Duration startupTime = Duration.ofNanos(System.nanoTime() - started);
        log.info("broker started in {} ms: {} and {}, data in {}", startupTime.toMillis(), tcpUrl, inVmUrl, dataDir);
        log.info("broker acceptor {} uses {}", tcpUrl, tls ? "TLS" : "plain TCP");
        EmbeddedBroker broker = new EmbeddedBroker(server, credentials, tcpUrl, inVmUrl, dataDir, startupTime, sizeLimit,
                tls ? tcpUrl + "?" + BrokerTls.clientParameters(dataDir) : tcpUrl);
        made[0] = broker;
        if (!backup || server.getActiveMQServer().isActive()) {
            broker.answerStatus(config.maxDiskUsage());
        } else {
            log.info("broker {}: backup of {}, replicating its journal until it fails", tcpUrl, config.haPeer());
        }
        return broker;
    }

    /**
     * Starts answering {@code status} on a thread of its own: the broker serves clients at once, its
     * status answers a moment later (its own in-VM connection costs more than the broker's start).
     */
    private synchronized void answerStatus(int maxDiskUsage) {
        if (statusStarting != null || closed) {
            return;
        }
        statusStarting = new Thread(() -> {
            try {
                BrokerStatus started = BrokerStatus.start(this, maxDiskUsage);
                synchronized (this) {
                    if (closed) {
                        if (started != null) {
                            started.close();
                        }
                    } else {
                        status = started;
                    }
                }
            } catch (RuntimeException e) {
                log.warn("the broker will not answer status: {}", e.toString());
            }
        }, "broker-status-start");
        statusStarting.setDaemon(true);
        statusStarting.start();
    }

    /**
     * A live/backup pair with Artemis's own replication: the primary replicates every persistent
     * write to the backup before it confirms it; the backup takes over when it loses the primary. One
     * cluster connection between the two (no load balancing between them), authenticated with a
     * password derived from the component account, which both brokers must share. A primary that
     * comes back while its backup is live does not start as a second live (it checks for one).
     */
    private static void replication(Configuration configuration, BrokerConfig config, boolean tls, Path dataDir,
                                    Credentials credentials) {
        String parameters = tls ? "?" + BrokerTls.clientParameters(dataDir) : "";
        try {
            configuration.addConnectorConfiguration("self", reachableUrl(config) + parameters);
            configuration.addConnectorConfiguration("peer", "tcp://" + config.haPeer() + parameters);
        } catch (Exception e) {
            throw new BrokerException("bad broker.haPeer " + config.haPeer() + ": " + e.getMessage(), e);
        }
        configuration.addClusterConfiguration(new ClusterConnectionConfiguration()
                .setName("vmscale-pair")
                .setConnectorName("self")
                .setStaticConnectors(List.of("peer"))
                .setMessageLoadBalancingType(MessageLoadBalancingType.OFF)
                .setRetryInterval(200)
                .setMaxRetryInterval(2000)
                .setReconnectAttempts(-1));
        Account component = credentials.forRole(Role.COMPONENT).orElseThrow(() -> new BrokerException(
                "a replicated broker needs a component account (the pair's password is derived from it)"));
        configuration.setClusterUser("vmscale-pair");
        configuration.setClusterPassword(derivedPassword(component.password()));
        if (config.haRole().equals("primary")) {
            configuration.setHAPolicyConfiguration(new ReplicatedPolicyConfiguration().setCheckForActiveServer(true));
        } else {
            configuration.setHAPolicyConfiguration(new ReplicaPolicyConfiguration().setAllowFailBack(false)
                    .setRestartBackup(false));
        }
    }

    private static String derivedPassword(String secret) {
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(("vmscale-pair:" + secret).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(digest);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether this broker is a backup that holds a full copy of its primary's journal. */
    public boolean backupInSync() {
        return server.getActiveMQServer().isReplicaSync();
    }

    /** Whether this broker serves clients (a backup: once its primary is gone). */
    public boolean live() {
        return server.getActiveMQServer().isActive();
    }

    /** Memory an address may hold before its policy applies: figures, then everything else. */
    static final long FIGURES_MAX_BYTES = 8L * 1024 * 1024;
    static final long FACTS_MAX_BYTES = 16L * 1024 * 1024;
    /** Disk an address may page to beyond that; then new messages to it are refused. */
    static final long FACTS_PAGE_LIMIT_BYTES = 256L * 1024 * 1024;

    /**
     * Queues made by the first to use them and kept (not deleted when unused), anycast, non-destructive, holding
     * the last message of each value of {@code key}: what a lease and a kept state are.
     */
    private static AddressSettings lastValueQueues(String key) {
        return new AddressSettings()
                .setAutoCreateAddresses(true)
                .setAutoCreateQueues(true)
                .setAutoDeleteQueues(false)
                .setAutoDeleteAddresses(false)
                .setDefaultAddressRoutingType(org.apache.activemq.artemis.api.core.RoutingType.ANYCAST)
                .setDefaultQueueRoutingType(org.apache.activemq.artemis.api.core.RoutingType.ANYCAST)
                .setDefaultNonDestructive(true)
                .setDefaultLastValueKey(SimpleString.of(key));
    }

    /**
     * Every address is bounded and none blocks a producer (Artemis would otherwise withhold credits):
     * the figures' topics ({@code vmscale.cpu}, {@code vmscale.lb} and their replay twins: non-persistent,
     * superseded every second) FAIL a send past 8 MiB unread, which the publisher counts as a dropped
     * figure; the others PAGE to disk past 16 MiB and FAIL a send past 256 MiB of pages (a subscriber
     * that stopped reading, a forgotten durable subscription), which the publisher counts and logs as a
     * kept event dropped. A message that cannot be delivered or expires is dropped (these addresses
     * have no queue), and saying so up front keeps Artemis from warning about it for every subscription.
     */
    private static void addressSettings(Configuration configuration) {
        configuration.addAddressSetting(Topic.PREFIX + "#", facts(false));
        // reply addresses are the only ones made on demand (by the operator or viewer that asks)
        configuration.addAddressSetting(Topic.REPLY_PREFIX + "#", facts(true));
        // a lease: one queue made by the first to ask, exclusive, non-destructive, one token (BrokerConnection.lease)
        configuration.addAddressSetting(BrokerConnection.LEASE_PREFIX + "#",
                lastValueQueues(BrokerConnection.LEASE_KEY).setDefaultExclusiveQueue(true));
        // a kept state: one durable queue made by the first to keep it, non-destructive, the last value only
        configuration.addAddressSetting(BrokerConnection.STATE_PREFIX + "#", lastValueQueues(BrokerConnection.STATE_KEY));
        for (Topic figures : List.of(Topic.CPU, Topic.LB)) {
            for (String address : List.of(figures.address(), figures.replayAddress())) {
                configuration.addAddressSetting(address, new AddressSettings()
                        .setDeadLetterAddress(SimpleString.of(Topic.PREFIX + "dead-letter"))
                        .setExpiryAddress(SimpleString.of(Topic.PREFIX + "expired"))
                        .setAutoCreateAddresses(false)
                        .setMaxSizeBytes(FIGURES_MAX_BYTES)
                        .setAddressFullMessagePolicy(AddressFullMessagePolicy.FAIL));
            }
        }
    }

    /**
     * The facts' settings. Our topics are created up front, so nothing is auto-created beside them but
     * reply addresses: that also spares a STOMP subscriber (the web console) a create-address check its
     * subscription queue would otherwise need on an address that exists.
     */
    private static AddressSettings facts(boolean autoCreateAddresses) {
        return new AddressSettings()
                .setDeadLetterAddress(SimpleString.of(Topic.PREFIX + "dead-letter"))
                .setExpiryAddress(SimpleString.of(Topic.PREFIX + "expired"))
                .setAutoCreateAddresses(autoCreateAddresses)
                .setMaxSizeBytes(FACTS_MAX_BYTES)
                .setAddressFullMessagePolicy(AddressFullMessagePolicy.PAGE)
                .setPageLimitBytes(FACTS_PAGE_LIMIT_BYTES)
                .setPageFullMessagePolicy(PageFullMessagePolicy.FAIL);
    }

    /**
     * Who may do what on one of our topics: components everything (their durable subscriptions
     * included), operators and viewers read through non-durable subscriptions only, and operators send
     * where {@code operatorSends} (the admin topic and the replay topics). Nobody but a component
     * creates a durable queue or an address.
     */
    private static Set<org.apache.activemq.artemis.core.security.Role> roles(boolean operatorSends) {
        Set<org.apache.activemq.artemis.core.security.Role> roles = new HashSet<>();
        roles.add(permissions(Role.COMPONENT, true, true, true));
        roles.add(permissions(Role.OPERATOR, operatorSends, false, false));
        roles.add(permissions(Role.VIEWER, false, false, false));
        return roles;
    }

    /**
     * Replies go from components to the operator or viewer that asked, on an address of its own that
     * its subscription creates (and the broker deletes once it is unused); still no durable queue.
     */
    private static Set<org.apache.activemq.artemis.core.security.Role> replyRoles() {
        Set<org.apache.activemq.artemis.core.security.Role> roles = new HashSet<>();
        roles.add(permissions(Role.COMPONENT, true, true, true));
        roles.add(permissions(Role.OPERATOR, false, false, true));
        roles.add(permissions(Role.VIEWER, false, false, true));
        return roles;
    }

    private static org.apache.activemq.artemis.core.security.Role permissions(Role role, boolean send,
                                                                             boolean durable, boolean createAddress) {
        org.apache.activemq.artemis.core.security.Role r = new org.apache.activemq.artemis.core.security.Role();
        r.setName(role.id());
        r.setSend(send);
        r.setConsume(true);
        r.setBrowse(true);
        // a topic subscription is a queue: reading needs the right to create and delete a non-durable one
        r.setCreateNonDurableQueue(true);
        r.setDeleteNonDurableQueue(true);
        r.setCreateDurableQueue(durable);
        r.setDeleteDurableQueue(durable);
        r.setCreateAddress(createAddress);
        r.setDeleteAddress(durable);
        return r;
    }

    /**
     * Where a client in another process connects: {@code tcp://bind:port}, a wildcard bind address
     * read as loopback; with the TLS parameters when the acceptor uses TLS (the trust store is read
     * from this host's data directory of the configuration).
     */
    public static String clientUrl(BrokerConfig config) {
        String url = reachableUrl(config);
        String tls = BrokerTls.required(config) ? BrokerTls.clientParameters(dataDirectory(config)) : "";
        if (config.replicated()) {
            // both brokers of the pair; ha=true: the client follows the pair's topology and fails over
            return "(" + url + ",tcp://" + config.haPeer() + ")?ha=true" + (tls.isEmpty() ? "" : "&" + tls);
        }
        return tls.isEmpty() ? url : url + "?" + tls;
    }

    /** {@code tcp://bind:port}, a wildcard bind address read as loopback. */
    private static String reachableUrl(BrokerConfig config) {
        return "tcp://" + reachableHost(config) + ":" + config.port();
    }

    /**
     * Where a browser on this host speaks STOMP over WebSocket to the broker: {@code ws://bind:port}
     * on the TCP acceptor, {@code wss://} when it uses TLS (the browser must then trust its certificate).
     */
    public static String webSocketUrl(BrokerConfig config) {
        return (BrokerTls.required(config) ? "wss://" : "ws://") + reachableHost(config) + ":" + config.port();
    }

    private static String reachableHost(BrokerConfig config) {
        String host = config.bind();
        if (host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]")) {
            host = "127.0.0.1";
        }
        return hostForUrl(host);
    }

    private static String hostForUrl(String host) {
        return host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    /** The acceptor's address, {@code tcp://host:port}. */
    public String tcpUrl() {
        return tcpUrl;
    }

    /** What a client in another JVM connects to: {@link #tcpUrl()}, with what it needs to trust the broker's TLS. */
    public String clientUrl() {
        return clientUrl;
    }

    /** For clients in this JVM. */
    public String inVmUrl() {
        return inVmUrl;
    }

    public Credentials credentials() {
        return credentials;
    }

    public Path dataDir() {
        return dataDir;
    }

    public Duration startupTime() {
        return startupTime;
    }

    /** Whether the broker answers {@code status} yet (it starts doing so just after it starts). */
    public synchronized boolean answersStatus() {
        return status != null;
    }

    /** What the broker's files take on disk now. */
    public StoreSize storeSize() {
        return StoreSize.of(dataDir);
    }

    /** Messages refused for their size (see {@link MessageSizeLimit}). */
    public long oversizedRefused() {
        return sizeLimit.refused();
    }

    /** Opens a connection in this JVM with the first account of a role. */
    public BrokerConnection connect(Role role, String source) {
        Account account = credentials.forRole(role)
                .orElseThrow(() -> new BrokerException("no broker account with role " + role.id()));
        return BrokerConnection.open(inVmUrl, account.user(), account.password(), source);
    }

    @Override
    public void close() {
        BrokerStatus answering;
        synchronized (this) {
            closed = true;
            answering = status;
            status = null;
        }
        if (answering != null) {
            answering.close();
        }
        stopQuietly(server);
        log.info("broker stopped");
    }

    private static void stopQuietly(EmbeddedActiveMQ server) {
        try {
            server.stop();
        } catch (Exception e) {
            log.warn("broker did not stop cleanly: {}", e.toString());
        }
    }
}
