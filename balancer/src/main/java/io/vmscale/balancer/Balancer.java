package io.vmscale.balancer;

import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.guest.Wire;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The load generator and client-side balancer. It offers load at a target rate (a {@link LoadMode}
 * times one replica's capacity), spreads it over the live replicas with a {@link Dispatch} policy,
 * checks every answer against {@code 2^n mod 1021}, times out what gets no answer, ejects a replica
 * after K timeouts in a row (and probes it before it returns), and publishes {@code lb.stats}. A
 * replica taken out of the membership is reported there as removed (no new request goes to it; its
 * requests in flight still count), the acknowledgement a drain waits for.
 *
 * <p>One thread does all the I/O with one selector: no thread per request. Each replica has a pool
 * of sockets with one request in flight each, so every answer is matched to its request and the
 * requests in flight per replica are bounded; a socket whose request timed out is closed, so a late
 * answer can never be taken for the next one. Membership changes and commands from other threads
 * are queued to that thread and take effect at its next turn.
 */
public final class Balancer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Balancer.class);
    private static final Duration MAX_EJECTION = Duration.ofSeconds(30);
    /**
     * Stats a removed replica is still reported in, marked removed, once nothing of it is in flight:
     * the acknowledgement a drain waits for survives a lost stats message or two.
     */
    static final int REMOVED_IDLE_REPORTS = 3;
    /** After a removal the next stats go out this soon after the last ones (at once if that is past). */
    static final Duration REMOVAL_STATS_GAP = Duration.ofMillis(50);

    /**
     * @param work              n of every request: its cost on a replica
     * @param replicaCapacity   requests per second one replica serves at that n; 0 to calibrate it on the first
     *                          replica that joins (no load is offered until then)
     * @param modes             low, mid and high as fractions of one replica
     * @param initialMode       the load at start
     * @param dispatch          round-robin, least-outstanding or power-of-two
     * @param maxInFlight       requests in flight per replica at most
     * @param timeout           a request with no answer by then is counted timed out
     * @param ejectAfter        timeouts in a row that eject a replica
     * @param ejectFor          first ejection period; it doubles for a replica that fails its probe again
     * @param statsInterval     how often {@code lb.stats} is published
     * @param profile           load steps played once from start, each for its duration; the last one stays
     */
    public record Settings(long work, double replicaCapacity, Map<String, Double> modes, LoadMode initialMode,
                           String dispatch, int maxInFlight, Duration timeout, int ejectAfter, Duration ejectFor,
                           Duration statsInterval, List<Step> profile) {
        public Settings(long work, double replicaCapacity, Map<String, Double> modes, LoadMode initialMode,
                        String dispatch, int maxInFlight, Duration timeout, int ejectAfter, Duration ejectFor,
                        Duration statsInterval) {
            this(work, replicaCapacity, modes, initialMode, dispatch, maxInFlight, timeout, ejectAfter, ejectFor,
                    statsInterval, List.of());
        }

        public Settings {
            if (work < 0 || work > Wire.MAX_N) {
                throw new IllegalArgumentException("work must be 0.." + Wire.MAX_N);
            }
            if (!(replicaCapacity >= 0)) {
                throw new IllegalArgumentException("replica capacity must be >= 0 requests per second (0: calibrate)");
            }
            modes = Map.copyOf(modes);
            for (String mode : List.of("low", "mid", "high")) {
                if (!modes.containsKey(mode)) {
                    throw new IllegalArgumentException("mode " + mode + " is not configured");
                }
            }
            if (maxInFlight < 1 || ejectAfter < 1) {
                throw new IllegalArgumentException("maxInFlight and ejectAfter must be >= 1");
            }
            profile = List.copyOf(profile);
        }
    }

    /** One step of a load profile. */
    public record Step(LoadMode mode, Duration duration) {
    }

    /** The settings of a configuration section. */
    public static Settings settings(io.vmscale.config.BalancerConfig c) {
        LoadMode initial = c.initialMode().equals("off") ? LoadMode.OFF
                : new LoadMode(c.initialMode(), switch (c.initialMode()) {
                    case "low" -> c.low();
                    case "mid" -> c.mid();
                    default -> c.high();
                });
        Map<String, Double> modes = Map.of("low", c.low(), "mid", c.mid(), "high", c.high());
        List<Step> profile = new ArrayList<>();
        for (io.vmscale.config.ProfileStep step : c.profile()) {
            LoadMode mode = step.mode().equals("off") ? LoadMode.OFF
                    : step.mode().startsWith("custom ") ? LoadMode.custom(Double.parseDouble(step.mode().substring(7)))
                    : new LoadMode(step.mode(), modes.get(step.mode()));
            profile.add(new Step(mode, Duration.ofMillis((long) (step.seconds() * 1000))));
        }
        return new Settings(c.work(), c.replicaCapacity(), modes, initial, c.dispatch(), c.maxInFlightPerReplica(),
                Duration.ofMillis(c.timeoutMs()), c.ejectAfterTimeouts(), Duration.ofMillis(c.ejectMs()),
                Duration.ofMillis(c.statsIntervalMs()), profile);
    }

    /** What the front door has seen since start. */
    public record FrontCounters(long received, long garbage, long answered, long retried, long dropped) {
    }

    /** Counts since start, as the balancer's thread last published them. */
    public record Totals(long sent, long answered, long timedOut, long wrong, long unsent) {
    }

    private final Settings settings;
    private final Consumer<Event> publish;
    private final Supplier<List<Endpoint>> refreshSource;
    private final String source;
    private final Dispatch dispatch;
    private final Selector selector;
    private final Thread thread;
    private final ConcurrentLinkedQueue<Runnable> inbox = new ConcurrentLinkedQueue<>();
    private final Map<Endpoint, Server> servers = new LinkedHashMap<>();
    /** The endpoint each domain joined with, so that the monitor's events (domain only) can remove it. */
    private final Map<String, Endpoint> domains = new java.util.HashMap<>();
    private final ByteBuffer reply = ByteBuffer.allocate(64);
    private final ByteBuffer frontIn = ByteBuffer.allocate(Wire.REQUEST_BYTES + 1);
    private final DatagramChannel front;
    private volatile FrontCounters frontCounters = new FrontCounters(0, 0, 0, 0, 0);
    private long frontReceived;
    private long frontGarbage;
    private long frontAnswered;
    private long frontRetried;
    private long frontDropped;
    private Histogram latency = new Histogram(60_000_000_000L, 3);
    private volatile boolean running = true;
    private volatile Totals totals = new Totals(0, 0, 0, 0, 0);
    private volatile LbStats lastStats;
    private LoadMode mode;
    private double capacity;
    private int profileStep = -1;
    private long profileStepEnds;
    private boolean calibrating;
    private volatile Calibration.Result calibration;
    private long sent;
    private long answered;
    private long timedOut;
    private long wrong;
    private long unsent;
    private double credit;
    private long lastTick;
    private long nextStats;
    private long lastStatsAt;
    private long answeredAtLastStats;

    /** One replica as the balancer sees it; touched by the balancer's thread only. */
    private final class Server implements Dispatch.Candidate {
        final Endpoint endpoint;
        final InetSocketAddress address;
        final Deque<Slot> idle = new ArrayDeque<>();
        final List<Slot> busy = new ArrayList<>();
        long sent;
        long answered;
        long timedOut;
        long wrong;
        int timeoutsInARow;
        int ejections;
        long ejectedUntil;
        /** Out of the membership: sent nothing new, reported with its requests in flight until retired. */
        boolean removed;
        /** Stats it will still be reported in once removed with nothing in flight; then forgotten. */
        int idleReportsLeft;

        Server(Endpoint endpoint) {
            this.endpoint = endpoint;
            this.address = new InetSocketAddress(endpoint.ip(), endpoint.port());
        }

        @Override
        public int inFlight() {
            return busy.size();
        }

        boolean ejected(long now) {
            return ejectedUntil > now;
        }

        /** Can it take a request now? */
        boolean available(long now) {
            if (removed || ejected(now)) {
                return false;
            }
            if (ejectedUntil != 0) {
                return busy.isEmpty(); // back from ejection: one probe request at a time
            }
            return busy.size() < settings.maxInFlight();
        }
    }

    /** A socket with at most one request in flight. */
    private static final class Slot {
        final Server server;
        final DatagramChannel channel;
        long n;
        long sentAt;
        /** The outside client a front-door request came from, null for the generator's own. */
        InetSocketAddress client;
        /** Further replicas a front-door request may be tried on after a timeout. */
        int retries;

        Slot(Server server, DatagramChannel channel) {
            this.server = server;
            this.channel = channel;
        }
    }

    private Balancer(Settings settings, Consumer<Event> publish, Supplier<List<Endpoint>> refreshSource,
                     String source, InetSocketAddress frontAddress) throws IOException {
        this.settings = settings;
        this.publish = publish;
        this.refreshSource = refreshSource;
        this.source = source;
        this.dispatch = Dispatch.named(settings.dispatch(), new Random());
        this.mode = settings.initialMode();
        this.capacity = settings.replicaCapacity();
        this.selector = Selector.open();
        if (frontAddress != null) {
            front = DatagramChannel.open();
            try {
                front.bind(frontAddress);
            } catch (IOException e) {
                front.close();
                selector.close();
                throw new IOException("cannot open the front door on udp " + frontAddress + ": " + e.getMessage(), e);
            }
            front.configureBlocking(false);
            front.register(selector, SelectionKey.OP_READ, null);
        } else {
            front = null;
        }
        this.thread = new Thread(this::loop, "balancer");
        this.thread.setDaemon(true);
    }

    /**
     * Starts the balancer's thread.
     *
     * @param publish       where {@code lb.stats} goes
     * @param refreshSource the running replicas of the prefix, for {@code refresh} (called off the I/O thread)
     * @param source        how results are signed, {@code balancer@host}
     */
    public static Balancer start(Settings settings, Consumer<Event> publish, Supplier<List<Endpoint>> refreshSource,
                                 String source) {
        return start(settings, publish, refreshSource, source, null);
    }

    /**
     * The same with a front door: a UDP address where outside clients send the same 4-byte requests;
     * each is forwarded to a replica with the same dispatch, tried once more on another replica if it
     * times out, and the answer goes back to the client that asked.
     */
    public static Balancer start(Settings settings, Consumer<Event> publish, Supplier<List<Endpoint>> refreshSource,
                                 String source, InetSocketAddress frontAddress) {
        try {
            Balancer balancer = new Balancer(settings, publish, refreshSource, source, frontAddress);
            balancer.thread.start();
            return balancer;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- called from any thread ----

    /** Runs on the balancer's thread at its next turn. */
    private void later(Runnable action) {
        inbox.add(action);
        selector.wakeup();
    }

    /** Runs on the balancer's thread and waits for it. */
    private <T> T onLoop(Supplier<T> action) {
        CompletableFuture<T> result = new CompletableFuture<>();
        later(() -> {
            try {
                result.complete(action.get());
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        try {
            return result.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("the balancer did not answer: " + e, e);
        }
    }

    /**
     * Membership from the replicas' lifecycle: READY joins; DRAINING, STOPPING, FAILED, STOPPED,
     * UNDEFINED, PAUSED and POOLED leave (a warm pool's replicas never join). An event without an endpoint (the monitor's, from libvirt, knows only the
     * domain) leaves by the endpoint its domain joined with. A replica that leaves is acknowledged in
     * {@code lb.stats} with {@link LbStats.ServerStats#removed()}, within {@link #REMOVAL_STATS_GAP} of
     * the last stats.
     */
    public void onLifecycle(VmLifecycle event) {
        switch (event.state()) {
            case READY -> {
                if (event.endpoint() != null) {
                    later(() -> {
                        domains.put(event.domain(), event.endpoint());
                        add(event.endpoint(), event.domain() + " ready");
                    });
                }
            }
            case DRAINING, STOPPING, FAILED, STOPPED, UNDEFINED, PAUSED, POOLED -> later(() -> {
                Endpoint endpoint = event.endpoint() != null ? event.endpoint() : domains.get(event.domain());
                if (endpoint != null) {
                    remove(endpoint, event.domain() + " " + event.state().name().toLowerCase() + " (" + event.reason() + ")");
                }
            });
            default -> {
                // DEFINED, STARTING, RUNNING, WARMING: not serving (yet)
            }
        }
    }

    /** Carries out an admin command and says what happened; a malformed one changes nothing. */
    public AdminResult handle(AdminCommand command) {
        AdminSyntax.Command parsed;
        try {
            parsed = command.command().equals("line")
                    ? AdminSyntax.parseLine(command.args().isEmpty() ? "" : String.join(" ", command.args()))
                    : AdminSyntax.parse(command.command(), command.args());
        } catch (AdminSyntax.Malformed e) {
            return new AdminResult(command.requestId(), source, false, e.getMessage(), Map.of());
        }
        String message;
        boolean ok = true;
        if (parsed instanceof AdminSyntax.Status) {
            return new AdminResult(command.requestId(), source, true, status(), Map.of("balancer", statusData()));
        }
        if (parsed instanceof AdminSyntax.Refresh) {
            List<Endpoint> running;
            try {
                running = refreshSource.get();
            } catch (RuntimeException e) {
                return new AdminResult(command.requestId(), source, false, "refresh failed: " + e.getMessage(), Map.of());
            }
            message = onLoop(() -> replaceAll(running));
        } else {
            String[] outcome = onLoop(() -> apply(parsed));
            ok = outcome[0].equals("ok");
            message = outcome[1];
        }
        return new AdminResult(command.requestId(), source, ok, message, Map.of());
    }

    private String[] apply(AdminSyntax.Command command) {
        if (command instanceof AdminSyntax.Add add) {
            return servers.containsKey(add.endpoint()) && !servers.get(add.endpoint()).removed
                    ? new String[] {"error", add.endpoint() + " is already in the list"}
                    : new String[] {"ok", add(add.endpoint(), "operator")};
        }
        if (command instanceof AdminSyntax.Remove remove) {
            Server server = servers.get(remove.endpoint());
            return server == null || server.removed
                    ? new String[] {"error", "no server " + remove.endpoint() + " in the list"}
                    : new String[] {"ok", remove(remove.endpoint(), "operator")};
        }
        if (command instanceof AdminSyntax.Clear) {
            return new String[] {"ok", replaceAll(List.of())};
        }
        AdminSyntax.Load load = (AdminSyntax.Load) command;
        double replicas = AdminSyntax.replicas(load, settings.modes());
        mode = load.mode().equals("custom") ? LoadMode.custom(replicas) : new LoadMode(load.mode(), replicas);
        log.info("load mode {}: {} replicas' worth, {} requests/s", mode, replicas, rate());
        return new String[] {"ok", "load " + mode + ": " + (capacity == 0 ? "set; requests/s once calibrated"
                : String.format("%.1f", rate()) + " requests/s")};
    }

    private String status() {
        List<Endpoint> members = members();
        Totals t = totals();
        return members.size() + " replica(s) in use, load " + onLoop(() -> mode.toString()) + ", " + t.answered() + " answered, "
                + t.wrong() + " wrong, " + t.timedOut() + " timed out";
    }

    private Map<String, Object> statusData() {
        Map<String, Object> data = new java.util.LinkedHashMap<>();
        data.put("mode", onLoop(() -> mode.toString()));
        data.put("members", members().stream().map(Endpoint::toString).toList());
        data.put("totals", totals());
        data.put("stats", lastStats());
        data.put("calibration", calibration());
        data.put("front", frontCounters());
        return data;
    }

    /** Sets the load (from any thread). */
    public void setMode(LoadMode newMode) {
        later(() -> mode = newMode);
    }

    /** Adds a replica (from any thread). */
    public void addServer(Endpoint endpoint) {
        later(() -> add(endpoint, "added"));
    }

    /** Stops sending to a replica (from any thread); its requests in flight are still accounted for. */
    public void removeServer(Endpoint endpoint) {
        later(() -> remove(endpoint, "removed"));
    }

    /** The counts as of the last stats interval. */
    public Totals totals() {
        return totals;
    }

    /** The front door's counts as of the last stats interval. */
    public FrontCounters frontCounters() {
        return frontCounters;
    }

    /** The front door's bound address, or null when there is none. */
    public InetSocketAddress frontAddress() {
        try {
            return front == null ? null : (InetSocketAddress) front.getLocalAddress();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The last {@code lb.stats} published, or null before the first. */
    public LbStats lastStats() {
        return lastStats;
    }

    /** Correct answers received from the replica so far, or -1 when the balancer does not know it. */
    public long answered(Endpoint endpoint) {
        return onLoop(() -> {
            Server server = servers.get(endpoint);
            return server == null ? -1L : server.answered;
        });
    }

    /** Replicas requests can go to now (neither removed nor ejected). */
    public List<Endpoint> members() {
        return onLoop(() -> {
            long now = System.nanoTime();
            return servers.values().stream().filter(s -> !s.removed && !s.ejected(now)).map(s -> s.endpoint).toList();
        });
    }

    // ---- the balancer's thread ----

    private double rate() {
        return mode.replicas() * capacity;
    }

    /** The calibration, once done (null when the capacity was configured or it is still running). */
    public Calibration.Result calibration() {
        return calibration;
    }

    /** Measures one replica off the balancer's thread, then sets the capacity the load modes scale. */
    private void calibrate(Server server) {
        calibrating = true;
        Thread worker = new Thread(() -> {
            try {
                Calibration.Result result = Calibration.measure(server.endpoint, Math.max(1, settings.work()), 1, 15,
                        settings.timeout().multipliedBy(10));
                log.info("balancer: calibrated on {}: {} ms per request of n={} ({} ms round trip), {} requests/s "
                                + "per replica", server.endpoint, String.format("%.3f", result.serviceMillis()),
                        settings.work(), String.format("%.3f", result.baseMillis()),
                        String.format("%.1f", result.capacityPerSecond()));
                later(() -> {
                    calibration = result;
                    capacity = result.capacityPerSecond();
                    calibrating = false;
                });
            } catch (IOException | RuntimeException e) {
                log.warn("balancer: calibration on {} failed ({}); trying again with the next replica",
                        server.endpoint, e.getMessage());
                later(() -> calibrating = false);
            }
        }, "balancer-calibration");
        worker.setDaemon(true);
        worker.start();
    }

    private String add(Endpoint endpoint, String why) {
        Server existing = servers.get(endpoint);
        if (existing != null && !existing.removed) {
            return endpoint + " is already in the list";
        }
        Server server = existing != null ? existing : new Server(endpoint);
        server.removed = false;
        server.idleReportsLeft = 0;
        server.timeoutsInARow = 0;
        server.ejectedUntil = 0;
        servers.put(endpoint, server);
        log.info("balancer: + {} ({})", endpoint, why);
        if (capacity == 0 && !calibrating) {
            calibrate(server);
        }
        return "added " + endpoint;
    }

    private String remove(Endpoint endpoint, String why) {
        Server server = servers.get(endpoint);
        if (server == null || server.removed) {
            return "no server " + endpoint + " in the list";
        }
        server.removed = true;
        server.idleReportsLeft = REMOVED_IDLE_REPORTS;
        // acknowledge it in stats soon rather than at the end of the interval: a drain waits for that
        nextStats = Math.min(nextStats, lastStatsAt + REMOVAL_STATS_GAP.toNanos());
        log.info("balancer: - {} ({}), {} request(s) in flight still accounted for", endpoint, why, server.busy.size());
        retireIfDone(server);
        return "removed " + endpoint + (server.busy.isEmpty() ? "" : ", " + server.busy.size() + " in flight");
    }

    private String replaceAll(List<Endpoint> endpoints) {
        int removed = 0;
        for (Server server : new ArrayList<>(servers.values())) {
            if (!server.removed && !endpoints.contains(server.endpoint)) {
                remove(server.endpoint, "not in the new list");
                removed++;
            }
        }
        int added = 0;
        for (Endpoint endpoint : endpoints) {
            Server server = servers.get(endpoint);
            if (server == null || server.removed) {
                add(endpoint, "refresh");
                added++;
            }
        }
        return "servers: " + endpoints.size() + " (" + added + " added, " + removed + " removed)";
    }

    private void retireIfDone(Server server) {
        if (server.removed && server.busy.isEmpty()) {
            for (Slot slot : server.idle) {
                close(slot);
            }
            server.idle.clear();
        }
    }

    private void loop() {
        lastTick = System.nanoTime();
        lastStatsAt = lastTick;
        nextStats = lastTick + settings.statsInterval().toNanos();
        long nextTimeoutScan = lastTick;
        long waitMillis = 1;
        while (running) {
            try {
                // answers first: one that arrived during a slow turn must not be expired before it is read
                selector.select(waitMillis);
                long received = System.nanoTime();
                for (SelectionKey key : selector.selectedKeys()) {
                    if (key.attachment() == null) {
                        receiveFront(received);
                    } else {
                        receive((Slot) key.attachment(), received);
                    }
                }
                selector.selectedKeys().clear();
                Runnable action;
                while ((action = inbox.poll()) != null) {
                    action.run();
                }
                long now = System.nanoTime();
                followProfile(now);
                offer(now);
                if (now >= nextTimeoutScan) {
                    expire(now);
                    nextTimeoutScan = now + Math.min(settings.timeout().toNanos() / 4, 10_000_000L);
                }
                if (now >= nextStats) {
                    publishStats(now);
                }
                waitMillis = credit >= 1 || rate() <= 0 ? (credit >= 1 ? 1 : 50)
                        : Math.max(1, Math.min(50, (long) ((1 - credit) / rate() * 1000)));
            } catch (IOException | RuntimeException e) {
                log.error("balancer: turn failed, carrying on", e);
            }
        }
        for (Server server : servers.values()) {
            server.idle.forEach(this::close);
            server.busy.forEach(this::close);
        }
        try {
            if (front != null) {
                front.close();
            }
            selector.close();
        } catch (IOException e) {
            log.debug("selector close: {}", e.toString());
        }
    }

    /** Moves to the profile's next step when the current one is over; an operator's command wins until then. */
    private void followProfile(long now) {
        List<Step> profile = settings.profile();
        if (profileStep + 1 >= profile.size() || (profileStep >= 0 && now < profileStepEnds)) {
            return;
        }
        profileStep++;
        Step step = profile.get(profileStep);
        mode = step.mode();
        profileStepEnds = now + step.duration().toNanos();
        log.info("balancer: profile step {}/{}: {} for {} s", profileStep + 1, profile.size(), mode,
                step.duration().toMillis() / 1000.0);
    }

    /** Sends what the rate has made due since the last turn; what no replica can take is counted unsent. */
    private void offer(long now) {
        credit += rate() * (now - lastTick) / 1e9;
        lastTick = now;
        List<Server> candidates = new ArrayList<>();
        while (credit >= 1) {
            candidates.clear();
            for (Server server : servers.values()) {
                if (server.available(now)) {
                    candidates.add(server);
                }
            }
            if (candidates.isEmpty()) {
                unsent += (long) credit; // no replica can take it: dropped, not queued without bound
                credit -= (long) credit;
                return;
            }
            send(dispatch.pick(candidates), now, settings.work(), null, 0);
            credit -= 1;
        }
    }

    private void send(Server server, long now, long n, InetSocketAddress client, int retries) {
        Slot slot = server.idle.poll();
        try {
            if (slot == null) {
                DatagramChannel channel = DatagramChannel.open();
                channel.configureBlocking(false);
                channel.connect(server.address);
                slot = new Slot(server, channel);
                channel.register(selector, SelectionKey.OP_READ, slot);
            }
            slot.n = n;
            slot.sentAt = now;
            slot.client = client;
            slot.retries = retries;
            slot.channel.write(Wire.request(n));
            server.busy.add(slot);
            server.sent++;
            sent++;
        } catch (PortUnreachableException e) {
            server.busy.add(slot);
            server.sent++;
            sent++;
            fail(slot, now); // nobody listens there: a timeout now rather than later
        } catch (IOException e) {
            log.warn("balancer: cannot send to {}: {}", server.endpoint, e.toString());
            if (slot != null) {
                close(slot);
            }
            if (client != null) {
                frontDropped++;
            } else {
                unsent++;
            }
        }
    }

    private void receive(Slot slot, long now) {
        Server server = slot.server;
        if (!server.busy.contains(slot)) {
            return; // nothing expected on it
        }
        int read;
        try {
            read = slot.channel.read(reply.clear());
        } catch (PortUnreachableException e) {
            fail(slot, now);
            return;
        } catch (IOException e) {
            fail(slot, now);
            return;
        }
        if (read <= 0) {
            return;
        }
        reply.flip();
        server.busy.remove(slot);
        if (read == Wire.REPLY_BYTES && Wire.getReply(reply) == Wire.expected(slot.n)) {
            server.answered++;
            answered++;
            latency.recordValue(Math.min(now - slot.sentAt, latency.getHighestTrackableValue()));
            if (slot.client != null) {
                try {
                    front.send(reply.rewind(), slot.client);
                    frontAnswered++;
                } catch (IOException e) {
                    frontDropped++;
                }
            }
        } else {
            server.wrong++;
            wrong++;
            if (slot.client != null) {
                frontDropped++; // a wrong answer is not passed on
            }
        }
        server.timeoutsInARow = 0;
        if (server.ejectedUntil != 0) {
            log.info("balancer: {} answered its probe, back in", server.endpoint);
            server.ejectedUntil = 0;
            server.ejections = 0;
        }
        slot.client = null;
        server.idle.push(slot);
        retireIfDone(server);
    }

    /** Outside clients' requests: exactly 4 bytes each, anything else counted and dropped. */
    private void receiveFront(long now) {
        for (int i = 0; i < 1024; i++) {
            java.net.SocketAddress client;
            try {
                client = front.receive(frontIn.clear());
            } catch (IOException e) {
                return;
            }
            if (client == null) {
                return;
            }
            frontReceived++;
            frontIn.flip();
            if (frontIn.remaining() != Wire.REQUEST_BYTES) {
                frontGarbage++;
                continue;
            }
            long n = Wire.getRequest(frontIn);
            Server server = pick(now, null);
            if (server == null) {
                frontDropped++; // no replica can take it: the client's own timeout tells it
                continue;
            }
            send(server, now, n, (InetSocketAddress) client, 1);
        }
    }

    /** A replica for one request, other than {@code not}; null when none can take it. */
    private Server pick(long now, Server not) {
        List<Server> candidates = new ArrayList<>();
        for (Server server : servers.values()) {
            if (server != not && server.available(now)) {
                candidates.add(server);
            }
        }
        return candidates.isEmpty() ? null : dispatch.pick(candidates);
    }

    private void expire(long now) {
        long timeout = settings.timeout().toNanos();
        for (Server server : servers.values()) {
            for (Slot slot : new ArrayList<>(server.busy)) {
                if (now - slot.sentAt > timeout) {
                    fail(slot, now);
                }
            }
        }
    }

    /** A request that will get no answer: counted, its socket closed, and the replica ejected after K in a row. */
    private void fail(Slot slot, long now) {
        Server server = slot.server;
        server.busy.remove(slot);
        close(slot);
        if (slot.client != null) {
            Server other = slot.retries > 0 ? pick(now, server) : null;
            if (other != null) {
                frontRetried++;
                send(other, now, slot.n, slot.client, slot.retries - 1);
            } else {
                frontDropped++;
            }
        }
        server.timedOut++;
        timedOut++;
        server.timeoutsInARow++;
        boolean probeFailed = server.ejectedUntil != 0; // back from ejection, and its probe failed
        if ((probeFailed || server.timeoutsInARow >= settings.ejectAfter()) && !server.removed && !server.ejected(now)) {
            long period = Math.min(MAX_EJECTION.toNanos(), settings.ejectFor().toNanos() << Math.min(server.ejections, 10));
            server.ejections++;
            server.ejectedUntil = now + period;
            server.timeoutsInARow = 0;
            log.warn("balancer: {} ejected for {} ms ({})", server.endpoint, period / 1_000_000,
                    probeFailed ? "its probe failed" : settings.ejectAfter() + " timeouts in a row");
        }
        retireIfDone(server);
    }

    private void close(Slot slot) {
        try {
            slot.channel.close(); // a late answer now finds no socket: it cannot be taken for the next one
        } catch (IOException e) {
            log.debug("close: {}", e.toString());
        }
    }

    /**
     * Publishes {@code lb.stats}: every member, and every removed replica marked removed while it has
     * requests in flight and in {@link #REMOVED_IDLE_REPORTS} stats after, then it is forgotten.
     */
    private void publishStats(long now) {
        long interval = now - lastStatsAt;
        lastStatsAt = now;
        nextStats = now + settings.statsInterval().toNanos();
        Map<String, LbStats.ServerStats> perServer = new LinkedHashMap<>();
        for (Server server : new ArrayList<>(servers.values())) {
            perServer.put(server.endpoint.toString(), new LbStats.ServerStats(server.sent, server.answered,
                    server.timedOut, server.wrong, server.busy.size(), server.ejected(now), server.removed));
            if (server.removed && server.busy.isEmpty() && --server.idleReportsLeft <= 0) {
                servers.remove(server.endpoint); // reported removed with nothing in flight a few times, then forgotten
            }
        }
        double seconds = Math.max(1e-9, interval / 1e9);
        LbStats stats = new LbStats(sent, answered, timedOut, wrong, (answered - answeredAtLastStats) / seconds,
                percentile(50), percentile(90), percentile(99), perServer, mode.toString(), interval / 1_000_000);
        answeredAtLastStats = answered;
        latency = new Histogram(60_000_000_000L, 3);
        totals = new Totals(sent, answered, timedOut, wrong, unsent);
        frontCounters = new FrontCounters(frontReceived, frontGarbage, frontAnswered, frontRetried, frontDropped);
        lastStats = stats;
        try {
            publish.accept(stats);
        } catch (RuntimeException e) {
            log.warn("balancer: could not publish stats: {}", e.getMessage());
        }
    }

    private double percentile(double p) {
        return latency.getTotalCount() == 0 ? 0 : latency.getValueAtPercentile(p) / 1e6;
    }

    @Override
    public void close() {
        running = false;
        selector.wakeup();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
