package io.vmscale.libvirt;

import org.libvirt.Library;
import org.libvirt.LibvirtException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * libvirt's event loop, which is per process: initialised once before the first connection and
 * run on a daemon thread of its own. Without it lifecycle events and keepalive do not work.
 */
public final class EventLoop {
    private static final Logger log = LoggerFactory.getLogger(EventLoop.class);
    private static Thread thread;
    /** Held so that JNA does not collect the callback while libvirt holds it. */
    private static final org.libvirt.jna.Libvirt.VirErrorCallback QUIET = (userData, error) -> {
        // libvirt prints every error on stderr unless told otherwise; the caller gets it as an exception
    };

    private EventLoop() {
    }

    /** Starts the loop the first time it is called; later calls return at once. */
    public static synchronized void ensureRunning() {
        if (thread != null) {
            return;
        }
        try {
            org.libvirt.Connect.setErrorCallback(QUIET);
            Library.initEventLoop();
        } catch (LibvirtException e) {
            throw new LibvirtFailure("cannot start libvirt's event loop: " + e.getMessage(), e);
        }
        thread = new Thread(() -> {
            try {
                Library.runEventLoop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (LibvirtException e) {
                log.error("libvirt event loop stopped: {}", e.getMessage());
            }
        }, "libvirt-events");
        thread.setDaemon(true);
        thread.start();
    }
}
