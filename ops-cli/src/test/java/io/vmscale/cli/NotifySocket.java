package io.vmscale.cli;

import com.sun.jna.Library;
import com.sun.jna.Native;
import io.vmscale.cli.common.SystemdNotify;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** The service manager's side of sd_notify(3) for tests: a Unix datagram socket that receives what a service says. */
final class NotifySocket implements AutoCloseable {
    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int SOL_SOCKET = 1;
    private static final int SO_RCVTIMEO = 20;

    interface C extends Library {
        C INSTANCE = Native.load("c", C.class);

        int socket(int domain, int type, int protocol);

        int bind(int fd, byte[] address, int length);

        int setsockopt(int fd, int level, int name, long[] value, int length);

        long recv(int fd, byte[] buffer, long length, int flags);

        int close(int fd);
    }

    private final int fd;
    final Path path;

    NotifySocket(Path path) throws Exception {
        this.path = path;
        Files.deleteIfExists(path);
        fd = C.INSTANCE.socket(AF_UNIX, SOCK_DGRAM, 0);
        byte[] address = SystemdNotify.address(path.toString());
        if (fd < 0 || C.INSTANCE.bind(fd, address, address.length) != 0) {
            throw new IllegalStateException("cannot bind " + path + " (errno " + Native.getLastError() + ")");
        }
    }

    /** The next message, or empty when none came within {@code timeout}. */
    Optional<String> receive(Duration timeout) {
        long[] timeval = {timeout.toSeconds(), timeout.toMillisPart() * 1000L};
        C.INSTANCE.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeval, 16);
        byte[] buffer = new byte[4096];
        long n = C.INSTANCE.recv(fd, buffer, buffer.length, 0);
        return n < 0 ? Optional.empty() : Optional.of(new String(buffer, 0, (int) n, StandardCharsets.UTF_8));
    }

    @Override
    public void close() throws Exception {
        C.INSTANCE.close(fd);
        Files.deleteIfExists(path);
    }
}
