package io.vmscale.balancer;

import io.vmscale.broker.event.Endpoint;
import io.vmscale.guest.GuestServer;
import io.vmscale.guest.Wire;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The front door's cost per request in instructions, for {@code balancer/front-door-instructions}
 * (not a test): {@code serve} runs a balancer with a front door (under callgrind), {@code drive}
 * runs two guest servers and the one-address client shape of {@code bench balancer} (one socket,
 * at most 32 requests in flight, n < 340) at a given rate and zeroes and dumps callgrind's counters around the measurement.
 */
public final class FrontDoorCost {
    private FrontDoorCost() {
    }

    public static void main(String[] args) throws Exception {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        if (args[0].equals("serve")) { // serve FRONT SERVER...
            Balancer.Settings settings = new Balancer.Settings(0, 1, Map.of("low", 0.3, "mid", 0.5, "high", 0.85),
                    LoadMode.OFF, "least-outstanding", 64, Duration.ofSeconds(20), 3, Duration.ofSeconds(2),
                    Duration.ofSeconds(1));
            Balancer balancer = Balancer.start(settings, e -> { }, List::of, "cost",
                    new InetSocketAddress(loopback, Integer.parseInt(args[1])));
            for (int i = 2; i < args.length; i++) {
                balancer.addServer(new Endpoint("127.0.0.1", Integer.parseInt(args[i])));
            }
            Thread.currentThread().join();
        }
        // drive FRONT SERVER1 SERVER2 WARMUP_S MEASURE_S PID RATE
        int front = Integer.parseInt(args[1]);
        double rate = Double.parseDouble(args[7]);
        try (GuestServer a = GuestServer.start(GuestServer.Options.defaults(new InetSocketAddress(loopback, Integer.parseInt(args[2]))));
             GuestServer b = GuestServer.start(GuestServer.Options.defaults(new InetSocketAddress(loopback, Integer.parseInt(args[3]))));
             DatagramChannel client = DatagramChannel.open()) {
            client.connect(new InetSocketAddress(loopback, front));
            var socket = client.socket();
            socket.setSoTimeout(3000);
            ByteBuffer out = ByteBuffer.allocate(4);
            java.net.DatagramPacket packet = new java.net.DatagramPacket(new byte[16], 16);
            while (true) { // until the front door (slow to start under callgrind) answers
                try {
                    client.write(Wire.putRequest(out.clear(), 1).flip());
                    socket.receive(packet);
                    break;
                } catch (SocketTimeoutException | java.net.PortUnreachableException e) {
                    System.err.println("drive: the front door does not answer yet: " + e);
                    Thread.sleep(100); // an unreachable port answers at once: not 100 MB of these lines
                }
            }
            socket.setSoTimeout(1);
            // 32 in flight at most, sent at `rate` per second: one request at a time reaches the front door,
            // as on a machine where it keeps up (under callgrind a closed loop would hand it large batches)
            long start = System.nanoTime();
            long warmupEnds = start + Duration.ofSeconds(Long.parseLong(args[4])).toNanos();
            long measureEnds = Long.MAX_VALUE;
            long sent = 0;
            long counted = 0;
            int inFlight = 0;
            long lastAnswer = start;
            // instead of callgrind: a command (perf on the front door's thread) run for the measurement's duration
            String measuring = System.getenv("FRONT_DOOR_MEASURE");
            Process observer = null;
            while (true) {
                long now = System.nanoTime();
                long due = (long) ((now - start) / 1e9 * rate);
                sent = Math.max(sent, due - 32); // a front door that fell behind owes no more than a window
                while (inFlight < 32 && sent < due) {
                    client.write(Wire.putRequest(out.clear(), sent++ % 340).flip());
                    inFlight++;
                }
                try {
                    socket.receive(packet);
                    inFlight--;
                    counted++;
                    lastAnswer = now;
                } catch (SocketTimeoutException e) {
                    if (now - lastAnswer > 3_000_000_000L) {
                        System.err.println("drive: no answer for 3 s: " + inFlight + " taken as lost");
                        inFlight = 0;
                        lastAnswer = now;
                    }
                }
                if (now >= warmupEnds) {
                    warmupEnds = Long.MAX_VALUE;
                    if (measuring != null) {
                        observer = new ProcessBuilder("bash", "-c", measuring).inheritIO().start();
                    } else {
                        callgrind("-z", args[6]);
                    }
                    counted = 0;
                    measureEnds = System.nanoTime() + Duration.ofSeconds(Long.parseLong(args[5])).toNanos();
                } else if (now >= measureEnds) {
                    if (observer != null) {
                        System.out.println("answered " + counted);
                        observer.waitFor();
                        return;
                    }
                    callgrind("-d", args[6]);
                    System.out.println("answered " + counted);
                    return;
                }
            }
        }
    }

    private static void callgrind(String what, String pid) throws Exception {
        new ProcessBuilder("callgrind_control", what, pid).inheritIO().start().waitFor();
    }
}
