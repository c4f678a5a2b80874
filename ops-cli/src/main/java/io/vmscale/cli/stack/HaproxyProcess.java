package io.vmscale.cli.stack;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * An HAProxy of the demo's own (Debian's package), in the foreground as a child process: an HTTP frontend on
 * loopback, an empty backend for the group, its Runtime API on a socket in {@code dir}. Killed on close.
 */
public final class HaproxyProcess implements AutoCloseable {
    private final Path socket;
    private final int port;
    private final Process process;

    private HaproxyProcess(Path socket, int port, Process process) {
        this.socket = socket;
        this.port = port;
        this.process = process;
    }

    /** Starts it and waits (at most 10 s) for its Runtime API socket. */
    public static HaproxyProcess start(Path dir, String backend) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Path socket = dir.resolve("haproxy.sock");
        Files.deleteIfExists(socket);
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path config = dir.resolve("haproxy.cfg");
        Files.writeString(config, """
                global
                  stats socket %s mode 600 level admin
                defaults
                  mode http
                  timeout connect 2s
                  timeout client 60s
                  timeout server 60s
                  retries 0
                frontend web
                  bind 127.0.0.1:%d
                  default_backend %s
                backend %s
                  balance leastconn
                """.formatted(socket, port, backend, backend));
        Process process = new ProcessBuilder("haproxy", "-db", "-f", config.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("haproxy.log").toFile()).start();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.exists(socket)) {
            if (!process.isAlive() || System.nanoTime() > end) {
                process.destroyForcibly();
                throw new IOException("haproxy did not start: " + Files.readString(dir.resolve("haproxy.log")).strip());
            }
            process.waitFor(50, TimeUnit.MILLISECONDS);
        }
        return new HaproxyProcess(socket, port, process);
    }

    public Path socket() {
        return socket;
    }

    /** The frontend's port on 127.0.0.1. */
    public int port() {
        return port;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
