package io.vmscale.cli.demo;

import io.vmscale.broker.BrokerConfig;
import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.BrokerException;
import io.vmscale.broker.EmbeddedBroker;
import io.vmscale.broker.Role;
import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.Envelope;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.Topic;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.cli.common.ConfigOption;
import io.vmscale.cli.common.Local;
import io.vmscale.cli.config.VmscaleConfig;
import io.vmscale.guest.GuestServer;
import io.vmscale.guest.Wire;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The demo: the whole story on real VMs ({@link FullDemo}), or with {@code --loopback} a broker, a guest server on this host standing in for a replica,
 * requests checked against {@code 2^n mod 1021}, events through the broker, a refused command.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "The whole story on real VMs: start libvirt if needed, build the guest image, run broker, monitor, "
                + "scaler and balancer, one VM at low load, high load until a scale-up, low again until a scale-down; "
                + "records the events, draws the chart (a window too when there is a display), and ends with "
                + "'summary: scale-ups=U scale-downs=D answers=A wrong=W lost=L chart=PNG events=LOG'.")
public final class DemoCommand implements Callable<Integer> {
    private static final long[] WORK = {0, 1, 2, 1020, 1021, 1022, 10_000, 100_000, 500_000, 1_000_000};

    @Mixin
    ConfigOption config;
    @Option(names = "--loopback", description = "a quick look without VMs: a broker and a guest server on this host, "
            + "requests checked, events through the broker, a refused command")
    boolean loopback;
    @Option(names = "--requests", defaultValue = "20", description = "with --loopback: requests to send (default: ${DEFAULT-VALUE})")
    int requests;
    @Option(names = "--out", paramLabel = "DIR", description = "where the event log and the chart go "
            + "(default: demo-output in the installation, else in the current directory)")
    Path outDir;
    @Option(names = "--hosts", paramLabel = "N", defaultValue = "1",
            description = "1, or 2: a second libvirt host on this machine (started by scripts/libvirt-host and stopped at "
                    + "the end); replicas placed on both, a live migration under load, a scale-down followed by "
                    + "consolidation so one host runs none; the summary adds migrations=M (default: ${DEFAULT-VALUE})")
    int hosts;
    @Option(names = "--app", paramLabel = "APP", defaultValue = "builtin",
            description = "builtin: the built-in UDP service; http: your own application's story with apps/http: a "
                    + "Debian image with cloud-init (built from Debian packages, cached), an HTTP service installed by "
                    + "user-data, HTTP health checks, HAProxy in front, HTTP load; the summary counts requests, "
                    + "non-2xx and failed (default: ${DEFAULT-VALUE})")
    String app;
    @Option(names = "--hold", paramLabel = "SECONDS", defaultValue = "15",
            description = "how long each load level is held once the scaler has reacted (default: ${DEFAULT-VALUE})")
    int holdSeconds;
    @Spec
    CommandSpec spec;

    private PrintWriter out;
    private int delivered;

    private void step(String format, Object... args) {
        out.printf("demo: " + format + "%n", args);
        out.flush();
    }

    @Override
    public Integer call() throws Exception {
        if (!loopback) {
            if (holdSeconds < 1 || holdSeconds > 3600) {
                throw new IllegalArgumentException("--hold must be 1..3600 seconds, got " + holdSeconds);
            }
            if (hosts < 1 || hosts > 2) {
                throw new IllegalArgumentException("--hosts must be 1 or 2, got " + hosts);
            }
            String home = System.getenv("VMSCALE_HOME");
            Path dir = outDir != null ? outDir : home != null ? Path.of(home, "demo-output") : Path.of("demo-output");
            if (!app.equals("builtin") && !app.equals("http")) {
                throw new IllegalArgumentException("--app must be builtin or http, got '" + app + "'");
            }
            if (app.equals("http")) {
                if (hosts != 1) {
                    throw new IllegalArgumentException("--app http runs on one host: leave --hosts out");
                }
                return new HttpDemo(config.load(), spec.commandLine().getOut(), dir, Duration.ofSeconds(holdSeconds))
                        .run();
            }
            return new FullDemo(config.load(), spec.commandLine().getOut(), dir, Duration.ofSeconds(holdSeconds), hosts)
                    .run();
        }
        return loopback();
    }

