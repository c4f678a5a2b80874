package io.vmscale.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.balancer.Balancer;
import io.vmscale.balancer.BalancerService;
import io.vmscale.balancer.LoadMode;
import io.vmscale.broker.BrokerConfig;
import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.EmbeddedBroker;
import io.vmscale.broker.TestBrokers;
import io.vmscale.broker.UserConfig;
import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.Topic;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.guest.GuestServer;
import io.vmscale.guest.Wire;
import java.io.IOException;
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
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker is not on the data path: it stops and starts again (in this JVM, or killed -9 in its
 * own process) while an outside client asks through the balancer's front door. The answers keep
 * coming, and the balancer's connection, never reopened, gets its membership and commands again.
 */
class BrokerRestartUnderLoadTest {
    private static final List<UserConfig> USERS = List.of(
            new UserConfig("component", "component-secret", "component"),
            new UserConfig("op", "operator-secret", "operator"),
            new UserConfig("view", "viewer-secret", "viewer"));
    private static final Duration LONGEST_GAP = Duration.ofMillis(200);

    @TempDir
    Path dir;
    private EmbeddedBroker inProcess;
    private Process separate;

    @AfterEach
    void stop() {
        if (inProcess != null) {
            inProcess.close();
        }
        if (separate != null) {
            separate.destroyForcibly();
        }
    }

    /**
     * An outside client through the front door: one request at a time, at most one every 2 ms (so that
     * it measures the balancer, not the machine it saturates), bounded in time.
     */
    private static final class Client implements Runnable {
        final InetSocketAddress front;
        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicLong answered = new AtomicLong();
        final AtomicLong unanswered = new AtomicLong();
        final AtomicLong wrong = new AtomicLong();
        /** The longest time between two answers while {@link #measuring}. */
        final AtomicLong longestGapNanos = new AtomicLong();
        /** When the longest gap ended (System.nanoTime). */
        volatile long longestGapEnded;
        volatile boolean measuring;
        final Thread thread = new Thread(this, "front-door-client");

        Client(InetSocketAddress front) {
            this.front = front;
        }

