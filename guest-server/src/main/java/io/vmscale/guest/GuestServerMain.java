package io.vmscale.guest;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * {@code guest-server [--port P] [--bind ADDR] [--workers N] [--queue N] [--stats-seconds S]}.
 *
 * <p>JDK only, no logging framework: this is what the guest image runs on a java.base runtime.
 * Serves until SIGTERM or SIGINT, then stops cleanly (queued requests answered, counters printed);
 * exits 2 on a bad argument, 1 when it cannot listen.
 */
public final class GuestServerMain {
    static final String USAGE = """
            Usage: guest-server [--port P] [--bind ADDR] [--workers N] [--queue N] [--stats-seconds S]
              --port P           UDP port to listen on (default 21001)
              --bind ADDR        address to bind (default 0.0.0.0)
              --workers N        worker threads (default: one per core)
              --queue N          requests waiting for a worker before new ones are shed (default 1024)
              --stats-seconds S  print the counters every S seconds (default 0: only at shutdown)
            """;

    private GuestServerMain() {
    }

    public static void main(String[] args) throws Exception {
        int code = run(args);
        if (code != 0) {
            System.exit(code);
        }
    }

    /** Serves until the JVM shuts down; returns early only with an exit code for --help or an error. */
    static int run(String[] args) throws Exception {
        int port = Wire.DEFAULT_PORT;
        String bind = "0.0.0.0";
        int workers = Runtime.getRuntime().availableProcessors();
        int queue = 1024;
        int statsSeconds = 0;
        try {
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                switch (arg) {
                    case "--help", "-h" -> {
                        System.out.print(USAGE);
                        return 0;
                    }
                    case "--port" -> port = intArg(arg, value(args, ++i, arg), 0, 65535);
                    case "--bind" -> bind = value(args, ++i, arg);
                    case "--workers" -> workers = intArg(arg, value(args, ++i, arg), 1, 256);
                    case "--queue" -> queue = intArg(arg, value(args, ++i, arg), 1, 1_000_000);
                    case "--stats-seconds" -> statsSeconds = intArg(arg, value(args, ++i, arg), 0, 86_400);
                    default -> throw new IllegalArgumentException("unknown option '" + arg + "'");
                }
            }
        } catch (IllegalArgumentException e) {
            System.err.println("guest-server: " + e.getMessage());
            System.err.print(USAGE);
            return 2;
        }

        GuestServer server;
        try {
            server = GuestServer.start(new GuestServer.Options(
                    new InetSocketAddress(InetAddress.getByName(bind), port), workers, queue));
        } catch (java.io.IOException e) {
            System.err.println("guest-server: " + e.getMessage());
            return 1;
        }
        System.out.println("guest-server: listening on udp " + server.address() + " with " + workers
                + " workers, queue " + queue);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.shutdown(Duration.ofSeconds(2));
            System.out.println("guest-server: stopped, " + describe(server.counters()));
            stopped.countDown();
        }, "guest-shutdown"));
        if (statsSeconds > 0) {
            long periodMillis = statsSeconds * 1000L;
            Thread stats = new Thread(() -> {
                try {
                    while (true) {
                        Thread.sleep(periodMillis); // a reporting period, not synchronisation
                        System.out.println("guest-server: " + describe(server.counters()));
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "guest-stats");
            stats.setDaemon(true);
            stats.start();
        }
        stopped.await();
        return 0;
    }

    static String describe(GuestServer.Counters c) {
        return "received=" + c.received() + " answered=" + c.answered() + " malformed=" + c.malformed()
                + " rejected=" + c.rejected();
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    private static int intArg(String option, String value, int min, int max) {
        int v;
        try {
            v = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " expects an integer, got '" + value + "'");
        }
        if (v < min || v > max) {
            throw new IllegalArgumentException(option + " expects " + min + ".." + max + ", got " + v);
        }
        return v;
    }
}