    private Integer loopback() throws Exception {
        if (requests < 1 || requests > 10_000) {
            throw new IllegalArgumentException("--requests must be 1..10000, got " + requests);
        }
        out = spec.commandLine().getOut();
        VmscaleConfig loaded = config.load();
        Path dataDir = Files.createTempDirectory("vmscale-demo-");
        // a broker of its own: its own data directory and a free port, so a running `vmscale up` is left alone
        BrokerConfig brokerConfig = new BrokerConfig(loaded.broker().bind(), Local.freeTcpPort(), dataDir.toString(),
                loaded.broker().users());
        try (EmbeddedBroker broker = EmbeddedBroker.start(brokerConfig);
             GuestServer guest = GuestServer.start(GuestServer.Options.defaults(
                     new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)));
             BrokerConnection component = broker.connect(Role.COMPONENT, BrokerConnection.source("demo"));
             BrokerConnection viewer = broker.connect(Role.VIEWER, BrokerConnection.source("demo-viewer"))) {
            step("broker started in %d ms on %s (in-VM %s), security on, journal in %s",
                    broker.startupTime().toMillis(), broker.tcpUrl(), broker.inVmUrl(), broker.dataDir());
            InetSocketAddress replica = guest.address();
            step("guest server listening on udp %s:%d with %d workers (standing in for a replica VM)",
                    replica.getAddress().getHostAddress(), replica.getPort(),
                    Runtime.getRuntime().availableProcessors());

            BlockingQueue<Envelope<? extends Event>> seen = new LinkedBlockingQueue<>();
            viewer.subscribe(VmLifecycle.class, seen::add);
            viewer.subscribe(LbStats.class, seen::add);
            step("a viewer subscribed to %s and %s", Topic.VM.address(), Topic.LB.address());

            Endpoint endpoint = new Endpoint(replica.getAddress().getHostAddress(), replica.getPort());
            component.publish(new VmLifecycle("local-0000", "localhost", endpoint, ReplicaState.READY,
                    "guest server answering on this host"));
            report(seen.poll(10, TimeUnit.SECONDS));

            // garbage first: the server reads datagrams in arrival order, so by the time the requests
            // after it are answered, the garbage has been counted
            sendGarbage(replica);
            Traffic traffic = sendRequests(replica);
            step("sent %d requests (n from 0 to %,d): %d correct, %d wrong, %d lost; latency p50 %.2f ms, max %.2f ms",
                    requests, WORK[WORK.length - 1], traffic.answered, traffic.wrong, traffic.lost,
                    traffic.latency.getValueAtPercentile(50) / 1e6, traffic.latency.getMaxValue() / 1e6);

            component.publish(new LbStats(requests, traffic.answered, traffic.lost, traffic.wrong, 0,
                    traffic.latency.getValueAtPercentile(50) / 1e6, traffic.latency.getValueAtPercentile(90) / 1e6,
                    traffic.latency.getValueAtPercentile(99) / 1e6,
                    Map.of(endpoint.toString(), new LbStats.ServerStats(requests, traffic.answered, traffic.lost,
                            traffic.wrong, 0, false, false)), "demo", 0));
            report(seen.poll(10, TimeUnit.SECONDS));

            try {
                viewer.publish(new AdminCommand("demo-1", Topic.REPLY_PREFIX + "demo-1", "balancer", "load",
                        List.of("high")));
                step("UNEXPECTED: the viewer was allowed to send a command");
                return 1;
            } catch (BrokerException refused) {
                step("a viewer's admin command was refused, as it should be: %s", firstLine(refused.getMessage()));
            }

            GuestServer.Counters counters = guest.counters();
            step("guest server counters: received=%d answered=%d malformed=%d rejected=%d", counters.received(),
                    counters.answered(), counters.malformed(), counters.rejected());
            out.printf("summary: answers=%d wrong=%d lost=%d garbage-dropped=%d events-delivered=%d%n",
                    traffic.answered, traffic.wrong, traffic.lost, counters.malformed(), delivered);
            out.flush();
            return traffic.wrong == 0 && traffic.lost == 0 && delivered == 2 ? 0 : 1;
        } finally {
            Local.deleteTree(dataDir);
        }
    }

    private void report(Envelope<? extends Event> envelope) {
        if (envelope == null) {
            step("UNEXPECTED: an event did not arrive within 10 s");
            return;
        }
        delivered++;
        long millis = java.time.Duration.between(envelope.ts(), java.time.Instant.now()).toMillis();
        step("the viewer received %s seq %d from %s after %d ms: %s", envelope.type(), envelope.seq(),
                envelope.source(), millis, envelope.body());
    }

    private static final class Traffic {
        long answered;
        long wrong;
        long lost;
        final Histogram latency = new Histogram(60_000_000_000L, 3);
    }

    private Traffic sendRequests(InetSocketAddress replica) throws IOException {
        Traffic traffic = new Traffic();
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            socket.setSoTimeout(2000);
            byte[] reply = new byte[16];
            for (int i = 0; i < requests; i++) {
                long n = WORK[i % WORK.length];
                byte[] request = Wire.request(n).array();
                long t0 = System.nanoTime();
                socket.send(new DatagramPacket(request, request.length, replica));
                DatagramPacket packet = new DatagramPacket(reply, reply.length);
                try {
                    socket.receive(packet);
                } catch (SocketTimeoutException e) {
                    traffic.lost++;
                    continue;
                }
                traffic.latency.recordValue(System.nanoTime() - t0);
                if (packet.getLength() == Wire.REPLY_BYTES && ByteBuffer.wrap(reply).getLong() == Wire.expected(n)) {
                    traffic.answered++;
                } else {
                    traffic.wrong++;
                }
            }
        }
        return traffic;
    }

    private void sendGarbage(InetSocketAddress replica) throws IOException {
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            byte[] garbage = "hello, is this a request?".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            socket.send(new DatagramPacket(garbage, garbage.length, replica));
            step("sent one %d-byte garbage datagram: the guest server counts and drops it", garbage.length);
        }
    }

    private static String firstLine(String message) {
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }

}
