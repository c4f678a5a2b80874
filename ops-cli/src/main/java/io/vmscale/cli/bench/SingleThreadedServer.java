package io.vmscale.cli.bench;

import io.vmscale.guest.Wire;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;

/**
 * The benchmark's baseline: the plainest server of the same wire format, one thread and a
 * {@link DatagramSocket}, receive, compute, reply.
 */
final class SingleThreadedServer implements AutoCloseable {
    private final DatagramSocket socket;
    private final Thread thread;

    SingleThreadedServer() throws SocketException {
        socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        thread = new Thread(this::serve, "baseline-server");
        thread.setDaemon(true);
        thread.start();
    }

    InetSocketAddress address() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    private void serve() {
        byte[] in = new byte[16];
        byte[] out = new byte[Wire.REPLY_BYTES];
        DatagramPacket request = new DatagramPacket(in, in.length);
        try {
            while (true) {
                request.setLength(in.length);
                socket.receive(request);
                if (request.getLength() != Wire.REQUEST_BYTES) {
                    continue;
                }
                long n = Integer.toUnsignedLong(ByteBuffer.wrap(in).getInt());
                ByteBuffer.wrap(out).putLong(Wire.work(n));
                socket.send(new DatagramPacket(out, out.length, request.getSocketAddress()));
            }
        } catch (IOException e) {
            // closed
        }
    }

    @Override
    public void close() {
        socket.close();
    }
}
