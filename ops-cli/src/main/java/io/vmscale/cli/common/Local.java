package io.vmscale.cli.common;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;

/** Small things the commands and benchmarks share: free loopback ports, temporary directories, serving until stopped. */
public final class Local {
    private Local() {
    }

    /** A TCP port free on loopback now. */
    public static int freeTcpPort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A UDP port free on loopback now. */
    public static int freeUdpPort() {
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes a directory and everything in it; what cannot be deleted is left. */
    public static void deleteTree(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // left behind in the temporary directory
        }
    }

    /**
     * Blocks until the JVM shuts down (SIGTERM, SIGINT), then closes what runs. Called once everything serves, so it
     * is also where a systemd unit of {@code Type=notify} learns that the service is ready ({@code READY=1}), and
     * that it stops ({@code STOPPING=1}).
     */
    public static void serveUntilStopped(AutoCloseable running, String name) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        SystemdNotify.notify("READY=1\nSTATUS=" + name + ": serving");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            SystemdNotify.notify("STOPPING=1");
            try {
                running.close();
            } catch (Exception e) {
                System.err.println(name + ": did not stop cleanly: " + e);
            }
            stopped.countDown();
        }, name + "-shutdown"));
        stopped.await();
    }
}