        @Override
        public void run() {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
                socket.setSoTimeout(1000);
                byte[] reply = new byte[16];
                long last = System.nanoTime();
                long n = 0;
                long next = System.nanoTime();
                while (running.get() && System.nanoTime() < deadline) {
                    next += TimeUnit.MILLISECONDS.toNanos(2);
                    long pause = next - System.nanoTime();
                    if (pause > 0) {
                        LockSupport.parkNanos(pause); // pacing the load, not waiting for anything
                    } else {
                        next = System.nanoTime();
                    }
                    n = (n + 1) % 1000;
                    socket.send(new DatagramPacket(Wire.request(n).array(), 4, front));
                    DatagramPacket packet = new DatagramPacket(reply, reply.length);
                    try {
                        socket.receive(packet);
                    } catch (SocketTimeoutException e) {
                        unanswered.incrementAndGet();
                        continue;
                    }
                    long now = System.nanoTime();
                    if (packet.getLength() != 8 || ByteBuffer.wrap(reply).getLong() != Wire.expected(n)) {
                        wrong.incrementAndGet();
                    }
                    answered.incrementAndGet();
                    if (measuring && now - last > longestGapNanos.get()) {
                        longestGapNanos.set(now - last);
                        longestGapEnded = now;
                    }
                    last = now;
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    interface BrokerProcess {
        void stop() throws Exception;

        void start() throws Exception;
    }

    @Test
    void aBrokerRestartedInThisJvmIsNotOnTheDataPath() throws Exception {
        BrokerConfig config = TestBrokers.config(dir.resolve("data"), USERS);
        inProcess = EmbeddedBroker.start(config);
        String url = inProcess.tcpUrl();
        runThroughARestart(url, true, new BrokerProcess() {
            @Override
            public void stop() {
                inProcess.close();
                inProcess = null;
            }

            @Override
            public void start() {
                inProcess = EmbeddedBroker.start(config);
            }
        });
    }

    @Test
    void aBrokerKilledInItsOwnProcessIsNotOnTheDataPath() throws Exception {
        int port = TestBrokers.freePort();
        Path configFile = dir.resolve("broker.json");
        Files.writeString(configFile, """
                {"broker": {"bind": "127.0.0.1", "port": %d, "dataDir": "%s", "users": [
                  {"name": "component", "password": "component-secret", "role": "component"},
                  {"name": "op", "password": "operator-secret", "role": "operator"},
                  {"name": "view", "password": "viewer-secret", "role": "viewer"}]}}
                """.formatted(port, dir.resolve("data")));
        BrokerProcess process = new BrokerProcess() {
            @Override
            public void stop() throws Exception {
                separate.destroyForcibly(); // SIGKILL
                separate.waitFor(10, TimeUnit.SECONDS);
            }

            @Override
            public void start() throws Exception {
                String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
                // a light JVM: its start-up shares this machine's cores with the data path under test
                separate = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                        "-Dvmscale.home=" + System.getProperty("vmscale.home", ".."), Main.class.getName(),
                        "broker", "--config", configFile.toString())
                        .redirectErrorStream(true).redirectOutput(dir.resolve("broker.log").toFile()).start();
                await().atMost(Duration.ofSeconds(30)).until(() ->
                        Files.readString(dir.resolve("broker.log")).contains("broker: listening on"));
            }
        };
        process.start();
        runThroughARestart("tcp://127.0.0.1:" + port, false, process);
    }

    /**
     * @param warmUp restart the broker once before measuring: in this JVM, a first restart loads the
     *               broker's classes and grows the heap, and the collector's pauses (up to 0.4 s seen on
     *               this loaded machine) stop every thread of the process, the data path's included;
     *               a long-running process is past that
     */
    private void runThroughARestart(String url, boolean warmUp, BrokerProcess broker) throws Exception {
        BlockingQueue<AdminResult> replies = new LinkedBlockingQueue<>();
        BlockingQueue<LbStats> stats = new LinkedBlockingQueue<>();
        GuestServer.Options options = GuestServer.Options.defaults(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        try (GuestServer first = GuestServer.start(options);
             GuestServer second = GuestServer.start(options);
             BrokerConnection balancerConnection = BrokerConnection.open(url, "component", "component-secret", "balancer@test");
             BrokerConnection scaler = BrokerConnection.open(url, "component", "component-secret", "scaler@test");
             BrokerConnection operator = BrokerConnection.open(url, "op", "operator-secret", "ops@test");
             BrokerConnection viewer = BrokerConnection.open(url, "view", "viewer-secret", "chart@test")) {
            // the generator's own load besides the client's: 0.1 of 2000 requests/s
            Balancer.Settings settings = new Balancer.Settings(0, 2000, Map.of("low", 0.3, "mid", 0.5, "high", 0.85),
                    LoadMode.custom(0.1), "least-outstanding", 16, Duration.ofSeconds(1), 3, Duration.ofSeconds(2),
                    Duration.ofMillis(100));
            Endpoint one = new Endpoint("127.0.0.1", first.address().getPort());
            Endpoint two = new Endpoint("127.0.0.1", second.address().getPort());
            try (BalancerService service = BalancerService.start(balancerConnection, settings, List::of,
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
                operator.subscribe(Topic.REPLY_PREFIX + "restart", AdminResult.class, e -> replies.add(e.body()));
                viewer.subscribe(LbStats.class, e -> stats.add(e.body()));
                scaler.publish(new VmLifecycle("vmscale-0000", "h", one, ReplicaState.READY, "probe"));
                await().atMost(Duration.ofSeconds(10)).until(() -> service.balancer().members().contains(one));
                assertThat(stats.poll(10, TimeUnit.SECONDS)).isNotNull();

                if (warmUp) {
                    broker.stop();
                    await().atMost(Duration.ofSeconds(15)).until(balancerConnection::brokerAway);
                    broker.start();
                    for (BrokerConnection c : List.of(balancerConnection, scaler, operator, viewer)) {
                        await().atMost(Duration.ofSeconds(20)).until(() -> !c.brokerAway());
                    }
                }
                Client client = new Client(service.balancer().frontAddress());
                client.thread.start();
                await().atMost(Duration.ofSeconds(10)).until(() -> client.answered.get() > 100);
                client.measuring = true;
                long before = client.answered.get();

                long stopping = System.nanoTime();
                broker.stop();
                long stopped = System.nanoTime();
                await().atMost(Duration.ofSeconds(15)).until(balancerConnection::brokerAway);
                long whileAway = client.answered.get();
                await().atMost(Duration.ofSeconds(10)).until(() -> client.answered.get() > whileAway + 500);
                long starting = System.nanoTime();
                broker.start();
                long started = System.nanoTime();
                for (BrokerConnection c : List.of(balancerConnection, scaler, operator, viewer)) {
                    await().atMost(Duration.ofSeconds(20)).until(() -> !c.brokerAway());
                }
                long afterRestart = client.answered.get();
                await().atMost(Duration.ofSeconds(10)).until(() -> client.answered.get() > afterRestart + 500);
                client.measuring = false;
                client.running.set(false);
                client.thread.join(5000);

                // the same connections: membership, commands and stats again
                scaler.publish(new VmLifecycle("vmscale-0001", "h", two, ReplicaState.READY, "probe"));
                await().atMost(Duration.ofSeconds(10)).until(() -> service.balancer().members().contains(two));
                stats.clear();
                operator.publish(new AdminCommand("after", Topic.REPLY_PREFIX + "restart", "balancer", "line",
                        List.of("low")));
                AdminResult result = replies.poll(10, TimeUnit.SECONDS);
                assertThat(result).as("an answer to a command after the restart").isNotNull();
                assertThat(result.requestId()).isEqualTo("after");
                assertThat(stats.poll(10, TimeUnit.SECONDS)).as("lb.stats after the restart").isNotNull();

                Duration gap = Duration.ofNanos(client.longestGapNanos.get());
                System.out.printf("broker stop %d..%d ms, start %d..%d ms; the longest gap ended at %d ms%n", 0,
                        (stopped - stopping) / 1_000_000, (starting - stopping) / 1_000_000,
                        (started - stopping) / 1_000_000, (client.longestGapEnded - stopping) / 1_000_000);
                System.out.printf("broker restart under load: answered %d (%d while away), unanswered %d, wrong %d,"
                                + " longest gap %.1f ms, lb.stats dropped %d, balancer outages %d; balancer %s, front door %s%n",
                        client.answered.get() - before, afterRestart - whileAway, client.unanswered.get(),
                        client.wrong.get(), gap.toNanos() / 1e6, balancerConnection.periodicDropped(),
                        balancerConnection.outages(), service.balancer().totals(), service.balancer().frontCounters());
                assertThat(client.unanswered.get()).isZero();
                assertThat(client.wrong.get()).isZero();
                assertThat(gap).as("longest time without an answer").isLessThan(LONGEST_GAP);
                assertThat(balancerConnection.periodicDropped()).as("lb.stats dropped while away").isPositive();
                assertThat(balancerConnection.outages()).isEqualTo(warmUp ? 2 : 1);
            }
            long t0 = System.nanoTime();
            broker.stop();
            await().atMost(Duration.ofSeconds(15)).until(balancerConnection::brokerAway);
            balancerConnection.close();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("close with the broker gone")
                    .isLessThan(Duration.ofSeconds(5));
        }
    }
}
