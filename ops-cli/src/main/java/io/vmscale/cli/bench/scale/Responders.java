package io.vmscale.cli.bench.scale;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The simulated replicas' application: one UDP socket per running replica, all served by one thread with one
 * selector, answering the guest service's wire format (4-byte n in, 8-byte 2^n mod 1021 out) at once. It costs a
 * socket per replica, not a VM: a thousand replicas on one machine.
 */
final class Responders implements AutoCloseable {
    private static final BigInteger TWO = BigInteger.TWO;
    private static final BigInteger MOD = BigInteger.valueOf(1021);

    private final Selector selector;
    private final Map<InetSocketAddress, DatagramChannel> open = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<DatagramChannel> toRegister = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    final AtomicLong answered = new AtomicLong();
    final AtomicLong garbage = new AtomicLong();
    private volatile boolean closed;

    Responders() throws IOException {
        selector = Selector.open();
        thread = new Thread(this::serve, "responders");
        thread.setDaemon(true);
        thread.start();
    }

    /** A replica starts answering there, as QEMU binds its forwarded port when the domain starts. */
    void open(InetSocketAddress endpoint) {
        open.computeIfAbsent(endpoint, e -> {
            try {
                DatagramChannel channel = DatagramChannel.open();
                channel.bind(e);
                channel.configureBlocking(false);
                toRegister.add(channel);
                selector.wakeup();
                return channel;
            } catch (IOException x) {
                throw new UncheckedIOException("simulated replica on " + e + ": " + x.getMessage(), x);
            }
        });
    }

    /** It stops answering: its domain stopped, paused or went away. */
    void close(InetSocketAddress endpoint) {
        DatagramChannel channel = open.remove(endpoint);
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                // gone anyway
            }
            selector.wakeup();
        }
    }

    int count() {
        return open.size();
    }

    private void serve() {
        ByteBuffer in = ByteBuffer.allocate(64);
        ByteBuffer out = ByteBuffer.allocate(8);
        while (!closed) {
            try {
                selector.select(100);
                for (DatagramChannel c; (c = toRegister.poll()) != null; ) {
                    if (c.isOpen()) {
                        c.register(selector, SelectionKey.OP_READ);
                    }
                }
                var keys = selector.selectedKeys().iterator();
                while (keys.hasNext()) {
                    SelectionKey key = keys.next();
                    keys.remove();
                    if (!key.isValid()) {
                        continue;
                    }
                    DatagramChannel channel = (DatagramChannel) key.channel();
                    for (int i = 0; i < 64; i++) {
                        in.clear();
                        SocketAddress from = channel.receive(in);
                        if (from == null) {
                            break;
                        }
                        in.flip();
                        if (in.remaining() != 4) {
                            garbage.incrementAndGet();
                            continue;
                        }
                        long n = Integer.toUnsignedLong(in.getInt());
                        out.clear();
                        out.putLong(TWO.modPow(BigInteger.valueOf(n), MOD).longValue()).flip();
                        channel.send(out, from);
                        answered.incrementAndGet();
                    }
                }
            } catch (IOException | java.nio.channels.ClosedSelectorException e) {
                if (closed) {
                    return;
                }
            } catch (java.nio.channels.CancelledKeyException e) {
                // closed meanwhile
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        open.keySet().forEach(this::close);
        try {
            selector.close();
        } catch (IOException e) {
            // closing
        }
    }
}
