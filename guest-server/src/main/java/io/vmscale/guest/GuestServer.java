package io.vmscale.guest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * The UDP service that runs inside each replica VM.
 *
 * <p>One receiver thread reads datagrams; a request of exactly {@link Wire#REQUEST_BYTES} goes
 * into a bounded queue served by one worker per core; anything else is counted and dropped, and
 * so is a request that finds the queue full (the server sheds load instead of growing memory).
 * A request whose work costs less than handing it to a worker ({@link #INLINE_MAX_N}) is answered
 * by the receiver itself. Nothing a client sends can stop it.
 */
public final class GuestServer implements AutoCloseable {

    /** What the server has seen since it started. */
    public record Counters(long received, long answered, long malformed, long rejected) {
        /** Datagrams that got no answer on purpose: malformed or shed under overload. */
        public long dropped() {
            return malformed + rejected;
        }
    }

    /** Settings, checked once here. */
    public record Options(InetSocketAddress bind, int workers, int queueCapacity) {
        public Options {
            if (bind == null) {
                throw new IllegalArgumentException("bind address is required");
            }
            if (workers < 1 || workers > 256) {
                throw new IllegalArgumentException("workers must be 1..256, got " + workers);
            }
            if (queueCapacity < 1 || queueCapacity > 1_000_000) {
                throw new IllegalArgumentException("queue capacity must be 1..1000000, got " + queueCapacity);
            }
        }

        public static Options defaults(InetSocketAddress bind) {
            return new Options(bind, Runtime.getRuntime().availableProcessors(), 1024);
        }
    }

    private record Request(long n, SocketAddress client) {
    }

    /**
     * Requests up to this n (about a microsecond of work) are answered on the receiver thread: the
     * hand-off to a worker costs more than the work. Measured in BENCHMARKS.md.
     */
    static final long INLINE_MAX_N = 1024;

    private static final Request STOP = new Request(-1, null);

    private final DatagramChannel channel;
    private final Selector selector;
    private final BlockingQueue<Request> queue;
    private final Thread receiver;
    private final List<Thread> workers = new ArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final LongAdder received = new LongAdder();
    private final LongAdder answered = new LongAdder();
    private final LongAdder malformed = new LongAdder();
    private final LongAdder rejected = new LongAdder();

    private GuestServer(Options options) throws IOException {
        channel = DatagramChannel.open();
        try {
            channel.bind(options.bind());
            channel.configureBlocking(false);
            selector = Selector.open();
            channel.register(selector, SelectionKey.OP_READ);
        } catch (IOException e) {
            channel.close();
            throw new IOException("cannot listen on UDP " + options.bind() + ": " + e.getMessage(), e);
        }
        queue = new ArrayBlockingQueue<>(options.queueCapacity());
        receiver = new Thread(this::receiveLoop, "guest-receiver");
        for (int i = 0; i < options.workers(); i++) {
            Thread worker = new Thread(this::workLoop, "guest-worker-" + i);
            worker.setDaemon(true); // a request with a huge n must not hold the JVM open after shutdown
            workers.add(worker);
        }
    }

    /** Binds the socket and starts the threads; the server answers as soon as this returns. */
    public static GuestServer start(Options options) throws IOException {
        GuestServer server = new GuestServer(options);
        server.workers.forEach(Thread::start);
        server.receiver.start();
        return server;
    }

    /** The address actually bound (useful with port 0). */
    public InetSocketAddress address() {
        try {
            return (InetSocketAddress) channel.getLocalAddress();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Counters counters() {
        return new Counters(received.sum(), answered.sum(), malformed.sum(), rejected.sum());
    }

    private void receiveLoop() {
        // 5 bytes are enough to tell "exactly 4" from anything else: a longer datagram is truncated to 5.
        ByteBuffer in = ByteBuffer.allocate(Wire.REQUEST_BYTES + 1);
        ByteBuffer out = ByteBuffer.allocate(Wire.REPLY_BYTES);
        while (running.get()) {
            try {
                selector.select(500);
                selector.selectedKeys().clear();
                SocketAddress client;
                while ((client = channel.receive(in.clear())) != null) {
                    received.increment();
                    in.flip();
                    if (in.remaining() != Wire.REQUEST_BYTES) {
                        malformed.increment();
                        continue;
                    }
                    long n = Wire.getRequest(in);
                    if (n <= INLINE_MAX_N) {
                        reply(out, n, client);
                    } else if (!queue.offer(new Request(n, client))) {
                        rejected.increment();
                    }
                }
            } catch (IOException e) {
                if (running.get()) {
                    // e.g. ICMP port unreachable reported on a later receive: count nothing, keep serving
                    System.err.println("guest-server: receive failed, continuing: " + e);
                }
            }
        }
    }

    private void workLoop() {
        ByteBuffer out = ByteBuffer.allocate(Wire.REPLY_BYTES);
        while (true) {
            Request request;
            try {
                request = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            if (request == STOP) {
                return;
            }
            if (!reply(out, request.n(), request.client()) && !channel.isOpen()) {
                return;
            }
        }
    }

    /** Computes and sends one answer; false when it could not be sent. */
    private boolean reply(ByteBuffer out, long n, SocketAddress client) {
        out.clear().putLong(Wire.work(n)).flip();
        try {
            channel.send(out, client);
            answered.increment();
            return true;
        } catch (IOException e) {
            if (channel.isOpen()) {
                System.err.println("guest-server: reply to " + client + " failed: " + e);
            }
            return false;
        }
    }

    /**
     * Stops receiving, lets the workers finish what is queued (up to {@code grace}), then
     * closes the socket. Idempotent.
     */
    public void shutdown(Duration grace) {
        if (!running.compareAndSet(true, false)) {
            return;
        }
        selector.wakeup();
        try {
            receiver.join(grace.toMillis() + 1000);
            long deadline = System.nanoTime() + grace.toNanos();
            for (Thread ignored : workers) {
                // a worker stops at the first STOP it takes, after the requests queued before it
                long left = Math.max(1, deadline - System.nanoTime());
                if (!queue.offer(STOP, left, TimeUnit.NANOSECONDS)) {
                    queue.clear(); // out of time: what is still queued goes unanswered
                    queue.offer(STOP);
                }
            }
            for (Thread worker : workers) {
                worker.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                worker.interrupt();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            try {
                selector.close();
                channel.close();
            } catch (IOException e) {
                System.err.println("guest-server: close failed: " + e);
            }
        }
    }

    @Override
    public void close() {
        shutdown(Duration.ofSeconds(2));
    }
}
