package io.vmscale.cli.common;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.nio.charset.StandardCharsets;

/**
 * The service manager's readiness protocol (sd_notify(3)): when systemd starts a unit of {@code Type=notify} it
 * passes {@code NOTIFY_SOCKET}, a Unix datagram socket, and waits for {@code READY=1} on it. The JDK's Unix sockets
 * are stream sockets only, so the datagram goes through the C library (JNA, which the balancer already uses).
 * Without {@code NOTIFY_SOCKET} (not run by systemd) nothing is sent.
 */
public final class SystemdNotify {
    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 02000000;
    private static final int SUN_PATH = 108;

    private SystemdNotify() {
    }

    interface C extends Library {
        int socket(int domain, int type, int protocol);

        long sendto(int fd, byte[] buffer, long length, int flags, byte[] address, int addressLength);

        int close(int fd);
    }

    private static final class Lib {
        static final C C = Native.load("c", C.class);
    }

    /** Sends {@code state} (e.g. {@code READY=1}, {@code STATUS=...}) when run by systemd; true when it was sent. */
    public static boolean notify(String state) {
        String socket = System.getenv("NOTIFY_SOCKET");
        if (socket == null || socket.isEmpty()) {
            return false;
        }
        return send(socket, state);
    }

    /**
     * Sends {@code state} to the socket at {@code path} (a leading {@code @} names an abstract socket); false, with
     * the reason on stderr, when it cannot.
     */
    public static boolean send(String path, String state) {
        byte[] address = address(path);
        if (address == null) {
            System.err.println("vmscale: NOTIFY_SOCKET " + path + " is not a Unix socket path; not notifying systemd");
            return false;
        }
        try {
            int fd = Lib.C.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                System.err.println("vmscale: cannot open a socket to notify systemd (errno " + Native.getLastError() + ")");
                return false;
            }
            try {
                byte[] message = state.getBytes(StandardCharsets.UTF_8);
                if (Lib.C.sendto(fd, message, message.length, 0, address, address.length) < 0) {
                    System.err.println("vmscale: cannot notify systemd at " + path + " (errno " + Native.getLastError() + ")");
                    return false;
                }
                return true;
            } finally {
                Lib.C.close(fd);
            }
        } catch (UnsatisfiedLinkError e) {
            System.err.println("vmscale: cannot notify systemd: " + e.getMessage());
            return false;
        }
    }

    /** A {@code struct sockaddr_un} for {@code path}, null when it is not one. */
    public static byte[] address(String path) {
        boolean abstractName = path.startsWith("@");
        if (!abstractName && !path.startsWith("/")) {
            return null;
        }
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        if (name.length >= SUN_PATH) {
            return null;
        }
        // sun_family (a short in native order), then the path: NUL-terminated, or '\0'-led when abstract
        byte[] address = new byte[2 + name.length + (abstractName ? 0 : 1)];
        address[java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN ? 0 : 1] = (byte) AF_UNIX;
        System.arraycopy(name, 0, address, 2, name.length);
        if (abstractName) {
            address[2] = 0;
        }
        return address;
    }
}
