package io.vmscale.guest;

import java.nio.ByteBuffer;

/**
 * The guest service's wire format, compatible with the original assignment.
 *
 * <p>A request is 4 bytes, an unsigned int, big-endian: the amount of work {@code n}. The reply
 * is 8 bytes, an unsigned long, big-endian: {@code 2^n mod 1021}. The server computes it with
 * work linear in {@code n} ({@link #work(long)}), so the sender controls the CPU cost of each
 * request; a client checks every answer cheaply with {@link #expected(long)}.
 */
public final class Wire {
    public static final int DEFAULT_PORT = 21001;
    public static final int MODULUS = 1021;
    public static final int REQUEST_BYTES = 4;
    public static final int REPLY_BYTES = 8;
    /** The largest amount of work a request can carry (an unsigned 32-bit int). */
    public static final long MAX_N = 0xFFFF_FFFFL;

    private Wire() {
    }

    /** {@code 2^n mod 1021} by n doublings: the CPU cost grows linearly with n on purpose. */
    public static long work(long n) {
        long r = 1;
        for (long i = 0; i < n; i++) {
            r <<= 1;
            if (r >= MODULUS) {
                r -= MODULUS;
            }
        }
        return r;
    }

    /** {@code 2^n mod 1021} by square-and-multiply, in O(log n): what a client checks answers with. */
    public static long expected(long n) {
        checkN(n);
        long result = 1;
        long base = 2;
        long e = n;
        while (e > 0) {
            if ((e & 1) == 1) {
                result = result * base % MODULUS;
            }
            base = base * base % MODULUS;
            e >>>= 1;
        }
        return result;
    }

    /** Writes a request for {@code n} at the buffer's position. */
    public static ByteBuffer putRequest(ByteBuffer buffer, long n) {
        checkN(n);
        return buffer.putInt((int) n);
    }

    /** A new 4-byte request for {@code n}, ready to send. */
    public static ByteBuffer request(long n) {
        return putRequest(ByteBuffer.allocate(REQUEST_BYTES), n).flip();
    }

    /** Reads the unsigned request value at the buffer's position. */
    public static long getRequest(ByteBuffer buffer) {
        return Integer.toUnsignedLong(buffer.getInt());
    }

    /** Reads an 8-byte reply at the buffer's position. */
    public static long getReply(ByteBuffer buffer) {
        return buffer.getLong();
    }

    private static void checkN(long n) {
        if (n < 0 || n > MAX_N) {
            throw new IllegalArgumentException("n must be an unsigned 32-bit value (0.." + MAX_N + "), got " + n);
        }
    }
}
