package io.vmscale.balancer.traffic;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A real HAProxy (Debian's package) on loopback for tests: an HTTP frontend on a free port, a backend of the
 * group's with no servers of it (a foreign static one beside), its Runtime API on a socket in a temporary
 * directory. Runs in the foreground as a child process; {@link #restart} kills it and starts it again, as a
 * crashed HAProxy brought back by its supervisor would be (with an empty backend).
 */
final class Haproxy implements AutoCloseable {
    final Path dir;
    final Path socket;
    final int port;
    final String backend;
    private Process process;

    Haproxy(Path dir, String backend) throws IOException {
        this.dir = dir;
        this.socket = dir.resolve("admin.sock");
        this.port = freePort();
        this.backend = backend;
        Files.writeString(dir.resolve("haproxy.cfg"), """
                global
                  stats socket %s mode 600 level admin
                defaults
                  mode http
                  timeout connect 2s
                  timeout client 10s
                  timeout server 10s
                frontend front
                  bind 127.0.0.1:%d
                  default_backend %s
                backend %s
                  balance roundrobin
                  server keep 127.0.0.1:9 disabled
                """.formatted(socket, port, backend, backend));
        start();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    void start() throws IOException {
        Files.deleteIfExists(socket);
        process = new ProcessBuilder("haproxy", "-db", "-f", dir.resolve("haproxy.cfg").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.log").toFile()).start();
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(socket) || !process.isAlive());
        if (!process.isAlive()) {
            throw new IllegalStateException("haproxy did not start: " + Files.readString(dir.resolve("haproxy.log")));
        }
    }

    void stop() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    void restart() throws IOException, InterruptedException {
        stop();
        start();
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
