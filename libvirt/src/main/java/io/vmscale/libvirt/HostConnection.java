package io.vmscale.libvirt;

import com.sun.jna.Pointer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.DomainInfo;
import org.libvirt.DomainInterface;
import org.libvirt.LibvirtException;
import org.libvirt.event.ConnectionCloseListener;
import org.libvirt.event.DomainEvent;
import org.libvirt.event.LifecycleListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One libvirt URI: domain operations, stats, lifecycle callbacks. Keepalive is on; a lost
 * connection (libvirtd restarted, host gone) is reported to the {@link Listener} and retried with
 * back-off until it is back, when the listener hears again. Calls made while disconnected fail
 * with a {@link LibvirtFailure} at once. Thread-safe.
 */
public final class HostConnection implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HostConnection.class);

    /** Hears lifecycle callbacks and connection changes, on libvirt's event thread: hand off, never block. */
    public interface Listener {
        Listener NONE = new Listener() {
        };

        default void lifecycle(DomainLifecycle event) {
        }

        default void connection(String uri, boolean connected, String reason) {
        }
    }

    /** Gives the raw virConnectPtr to our own bindings; {@code vcp} is protected in libvirt-java. */
    private static final class RawConnect extends Connect {
        RawConnect(String uri) throws LibvirtException {
            super(uri, false);
        }

        Pointer pointer() {
            return vcp.getPointer();
        }
    }

    private final String uri;
    private final Listener listener;
    private final Duration minBackoff;
    private final Duration maxBackoff;
    private final ScheduledExecutorService reconnector;
    private final LifecycleListener lifecycleListener = this::onLifecycle;
    private final ConnectionCloseListener closeListener = (connect, reason) -> onClosed("closed: " + reason);
    private volatile RawConnect connect;
    private volatile boolean bulkSupported = true;
    /** vCPUs per domain run ("uuid/id"), for the bulk path; runs that ended are dropped as they go. */
    private final java.util.Map<String, Integer> vcpus = new java.util.concurrent.ConcurrentHashMap<>();
    private final AllDomainStats.VcpuCache vcpuCache = new AllDomainStats.VcpuCache() {
        @Override
        public int get(String uuid, int id) {
            return vcpus.getOrDefault(uuid + "/" + id, -1);
        }

        @Override
        public void put(String uuid, int id, int count) {
            vcpus.keySet().removeIf(key -> key.startsWith(uuid + "/")); // an earlier run of the same domain
            vcpus.put(uuid + "/" + id, count);
        }
    };
    private volatile boolean closed;
    private Duration backoff;
    private boolean reconnectPending;

    private HostConnection(String uri, Listener listener, Duration minBackoff, Duration maxBackoff) {
        this.uri = uri;
        this.listener = listener;
        this.minBackoff = minBackoff;
        this.maxBackoff = maxBackoff;
        this.backoff = minBackoff;
        this.reconnector = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "libvirt-reconnect " + uri);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Connects now; when that fails, the failure is reported to the listener and retried in the
     * background, so a host that is down at start-up joins when it comes back.
     */
    public static HostConnection open(String uri, Listener listener, Duration minBackoff, Duration maxBackoff) {
        EventLoop.ensureRunning();
        HostConnection host = new HostConnection(uri, listener, minBackoff, maxBackoff);
        synchronized (host) {
            host.tryConnect();
        }
        return host;
    }

    public static HostConnection open(String uri) {
        return open(uri, Listener.NONE, Duration.ofMillis(250), Duration.ofSeconds(10));
    }

    public String uri() {
        return uri;
    }

    public boolean connected() {
        return connect != null;
    }

    /** Whether the driver answered the bulk stats call (libvirt's test driver does not). */
    public boolean bulkStatsSupported() {
        return bulkSupported;
    }

    // ---- connection management ----

    /** Called with the lock held. */
    private void tryConnect() {
        if (closed || connect != null) {
            return;
        }
        RawConnect fresh = null;
        try {
            fresh = new RawConnect(uri);
            try {
                fresh.setKeepAlive(5, 3);
            } catch (LibvirtException e) {
                log.debug("{}: no keepalive ({})", uri, e.getMessage()); // local drivers have none
            }
            fresh.registerCloseListener(closeListener);
            fresh.addLifecycleListener(lifecycleListener);
            connect = fresh;
            backoff = minBackoff;
            log.info("{}: connected", uri);
            listener.connection(uri, true, "connected");
        } catch (LibvirtException e) {
            closeQuietly(fresh);
            log.warn("{}: cannot connect ({}); retrying in {} ms", uri, e.getMessage(), backoff.toMillis());
            listener.connection(uri, false, "cannot connect: " + e.getMessage());
            scheduleReconnect();
        }
    }

    /** Called with the lock held. */
    private void scheduleReconnect() {
        if (closed || reconnectPending) {
            return;
        }
        reconnectPending = true;
        Duration wait = backoff;
        backoff = backoff.multipliedBy(2).compareTo(maxBackoff) > 0 ? maxBackoff : backoff.multipliedBy(2);
        reconnector.schedule(() -> {
            synchronized (this) {
                reconnectPending = false;
                tryConnect();
            }
        }, wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void onClosed(String reason) {
        // on libvirt's event thread: drop the connection here, reconnect on our own thread
        reconnector.execute(() -> lost(reason));
    }

    private synchronized void lost(String reason) {
        RawConnect old = connect;
        if (old == null || closed) {
            return;
        }
        connect = null;
        log.warn("{}: connection lost ({}); reconnecting", uri, reason);
        listener.connection(uri, false, reason);
        reconnector.execute(() -> release(old));
        scheduleReconnect();
    }

    private void release(RawConnect old) {
        try {
            old.removeLifecycleListener(lifecycleListener);
        } catch (LibvirtException | RuntimeException e) {
            log.debug("{}: removing the lifecycle listener: {}", uri, e.getMessage());
        }
        try {
            old.unregisterCloseListener();
        } catch (LibvirtException | RuntimeException e) {
            log.debug("{}: removing the close listener: {}", uri, e.getMessage());
        }
        closeQuietly(old);
    }

    private int onLifecycle(Domain domain, DomainEvent event) {
        try {
            Enum<?> detail = event.getDetail();
            listener.lifecycle(new DomainLifecycle(uri, domain.getName(), event.getType().name(),
                    detail == null ? "" : detail.name()));
        } catch (LibvirtException | RuntimeException e) {
            log.warn("{}: dropped a lifecycle event: {}", uri, e.toString());
        }
        return 0;
    }

    // ---- calls ----

    @FunctionalInterface
    private interface Call<T> {
        T on(RawConnect connect) throws LibvirtException;
    }

    private <T> T call(String what, Call<T> call) {
        RawConnect current = connect;
        if (current == null) {
            throw new LibvirtFailure(uri + ": " + what + ": not connected (reconnecting)");
        }
        try {
            return call.on(current);
        } catch (LibvirtException e) {
            checkAlive(current);
            throw new LibvirtFailure(uri + ": " + what + ": " + e.getMessage(), e);
        }
    }

    private void checkAlive(RawConnect current) {
        boolean alive;
        try {
            alive = current.isAlive();
        } catch (LibvirtException e) {
            alive = false;
        }
        if (!alive) {
            onClosed("call failed on a dead connection");
        }
    }

    /**
     * State, CPU time and vCPUs of the domains whose name passes the filter: one bulk call
     * (virConnectGetAllDomainStats), or one call per domain where the driver has no bulk stats.
     */
    public List<DomainStats> stats(Predicate<String> names) {
        if (bulkSupported) {
            try {
                return bulkStats(names);
            } catch (LibvirtFailure e) {
                if (!connected()) {
                    throw e;
                }
                List<DomainStats> fallback = perDomainStats(names); // throws if the connection is the trouble
                bulkSupported = false;
                log.info("{}: no bulk stats on this driver; reading one domain at a time", uri);
                return fallback;
            }
        }
        return perDomainStats(names);
    }

    /**
     * One virConnectGetAllDomainStats call (state and CPU time), plus one vCPU count query per
     * domain run the first time it is seen.
     */
    public List<DomainStats> bulkStats(Predicate<String> names) {
        return call("bulk stats", c -> {
            try {
                return AllDomainStats.fetch(c.pointer(), names, vcpuCache);
            } catch (AllDomainStats.BulkStatsUnsupported e) {
                checkAlive(c);
                throw new LibvirtFailure(uri + ": bulk stats: " + e.getMessage());
            }
        });
    }

    /** One call to list the domains, then calls for each matching domain. */
    public List<DomainStats> perDomainStats(Predicate<String> names) {
        return call("stats per domain", c -> {
            List<DomainStats> result = new ArrayList<>();
            for (Domain domain : c.listAllDomains(0)) {
                String name = domain.getName();
                if (!names.test(name)) {
                    continue;
                }
                try {
                    result.add(read(domain, name));
                } catch (LibvirtException e) {
                    if (!is(e, "VIR_ERR_NO_DOMAIN")) {
                        throw e;
                    }
                    // undefined between the listing and the reading: it is simply gone
                }
            }
            return result;
        });
    }

    private static DomainStats read(Domain domain, String name) throws LibvirtException {
        DomainInfo info = domain.getInfo();
        DomainState state = DomainState.of(info.state.ordinal());
        int id = state.active() ? domain.getID() : -1;
        return new DomainStats(name, domain.getUUIDString(), id, state, state.active() ? info.nrVirtCpu : 0,
                state.active() ? info.cpuTime : 0, info.maxMem);
    }

    /** The host's logical CPUs and memory. */
    public HostInfo info() {
        return call("node info", c -> {
            org.libvirt.NodeInfo info = c.nodeInfo();
            return new HostInfo(info.cpus, info.memory);
        });
    }

    /** The host's free memory. */
    public long freeMemoryKiB() {
        return call("free memory", c -> c.getFreeMemory() / 1024);
    }

    /** The host's cumulative CPU times, all CPUs together (virNodeGetCPUStats). */
    public HostCpuTimes cpuTimes() {
        return call("node CPU stats", c -> {
            try {
                return NodeCpuStats.fetch(c.pointer());
            } catch (NodeCpuStats.Failed e) {
                checkAlive(c);
                throw new LibvirtFailure(uri + ": node CPU stats: " + e.getMessage());
            }
        });
    }

    /** Names of all domains, running or not, that pass the filter. */
    public List<String> domainNames(Predicate<String> names) {
        return call("list domains", c -> {
            List<String> result = new ArrayList<>();
            for (Domain domain : c.listAllDomains(0)) {
                String name = domain.getName();
                if (names.test(name)) {
                    result.add(name);
                }
            }
            return result;
        });
    }

    /** The domain's figures, or empty when there is no such domain. */
    public Optional<DomainStats> domain(String name) {
        return call("look up " + name, c -> {
            try {
                return Optional.of(read(c.domainLookupByName(name), name));
            } catch (LibvirtException e) {
                if (is(e, "VIR_ERR_NO_DOMAIN")) {
                    return Optional.empty();
                }
                throw e;
            }
        });
    }

    /** Defines a persistent domain from XML; returns its name. */
    public String define(String xml) {
        return call("define", c -> c.domainDefineXML(xml).getName());
    }

    public void start(String name) {
        call("start " + name, c -> c.domainLookupByName(name).create());
    }

    /** Creates and starts a transient domain: it is gone, definition and all, when it stops. */
    public String createTransient(String xml) {
        return call("create", c -> c.domainCreateXML(xml, 0).getName());
    }

    /** The host's capabilities XML (guest architectures and domain types it offers). */
    public String capabilities() {
        return call("read capabilities", Connect::getCapabilities);
    }

    /** Starts it with its vCPUs paused (VIR_DOMAIN_START_PAUSED). */
    public void startPaused(String name) {
        call("start paused " + name, c -> c.domainLookupByName(name).create(1));
    }

    /** Asks the guest to shut down (ACPI); returns at once. */
    public void shutdown(String name) {
        call("shut down " + name, c -> {
            c.domainLookupByName(name).shutdown();
            return null;
        });
    }

    /** Stops it at once, like pulling the plug. */
    public void destroy(String name) {
        call("destroy " + name, c -> {
            c.domainLookupByName(name).destroy();
            return null;
        });
    }

    /**
     * Removes its definition and its managed save image (VIR_DOMAIN_UNDEFINE_MANAGED_SAVE); a running
     * domain becomes transient and goes when it stops.
     */
    public void undefine(String name) {
        call("undefine " + name, c -> {
            c.domainLookupByName(name).undefine(1);
            return null;
        });
    }

    /** Suspends its vCPUs (virDomainSuspend). */
    public void suspend(String name) {
        call("suspend " + name, c -> {
            c.domainLookupByName(name).suspend();
            return null;
        });
    }

    /** Lets a suspended domain run again (virDomainResume). */
    public void resume(String name) {
        call("resume " + name, c -> {
            c.domainLookupByName(name).resume();
            return null;
        });
    }

    /** Saves it to its managed save image and stops it (virDomainManagedSave); starting it restores it. */
    public void managedSave(String name) {
        call("save " + name, c -> c.domainLookupByName(name).managedSave());
    }

    /** True when it has a managed save image (virDomainHasManagedSaveImage). */
    public boolean hasManagedSave(String name) {
        return call("look for the save image of " + name, c -> c.domainLookupByName(name).hasManagedSaveImage() == 1);
    }

    /** The domain's XML description. */
    public String xml(String name) {
        return call("read the XML of " + name, c -> c.domainLookupByName(name).getXMLDesc(0));
    }

    /**
     * The domain's XML as a migration's destination may be given it (VIR_DOMAIN_XML_MIGRATABLE), running or
     * persistent (VIR_DOMAIN_XML_INACTIVE).
     */
    public String migratableXml(String name, boolean persistent) {
        return call("read the migratable XML of " + name, c -> c.domainLookupByName(name).getXMLDesc(persistent ? 8 | 2 : 8));
    }

    /**
     * Live-migrates a running domain to another host (virDomainMigrate3, managed by this client: both hosts
     * are connected here): persistent there, undefined here. Returns once the domain runs on the destination.
     *
     * @param destinationXml its running definition on the destination (another port-forward address, say)
     * @param persistentXml  its persistent definition there (else the source's persistent one is kept, old address and all)
     * @param address        the destination's address for the migration stream: where its QEMU listens and is reached
     */
    public void migrate(String name, HostConnection destination, String destinationXml, String persistentXml,
                        String address) {
        RawConnect target = destination.connect;
        if (target == null) {
            throw new LibvirtFailure(destination.uri() + ": migrate " + name + " here: not connected (reconnecting)");
        }
        org.libvirt.TypedParameter[] params = {
                new org.libvirt.TypedStringParameter("destination_xml", destinationXml),
                new org.libvirt.TypedStringParameter("persistent_xml", persistentXml),
                new org.libvirt.TypedStringParameter("migrate_uri", "tcp://" + address),
                new org.libvirt.TypedStringParameter("listen_address", address)};
        long flags = Domain.MigrateFlags.LIVE | Domain.MigrateFlags.PERSIST_DEST | Domain.MigrateFlags.UNDEFINE_SOURCE;
        call("migrate " + name + " to " + destination.uri(), c -> {
            Domain migrated = c.domainLookupByName(name).migrate(target, params, flags);
            if (migrated == null) {
                throw new LibvirtFailure(uri + ": migrate " + name + " to " + destination.uri() + ": libvirt returned no domain");
            }
            return null;
        });
    }

    /**
     * Addresses of the domain's interfaces.
     *
     * @param source 0 DHCP lease (libvirt's NAT network), 1 guest agent, 2 ARP table
     */
    public List<InterfaceAddress> interfaceAddresses(String name, int source) {
        return call("interface addresses of " + name, c -> {
            List<InterfaceAddress> result = new ArrayList<>();
            Collection<DomainInterface> interfaces = c.domainLookupByName(name).interfaceAddresses(source, 0);
            for (DomainInterface nic : interfaces) {
                for (DomainInterface.InterfaceAddress address : nic.addrs) {
                    result.add(new InterfaceAddress(nic.name, nic.hwAddr, address.address.getHostAddress(),
                            address.prefixLength));
                }
            }
            return result;
        });
    }

    /** Our metadata element in the domain's persistent definition, or empty when it has none. */
    public Optional<String> metadata(String name, String namespaceUri) {
        return call("read metadata of " + name, c -> {
            try {
                // VIR_DOMAIN_METADATA_ELEMENT, VIR_DOMAIN_AFFECT_CONFIG
                return Optional.ofNullable(c.domainLookupByName(name).getMetadata(2, namespaceUri, 2));
            } catch (LibvirtException e) {
                if (is(e, "VIR_ERR_NO_DOMAIN_METADATA")) {
                    return Optional.empty();
                }
                if (is(e, "VIR_ERR_OPERATION_INVALID") && c.domainLookupByName(name).isPersistent() == 0) {
                    try { // transient (arriving by a live migration, say): its running definition, VIR_DOMAIN_AFFECT_LIVE
                        return Optional.ofNullable(c.domainLookupByName(name).getMetadata(2, namespaceUri, 1));
                    } catch (LibvirtException live) {
                        if (is(live, "VIR_ERR_NO_DOMAIN_METADATA")) {
                            return Optional.empty();
                        }
                        throw live;
                    }
                }
                throw e;
            }
        });
    }

    /** Writes our metadata element into the domain's persistent definition. */
    public void setMetadata(String name, String key, String namespaceUri, String xml) {
        call("write metadata of " + name, c -> {
            c.domainLookupByName(name).setMetadata(2, xml, key, namespaceUri, 2);
            return null;
        });
    }

    @Override
    public void close() {
        RawConnect current;
        synchronized (this) {
            closed = true;
            current = connect;
            connect = null;
        }
        reconnector.shutdownNow();
        if (current != null) {
            release(current);
        }
    }

    private static boolean is(LibvirtException e, String code) {
        return e.getError() != null && e.getError().getCode() != null && e.getError().getCode().name().equals(code);
    }

    private static void closeQuietly(Connect connect) {
        if (connect == null) {
            return;
        }
        try {
            connect.close();
        } catch (LibvirtException | RuntimeException e) {
            log.debug("close: {}", e.getMessage());
        }
    }
}
