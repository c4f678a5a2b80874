package io.vmscale.balancer;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.lang.reflect.Method;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.DatagramChannel;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A batch of datagrams read or written on a socket in one system call: Linux's {@code recvmmsg} and
 * {@code sendmmsg}, called through JNA on the file descriptor of a non-blocking {@link DatagramChannel}
 * (which keeps the socket's life: open, bind, connect, select, close). The memory is allocated once:
 * the headers, one buffer of {@code size} bytes and one socket address per datagram.
 *
 * <p>Used where the JDK lets us read a channel's descriptor ({@code sun.nio.ch} exported to us: the
 * launcher's jar manifest and the tests' command line do); elsewhere ({@link #available} false) the
 * balancer reads and writes one datagram per call. Touched by one thread at a time.
 */
final class Datagrams {
    private static final Logger log = LoggerFactory.getLogger(Datagrams.class);
    /** {@code struct mmsghdr} on LP64 Linux: a {@code struct msghdr} (56 bytes) and {@code msg_len}, padded. */
    private static final int HEADER = 64;
    private static final int NAME_OFFSET = 0;
    private static final int NAMELEN_OFFSET = 8;
    private static final int IOV_OFFSET = 16;
    private static final int IOVLEN_OFFSET = 24;
    private static final int LEN_OFFSET = 56;
    /** {@code struct iovec}: a pointer and a length. */
    private static final int IOVEC = 16;
    /** Room for a {@code struct sockaddr_in6} (28 bytes), rounded up. */
    private static final int NAME = 32;
    private static final short AF_INET = 2;
    private static final short AF_INET6 = 10;
    private static final int MSG_DONTWAIT = 0x40;
    private static final int EAGAIN = 11;
    private static final int EINTR = 4;
    private static final int ECONNREFUSED = 111;

    private static final Method FD_VAL;
    private static final String UNAVAILABLE;

    static {
        Method fdVal = null;
        String why = null;
        if (!Platform.isLinux() || !Platform.is64Bit()) {
            why = "not 64-bit Linux";
        } else if (Boolean.getBoolean("vmscale.balancer.perDatagram")) {
            why = "vmscale.balancer.perDatagram is set";
        } else {
            try {
                fdVal = Class.forName("sun.nio.ch.SelChImpl").getMethod("getFDVal");
                try (DatagramChannel probe = DatagramChannel.open()) {
                    fdVal.invoke(probe);
                }
                Native.register(Datagrams.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
            } catch (ReflectiveOperationException | IOException | RuntimeException | LinkageError e) {
                fdVal = null;
                why = (e instanceof IllegalAccessException
                        ? "the JDK does not export sun.nio.ch to us (--add-exports java.base/sun.nio.ch=ALL-UNNAMED)"
                        : e.toString());
            }
        }
        FD_VAL = fdVal;
        UNAVAILABLE = why;
    }

    private static native int recvmmsg(int fd, Pointer messages, int count, int flags, Pointer timeout)
            throws LastErrorException;

    private static native int sendmmsg(int fd, Pointer messages, int count, int flags) throws LastErrorException;

    private final int capacity;
    private final int size;
    private final Memory memory;
    /** The same memory: headers and addresses in the machine's byte order, payloads in the network's. */
    private final ByteBuffer nativeOrder;
    private final ByteBuffer network;
    private final long base;
    private final int names;
    private final int buffers;
    /** Datagrams read by the last {@link #receive}, or written so far and not yet sent. */
    private int count;
    /** The last address read or written, and its bytes: one client sends many datagrams. */
    private InetSocketAddress lastAddress;
    private final byte[] lastName = new byte[NAME];
    private final byte[] name = new byte[NAME];
    private int lastNameLength;

    /**
     * @param capacity datagrams per call
     * @param size     bytes per datagram: a longer one is cut to it (and so has {@code size} bytes, which a caller
     *                 expecting fewer takes as malformed)
     */
    Datagrams(int capacity, int size) {
        this.capacity = capacity;
        this.size = size;
        int iovecs = capacity * HEADER;
        this.names = iovecs + capacity * IOVEC;
        this.buffers = names + capacity * NAME;
        this.memory = new Memory((long) buffers + (long) capacity * size);
        this.memory.clear();
        this.base = Pointer.nativeValue(memory);
        this.nativeOrder = memory.getByteBuffer(0, memory.size()).order(ByteOrder.nativeOrder());
        this.network = memory.getByteBuffer(0, memory.size()).order(ByteOrder.BIG_ENDIAN);
        for (int i = 0; i < capacity; i++) {
            int header = i * HEADER;
            int iovec = iovecs + i * IOVEC;
            nativeOrder.putLong(header + IOV_OFFSET, base + iovec);
            nativeOrder.putLong(header + IOVLEN_OFFSET, 1);
            nativeOrder.putLong(iovec, base + buffers + (long) i * size);
            nativeOrder.putLong(iovec + 8, size);
        }
    }

    /** Whether batches can be used here; see {@link #unavailable}. */
    static boolean available() {
        return FD_VAL != null;
    }

    /** Why batches cannot be used here (null when they can). */
    static String unavailable() {
        return UNAVAILABLE;
    }

    /** The channel's file descriptor; only when {@link #available}. */
    static int fd(DatagramChannel channel) {
        try {
            return (int) FD_VAL.invoke(channel);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read the channel's descriptor", e);
        }
    }

    int capacity() {
        return capacity;
    }

    /** Datagrams read by the last {@link #receive}; or written and not yet sent. */
    int count() {
        return count;
    }

    /**
     * Reads what is waiting, up to the capacity, without waiting.
     *
     * @return how many were read (0: nothing was waiting)
     * @throws PortUnreachableException the socket is connected and an ICMP message said nobody listens there
     */
    int receive(int fd, boolean withAddresses) throws IOException {
        for (int i = 0; i < capacity; i++) {
            int header = i * HEADER;
            nativeOrder.putLong(header + NAME_OFFSET, withAddresses ? base + names + (long) i * NAME : 0);
            nativeOrder.putInt(header + NAMELEN_OFFSET, withAddresses ? NAME : 0);
            nativeOrder.putLong(iovec(i) + 8, size);
        }
        count = 0;
        while (true) {
            try {
                count = recvmmsg(fd, memory, capacity, MSG_DONTWAIT, null);
                return count;
            } catch (LastErrorException e) {
                switch (e.getErrorCode()) {
                    case EAGAIN -> {
                        return 0;
                    }
                    case EINTR -> {
                        // again
                    }
                    case ECONNREFUSED -> throw new PortUnreachableException("recvmmsg: connection refused");
                    default -> throw new IOException("recvmmsg: " + e.getMessage());
                }
            }
        }
    }

    /** The length of datagram {@code i} as read (at most the size). */
    int length(int i) {
        return nativeOrder.getInt(i * HEADER + LEN_OFFSET);
    }

    /** Its first four bytes, big-endian. */
    int getInt(int i) {
        return network.getInt(buffers + i * size);
    }

    /** Its first eight bytes, big-endian. */
    long getLong(int i) {
        return network.getLong(buffers + i * size);
    }

    /** Who sent datagram {@code i} (read with addresses); null for an address of a family we do not know. */
    InetSocketAddress address(int i) {
        int at = names + i * NAME;
        int length = Math.min(NAME, nativeOrder.getInt(i * HEADER + NAMELEN_OFFSET));
        network.get(at, name, 0, length);
        if (lastAddress != null && length == lastNameLength && Arrays.equals(name, 0, length, lastName, 0, length)) {
            return lastAddress;
        }
        short family = nativeOrder.getShort(at);
        int port = Short.toUnsignedInt(network.getShort(at + 2));
        InetAddress address;
        try {
            if (family == AF_INET && length >= 8) {
                address = InetAddress.getByAddress(Arrays.copyOfRange(name, 4, 8));
            } else if (family == AF_INET6 && length >= 28) {
                byte[] bytes = Arrays.copyOfRange(name, 8, 24);
                // a v4-mapped address (an IPv4 client of a dual-stack socket) as the JDK gives it: an IPv4 one
                address = isV4Mapped(bytes) ? InetAddress.getByAddress(Arrays.copyOfRange(bytes, 12, 16))
                        : Inet6Address.getByAddress(null, bytes, nativeOrder.getInt(at + 24));
            } else {
                return null;
            }
        } catch (java.net.UnknownHostException e) {
            return null;
        }
        lastAddress = new InetSocketAddress(address, port);
        System.arraycopy(name, 0, lastName, 0, length);
        lastNameLength = length;
        return lastAddress;
    }

    private static boolean isV4Mapped(byte[] a) {
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return a[10] == (byte) 0xff && a[11] == (byte) 0xff;
    }

    /** Forgets what was written and not sent. */
    void clear() {
        count = 0;
    }

    /** Whether another datagram can be written before a {@link #send}. */
    boolean full() {
        return count == capacity;
    }

    /** Adds a 4-byte datagram (on a connected socket). */
    void addInt(int value) {
        int i = next(Integer.BYTES, null, false);
        network.putInt(buffers + i * size, value);
    }

    /** Adds an 8-byte datagram to {@code to} (of the socket's family: an IPv4 one for an IPv4 socket). */
    void addLong(long value, InetSocketAddress to, boolean ipv6Socket) {
        int i = next(Long.BYTES, to, ipv6Socket);
        network.putLong(buffers + i * size, value);
    }

    private int next(int length, InetSocketAddress to, boolean ipv6Socket) {
        if (count == capacity) {
            throw new IllegalStateException("batch full");
        }
        int i = count++;
        int header = i * HEADER;
        nativeOrder.putLong(iovec(i) + 8, length);
        if (to == null) {
            nativeOrder.putLong(header + NAME_OFFSET, 0);
            nativeOrder.putInt(header + NAMELEN_OFFSET, 0);
        } else {
            nativeOrder.putLong(header + NAME_OFFSET, base + names + (long) i * NAME);
            nativeOrder.putInt(header + NAMELEN_OFFSET, putName(names + i * NAME, to, ipv6Socket));
        }
        return i;
    }

    /** Writes {@code to} as a socket address at {@code at}; returns its length. */
    private int putName(int at, InetSocketAddress to, boolean ipv6Socket) {
        if (to == lastAddress && lastNameLength > 0 && (lastNameLength == 28) == ipv6Socket) {
            network.put(at, lastName, 0, lastNameLength);
            return lastNameLength;
        }
        InetAddress address = to.getAddress();
        byte[] bytes = address.getAddress();
        Arrays.fill(name, (byte) 0);
        ByteBuffer n = ByteBuffer.wrap(name);
        int length;
        if (!ipv6Socket && address instanceof Inet4Address) {
            n.order(ByteOrder.nativeOrder()).putShort(0, AF_INET);
            n.order(ByteOrder.BIG_ENDIAN).putShort(2, (short) to.getPort());
            System.arraycopy(bytes, 0, name, 4, 4);
            length = 16;
        } else {
            n.order(ByteOrder.nativeOrder()).putShort(0, AF_INET6);
            n.order(ByteOrder.BIG_ENDIAN).putShort(2, (short) to.getPort());
            if (bytes.length == 4) { // an IPv4 client of a dual-stack socket: as a v4-mapped address
                name[18] = (byte) 0xff;
                name[19] = (byte) 0xff;
                System.arraycopy(bytes, 0, name, 20, 4);
            } else {
                System.arraycopy(bytes, 0, name, 8, 16);
                n.order(ByteOrder.nativeOrder()).putInt(24, ((Inet6Address) address).getScopeId());
            }
            length = 28;
        }
        network.put(at, name, 0, length);
        lastAddress = to;
        System.arraycopy(name, 0, lastName, 0, length);
        lastNameLength = length;
        return length;
    }

    private int iovec(int i) {
        return capacity * HEADER + i * IOVEC;
    }

    /**
     * Sends what was added, in order, and empties the batch. A datagram the kernel refuses is dropped with a
     * debug line and the rest still go: the caller's timeouts account for it.
     *
     * @return how many were sent
     * @throws PortUnreachableException (after sending what it could) an ICMP message said nobody listens there
     */
    int send(int fd) throws IOException {
        int sent = 0;
        boolean refused = false;
        int at = 0;
        try {
            while (at < count) {
                try {
                    // the whole batch from its start (what nearly every call is) without a new Pointer object
                    int n = sendmmsg(fd, at == 0 ? memory : memory.share((long) at * HEADER), count - at, 0);
                    at += n;
                    sent += n;
                } catch (LastErrorException e) {
                    switch (e.getErrorCode()) {
                        case EINTR -> {
                            // again
                        }
                        case ECONNREFUSED -> refused = true; // an earlier datagram's ICMP, reported now: again
                        default -> {
                            log.debug("sendmmsg: {}, a datagram dropped", e.getMessage());
                            at++;
                        }
                    }
                }
            }
        } finally {
            count = 0;
        }
        if (refused) {
            throw new PortUnreachableException("sendmmsg: connection refused (" + sent + " sent)");
        }
        return sent;
    }
}
