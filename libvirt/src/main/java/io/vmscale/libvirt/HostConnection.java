package io.vmscale.libvirt;

import com.sun.jna.Pointer;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;
import org.libvirt.event.ConnectionCloseListener;
import org.libvirt.event.DomainEvent;
import org.libvirt.event.LifecycleListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One libvirt URI, kept connected: its calls go through here. Keepalive is on; a lost connection
 * (libvirtd restarted, host gone) is reported to the {@link Listener} and retried with back-off
 * until it is back, when the listener hears again; lifecycle callbacks reach the listener too.
 * Calls made while disconnected fail with a {@link LibvirtFailure} at once. What it is asked is in
 * {@link #domains()} (define, start, stop, migrate ...) and {@link #stats()} (what the monitor
 * reads). Thread-safe.
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
    static final class RawConnect extends Connect {
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
    private final Domains domains = new Domains(this);
    private final Volumes volumes = new Volumes(this);
    private final Stats stats = new Stats(this);
    private volatile RawConnect connect;
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

    /** The domain calls: define, start, stop, save, migrate, their XML and metadata ... */
    public Domains domains() {
        return domains;
    }

    /** The storage-volume calls: a replica's overlay of a base image, an uploaded seed, their removal. */
    public Volumes volumes() {
        return volumes;
    }

    /** What the monitor reads: the domains' state and CPU time, the host's figures. */
    public Stats stats() {
        return stats;
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

    /** One libvirt call on the connection. */
    @FunctionalInterface
    interface Call<T> {
        T on(RawConnect connect) throws LibvirtException;
    }

    /**
     * Makes the call on the connection there is now. A failure names the host and {@code what}; one on a
     * dead connection starts the reconnection.
     */
    <T> T call(String what, Call<T> call) {
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

    /** The connection there is now, or null while reconnecting. */
    RawConnect current() {
        return connect;
    }

    /** Starts the reconnection when the connection a call failed on is dead. */
    void checkAlive(RawConnect current) {
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

    /** Whether libvirt's error has that code (VIR_ERR_NO_DOMAIN, say). */
    static boolean is(LibvirtException e, String code) {
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
