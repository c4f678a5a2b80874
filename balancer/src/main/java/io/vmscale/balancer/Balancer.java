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
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The load generator and client-side balancer, assembled from its parts: the {@link Pacer} says how
 * many requests are due, the {@link Membership} which replicas may take them (with the
 * {@link Dispatch} policy, {@link SlowStart} and the {@link OutlierDetector}), {@link Traffic} sends
 * them through the {@link Transport} and checks the answers, the {@link FrontDoor} takes outside
 * clients' requests, {@link Stats} counts and times, the {@link Calibrator} measures each new replica,
 * {@link Admin} carries out commands. A replica taken out of the membership is reported in
 * {@code lb.stats} as removed (no new request goes to it; its requests in flight still count), the
 * acknowledgement a drain waits for.
 *
 * <p>One thread does all the I/O with one selector: no thread per request. Membership changes and
 * commands from other threads are queued to that thread and take effect at its next turn.
 */
public final class Balancer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Balancer.class);
    private static final Duration MAX_EJECTION = Duration.ofSeconds(30);
    /** See {@link Membership#REMOVED_IDLE_REPORTS}. */
    static final int REMOVED_IDLE_REPORTS = Membership.REMOVED_IDLE_REPORTS;
    /** See {@link Stats#REMOVAL_STATS_GAP}. */
    static final Duration REMOVAL_STATS_GAP = Stats.REMOVAL_STATS_GAP;

    /**
     * @param work               n of every request: its cost on a replica
     * @param replicaCapacity    requests per second one replica serves at that n; 0 to calibrate it on the first
     *                           replica that joins (no load is offered until then)
     * @param modes              low, mid and high as fractions of one replica
     * @param initialMode        the load at start
     * @param dispatch           round-robin, least-outstanding or power-of-two
     * @param maxInFlight        requests in flight per replica at most
     * @param timeout            a request with no answer by then is counted timed out
     * @param ejectAfter         timeouts in a row that eject a replica
     * @param ejectFor           first ejection period; it doubles for a replica that fails its probe again
     * @param statsInterval      how often {@code lb.stats} is published
     * @param profile            load steps played once from start, each for its duration; the last one stays
     * @param maxEjectedFraction at most this fraction of the replicas ejected at once (at least one)
     * @param allowedNetworks    CIDR blocks an operator may {@code add} replicas from; anything else is refused
     * @param maxLoad            the most load an operator may ask for with {@code custom R}, in replicas' worth
     * @param slowStart          a replica that joins gets its share ramped up over this window, from 10 % of its
     *                           weight to all of it (zero: at once)
     */
    public record Settings(long work, double replicaCapacity, Map<String, Double> modes, LoadMode initialMode,
                           String dispatch, int maxInFlight, Duration timeout, int ejectAfter, Duration ejectFor,
                           Duration statsInterval, List<Step> profile, double maxEjectedFraction,
                           List<String> allowedNetworks, double maxLoad, Duration slowStart) {
        /** The default {@link #maxEjectedFraction}: half of the replicas. */
        public static final double MAX_EJECTED_FRACTION = 0.5;
        /** The default {@link #allowedNetworks}: loopback and libvirt's default network, 192.168.122.0/24. */
        public static final List<String> ALLOWED_NETWORKS = Networks.DEFAULT;
        /** The default {@link #maxLoad}, in replicas' worth. */
        public static final double MAX_LOAD = 8;
        /** The slow start window of a configured balancer (see {@link #settings}). */
        public static final Duration SLOW_START = Duration.ofSeconds(10);

        public Settings(long work, double replicaCapacity, Map<String, Double> modes, LoadMode initialMode,
                        String dispatch, int maxInFlight, Duration timeout, int ejectAfter, Duration ejectFor,
                        Duration statsInterval) {
            this(work, replicaCapacity, modes, initialMode, dispatch, maxInFlight, timeout, ejectAfter, ejectFor,
                    statsInterval, List.of());
        }

        public Settings(long work, double replicaCapacity, Map<String, Double> modes, LoadMode initialMode,
                        String dispatch, int maxInFlight, Duration timeout, int ejectAfter, Duration ejectFor,
                        Duration statsInterval, List<Step> profile) {
            this(work, replicaCapacity, modes, initialMode, dispatch, maxInFlight, timeout, ejectAfter, ejectFor,
                    statsInterval, profile, MAX_EJECTED_FRACTION, ALLOWED_NETWORKS, MAX_LOAD, Duration.ZERO);
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
            if (!(maxEjectedFraction >= 0 && maxEjectedFraction <= 1)) {
                throw new IllegalArgumentException("maxEjectedFraction must be 0..1, got " + maxEjectedFraction);
            }
            allowedNetworks = List.copyOf(allowedNetworks);
            Networks.parse(allowedNetworks); // says which entry is wrong
            if (!(maxLoad > 0 && maxLoad <= 1000)) {
                throw new IllegalArgumentException("maxLoad must be more than 0 and at most 1000 replicas' worth, got "
                        + maxLoad);
            }
            if (slowStart == null || slowStart.isNegative()) {
                throw new IllegalArgumentException("slowStart must be zero or more, got " + slowStart);
            }
        }

        /** The same settings with another load at start. */
        public Settings withInitialMode(LoadMode mode) {
            return new Settings(work, replicaCapacity, modes, mode, dispatch, maxInFlight, timeout, ejectAfter,
                    ejectFor, statsInterval, profile, maxEjectedFraction, allowedNetworks, maxLoad, slowStart);
        }

        /** The same settings with another slow start window. */
        public Settings withSlowStart(Duration window) {
            return new Settings(work, replicaCapacity, modes, initialMode, dispatch, maxInFlight, timeout, ejectAfter,
                    ejectFor, statsInterval, profile, maxEjectedFraction, allowedNetworks, maxLoad, window);
        }

        /** The same settings with other limits on operators' commands. */
        public Settings withLimits(List<String> allowedNetworks, double maxLoad) {
            return new Settings(work, replicaCapacity, modes, initialMode, dispatch, maxInFlight, timeout, ejectAfter,
                    ejectFor, statsInterval, profile, maxEjectedFraction, allowedNetworks, maxLoad, slowStart);
        }
    }

    /** One step of a load profile. */
    public record Step(LoadMode mode, Duration duration) {
    }

    /** The settings of a configuration section. */
    public static Settings settings(BalancerConfig c) {
        LoadMode initial = c.initialMode().equals("off") ? LoadMode.OFF
                : new LoadMode(c.initialMode(), switch (c.initialMode()) {
                    case "low" -> c.low();
                    case "mid" -> c.mid();
                    default -> c.high();
                });
        Map<String, Double> modes = Map.of("low", c.low(), "mid", c.mid(), "high", c.high());
        List<Step> profile = new ArrayList<>();
        for (ProfileStep step : c.profile()) {
            LoadMode mode = step.mode().equals("off") ? LoadMode.OFF
                    : step.mode().startsWith("custom ") ? LoadMode.custom(Double.parseDouble(step.mode().substring(7)))
                    : new LoadMode(step.mode(), modes.get(step.mode()));
            profile.add(new Step(mode, Duration.ofMillis((long) (step.seconds() * 1000))));
        }
        return new Settings(c.work(), c.replicaCapacity(), modes, initial, c.dispatch(), c.maxInFlightPerReplica(),
                Duration.ofMillis(c.timeoutMs()), c.ejectAfterTimeouts(), Duration.ofMillis(c.ejectMs()),
                Duration.ofMillis(c.statsIntervalMs()), profile, c.maxEjectedPercent() / 100.0, c.allowedNetworks(),
                c.maxLoad(), Duration.ofMillis(c.slowStartMs()));
    }

    /**
     * What the front door has seen since start; {@code reads}: the readinesses it read requests in (so
     * {@code received / reads} requests per select turn), {@code answerSends}: the system calls its answers went out
     * in (batched: {@code answered / answerSends} per call). Of {@code dropped}: {@code noRoom}, requests no replica
     * could take (every one at its in-flight limit, or none), and {@code unsentAnswers}, answers the socket did not
     * take (its send buffer full, or an error).
     */
    public record FrontCounters(long received, long garbage, long answered, long retried, long dropped, long reads,
                                long answerSends, long noRoom, long unsentAnswers) {
    }

    /** Counts since start, as the balancer's thread last published them. */
    public record Totals(long sent, long answered, long timedOut, long wrong, long unsent) {
    }

    private final Settings settings;
    private final Consumer<Event> publish;
    private final LongSupplier clock;
    private final Thread thread;
    private final ConcurrentLinkedQueue<Runnable> inbox = new ConcurrentLinkedQueue<>();
    private final Transport transport;
    private final FrontDoor front;
    private final Membership membership;
    private final Pacer pacer;
    private final Stats stats;
    private final Admin admin;
    private final long timeoutNanos;
    private volatile boolean running = true;
    private volatile Totals totals = new Totals(0, 0, 0, 0, 0);
    private volatile FrontCounters frontCounters = new FrontCounters(0, 0, 0, 0, 0, 0, 0, 0, 0);
    private volatile long stray;
    private volatile LbStats lastStats;
    private final Traffic traffic;
    /** Lifecycle events heard (the balancer's thread only), and the last one of each domain, for {@link #resync}. */
    private long lifecycleEvents;
    private final Map<String, Long> heard = new java.util.HashMap<>();
    /**
     * Domains booting (STARTING, WARMING) or migrating as the lifecycle events said, and since when: no calibration
     * meanwhile. One not heard of again within {@link #BUSY_AT_MOST} (an event missed) no longer counts.
     */
    private final Map<String, Long> busyVms = new java.util.HashMap<>();
    static final Duration BUSY_AT_MOST = Duration.ofMinutes(3);
    /** The host each domain last joined from: the monitor's events from another host do not take it out. */
    private final Map<String, String> hostOf = new java.util.HashMap<>();
    /** Domains being live-migrated (MIGRATING heard, no READY yet). */
    private final java.util.Set<String> migrating = new java.util.HashSet<>();
    /** Null when the capacity is configured. */
    private final Calibrator calibrator;

    private Balancer(Settings settings, Consumer<Event> publish, Supplier<List<Endpoint>> refreshSource,
                     String source, InetSocketAddress frontAddress, LongSupplier clock, boolean batched)
            throws IOException {
        this.settings = settings;
        this.publish = publish;
        this.clock = clock;
        long now = clock.getAsLong();
        this.timeoutNanos = settings.timeout().toNanos();
        this.stats = new Stats(settings.statsInterval(), now);
        Duration maxEjection = settings.ejectFor().compareTo(MAX_EJECTION) > 0 ? settings.ejectFor() : MAX_EJECTION;
        this.membership = new Membership(new OutlierDetector(settings.ejectAfter(), settings.ejectFor(), maxEjection,
                settings.maxEjectedFraction()), Dispatch.named(settings.dispatch(), new Random()), settings.maxInFlight(),
                new SlowStart(settings.slowStart()));
        this.pacer = new Pacer(settings.initialMode(), settings.replicaCapacity(), settings.profile(), now);
        this.traffic = new Traffic(membership, stats, settings.work(), settings.ejectAfter());
        this.transport = new Transport(traffic, batched);
        this.calibrator = settings.replicaCapacity() > 0 ? null
                : new Calibrator(settings.work(), settings.maxInFlight(), membership, pacer::setCapacity,
                        stats::soon, this::noVmBusy);
        this.admin = new Admin(source, new Commands(), refreshSource, Networks.parse(settings.allowedNetworks()),
                settings.maxLoad());
        try {
            this.front = frontAddress == null ? null : FrontDoor.open(frontAddress, transport, traffic::forward);
        } catch (IOException e) {
            transport.close();
            throw e;
        }
        traffic.connect(transport, front);
        if (transport.batched()) {
            log.debug("balancer: datagrams in batches (recvmmsg, sendmmsg)");
        } else {
            log.info("balancer: one datagram per system call: {}", Datagrams.unavailable());
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
        return start(settings, publish, refreshSource, source, frontAddress, Datagrams.available());
    }

    /** The same, with datagrams in batches or one per system call (batches only where {@link Datagrams#available}). */
    static Balancer start(Settings settings, Consumer<Event> publish, Supplier<List<Endpoint>> refreshSource,
                          String source, InetSocketAddress frontAddress, boolean batched) {
        try {
            Balancer balancer = new Balancer(settings, publish, refreshSource, source, frontAddress, System::nanoTime,
                    batched && Datagrams.available());
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
        transport.wakeup();
    }

    /** Runs on the balancer's thread and waits for the result (up to 5 s); tests cut the stats published with it. */
    <T> T onLoop(Supplier<T> action) {
        if (Thread.currentThread() == thread) {
            return action.get();
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        later(() -> {
            try {
                result.complete(action.get());
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        try {
            return result.get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("the balancer's thread did not answer: " + e.getMessage(), e);
        }
    }

    /**
     * Membership from the replicas' lifecycle (see {@link Membership#change}): READY with an endpoint
     * joins; DRAINING, STOPPING, FAILED, STOPPED, UNDEFINED, PAUSED and POOLED leave (a warm pool's
     * replicas never join); every other state does nothing.
     * An event without an endpoint (the monitor's, from libvirt, knows only the domain) leaves by the
     * endpoint its domain joined with. A replica that leaves is acknowledged in {@code lb.stats} with
     * {@link LbStats.ServerStats#removed()}, within {@link Stats#REMOVAL_STATS_GAP} of the last stats.
     */
    public void onLifecycle(VmLifecycle event) {
        later(() -> {
            heard.put(event.domain(), ++lifecycleEvents);
            switch (event.state()) {
                case STARTING, WARMING, MIGRATING -> busyVms.putIfAbsent(event.domain(), clock.getAsLong());
                case READY, POOLED, DRAINING, STOPPING, STOPPED, FAILED, UNDEFINED -> busyVms.remove(event.domain());
                default -> { // DEFINED, RUNNING, PAUSED (the monitor's word on a migration's source): as it was
                }
            }
            apply(event);
        });
    }

    /** No VM boots or migrates, as far as the lifecycle events tell (the balancer's thread). */
    private boolean noVmBusy() {
        long now = clock.getAsLong();
        busyVms.values().removeIf(since -> now - since > BUSY_AT_MOST.toNanos());
        return busyVms.isEmpty();
    }

    /** Where the stream of lifecycle events heard is now: for {@link #resync}. */
    public long lifecycleMark() {
        return onLoop(() -> lifecycleEvents);
    }

    /**
     * Makes the membership what an authoritative listing of the replicas says (the scaler's, asked
     * after {@code mark} was taken; events may have been missed while the broker was away): each listed
     * replica's state is applied as if it were heard now, and a member that joined as a domain the
     * listing does not have leaves. A domain heard of after {@code mark} keeps what its events said:
     * they are newer than the listing or agree with it. Replicas an operator added are left alone.
     *
     * @param listing the replicas by domain; a null state (one this balancer does not know) changes nothing
     */
    public void resync(long mark, List<VmLifecycle> listing) {
        later(() -> {
            java.util.Set<String> listed = new java.util.HashSet<>();
            for (VmLifecycle replica : listing) {
                listed.add(replica.domain());
                if (heard.getOrDefault(replica.domain(), 0L) <= mark) {
                    apply(replica);
                }
            }
            membership.domainsJoined().forEach((domain, endpoint) -> {
                if (!listed.contains(domain) && heard.getOrDefault(domain, 0L) <= mark) {
                    leave(endpoint, domain + " is not in the scaler's listing");
                }
            });
        });
    }

    private void apply(VmLifecycle event) {
        switch (Membership.change(event.state())) {
            case JOIN -> {
                if (event.endpoint() != null) {
                    Endpoint before = membership.endpointOf(event.domain());
                    membership.joined(event.domain(), event.endpoint());
                    hostOf.put(event.domain(), event.host());
                    migrating.remove(event.domain());
                    join(event.endpoint(), event.domain() + " ready", event.warmStart());
                    Replica now = membership.at(event.endpoint());
                    if (now != null && now.migrating) { // READY again where it was: a migration that failed
                        now.migrating = false;
                        traffic.sendHeld(now, now, clock.getAsLong());
                    }
                    if (before != null && !before.equals(event.endpoint())) {
                        moved(event.domain(), before, event.endpoint());
                    }
                }
            }
            case MIGRATE -> {
                Endpoint endpoint = event.endpoint() != null ? event.endpoint() : membership.endpointOf(event.domain());
                Replica replica = endpoint == null ? null : membership.at(endpoint);
                if (replica != null && !replica.removed) {
                    replica.migrating = true;
                    migrating.add(event.domain());
                    log.info("balancer: {} ({}) migrating: sent a request only when no other replica can take it",
                            endpoint, event.domain());
                }
            }
            case LEAVE -> {
                if (event.endpoint() == null && (migrating.contains(event.domain())
                        || !event.host().equals(hostOf.getOrDefault(event.domain(), event.host())))) {
                    // the monitor's word from the host it is leaving (suspended, stopped: migrated): not a departure
                    log.debug("balancer: {} {} on {}: ignored, it is moving or serves from another host", event.domain(),
                            event.state(), event.host());
                    return;
                }
                migrating.remove(event.domain());
                Endpoint endpoint = event.endpoint() != null ? event.endpoint() : membership.endpointOf(event.domain());
                if (endpoint != null) {
                    leave(endpoint, event.domain() + " " + event.state().name().toLowerCase() + " (" + event.reason() + ")");
                }
            }
            case NONE -> {
                // not serving yet (DEFINED, STARTING, RUNNING, WARMING), or a state this balancer does not know
            }
        }
    }

    /** Carries out an admin command and says what happened; a malformed one changes nothing. */
    public AdminResult handle(AdminCommand command) {
        return admin.handle(command);
    }

    /** Sets the load (from any thread). */
    public void setMode(LoadMode newMode) {
        later(() -> pacer.setMode(newMode));
    }

    /** Adds a replica (from any thread). */
    public void addServer(Endpoint endpoint) {
        later(() -> join(endpoint, "added", false));
    }

    /** Stops sending to a replica (from any thread); its requests in flight are still accounted for. */
    public void removeServer(Endpoint endpoint) {
        later(() -> leave(endpoint, "removed"));
    }

    /** The counts as of the last stats interval. */
    public Totals totals() {
        return totals;
    }

    /** The front door's counts as of the last stats interval. */
    public FrontCounters frontCounters() {
        return frontCounters;
    }

    /** Datagrams that came back with no request to match them (a replica answering twice), read and dropped. */
    public long stray() {
        return stray;
    }

    /** The front door's bound address, or null when there is none. */
    public InetSocketAddress frontAddress() {
        try {
            return front == null ? null : front.address();
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
            Replica replica = membership.all().stream().filter(r -> r.endpoint.equals(endpoint)).findFirst().orElse(null);
            return replica == null ? -1L : replica.answered;
        });
    }

    /** Requests held for a migrating replica until it answers at its new endpoint. */
    int held(Endpoint endpoint) {
        return onLoop(() -> {
            Replica replica = membership.at(endpoint);
            return replica == null ? 0 : replica.held.size();
        });
    }

    /**
     * The latency of every correct answer since start, as the balancer measured it (from the select turn its request
     * was read or made in to the turn its answer was read in, in nanoseconds): a copy.
     */
    public org.HdrHistogram.Histogram latencySinceStart() {
        return onLoop(stats.total::copy);
    }

    /** Replicas requests can go to now (neither removed nor ejected). */
    public List<Endpoint> members() {
        return onLoop(() -> membership.serving(clock.getAsLong()));
    }

    /** The last calibration, once one is done (null when the capacity was configured or none is over yet). */
    public Calibration calibration() {
        return calibrator == null ? null : calibrator.last();
    }

    /**
     * One replica's capacity the load modes are scaled by, requests per second: configured, or the
     * median of the last calibrations (each replica that joins is measured); 0 until the first.
     */
    public double capacity() {
        return calibrator == null ? settings.replicaCapacity() : calibrator.capacity();
    }

    /** Admin commands answered with an error since start (malformed, refused, or nothing to do). */
    public long refusedCommands() {
        return admin.refused();
    }

    /** Calibrations done since start. */
    public int calibrations() {
        return calibrator == null ? 0 : calibrator.calibrations();
    }

    /** What admin commands act on; each call runs on the balancer's thread. */
    private final class Commands implements Admin.Target {
        @Override
        public Admin.Reply add(Endpoint endpoint) {
            return onLoop(() -> membership.isMember(endpoint) ? Admin.Reply.error(endpoint + " is already in the list")
                    : Admin.Reply.ok(join(endpoint, "operator", false)));
        }

        @Override
        public Admin.Reply remove(Endpoint endpoint) {
            return onLoop(() -> membership.isMember(endpoint) ? Admin.Reply.ok(leave(endpoint, "operator"))
                    : Admin.Reply.error("no server " + endpoint + " in the list"));
        }

        @Override
        public Admin.Reply replaceAll(List<Endpoint> endpoints) {
            return onLoop(() -> {
                int removed = 0;
                for (Endpoint member : membership.memberEndpoints()) {
                    if (!endpoints.contains(member)) {
                        leave(member, "not in the new list");
                        removed++;
                    }
                }
                int added = 0;
                for (Endpoint endpoint : endpoints) {
                    if (!membership.isMember(endpoint)) {
                        join(endpoint, "refresh", false);
                        added++;
                    }
                }
                return Admin.Reply.ok("servers: " + endpoints.size() + " (" + added + " added, " + removed + " removed)");
            });
        }

        @Override
        public Admin.Reply load(AdminSyntax.Load load) {
            double replicas = AdminSyntax.replicas(load, settings.modes());
            LoadMode mode = load.mode().equals("custom") ? LoadMode.custom(replicas) : new LoadMode(load.mode(), replicas);
            return onLoop(() -> {
                pacer.setMode(mode);
                log.info("load mode {}: {} replicas' worth, {} requests/s", mode, replicas, pacer.rate());
                return Admin.Reply.ok("load " + mode + ": " + (pacer.capacity() == 0 ? "set; requests/s once calibrated"
                        : String.format("%.1f", pacer.rate()) + " requests/s"));
            });
        }

        @Override
        public String status() {
            List<Endpoint> members = members();
            Totals t = totals();
            return members.size() + " replica(s) in use, load " + onLoop(() -> pacer.mode().toString()) + ", "
                    + t.answered() + " answered, " + t.wrong() + " wrong, " + t.timedOut() + " timed out";
        }

        @Override
        public Map<String, Object> statusData() {
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("mode", onLoop(() -> pacer.mode().toString()));
            data.put("members", members().stream().map(Endpoint::toString).toList());
            data.put("totals", totals());
            data.put("stats", lastStats());
            data.put("calibration", calibration());
            data.put("capacity", capacity());
            data.put("calibrations", calibrations());
            data.put("front", frontCounters());
            data.put("refusedCommands", refusedCommands());
            data.put("strayDatagrams", stray());
            return data;
        }
    }

    // ---- the balancer's thread ----

    /** @param warm it comes from the scaler's warm pool, its JIT warm: its full share at once, no slow start */
    private String join(Endpoint endpoint, String why, boolean warm) {
        Replica replica = membership.add(endpoint, clock.getAsLong(), warm);
        if (replica == null) {
            return endpoint + " is already in the list";
        }
        log.info("balancer: + {} ({}{})", endpoint, why, warm ? ", warm: no slow start" : "");
        if (calibrator != null) { // measure every new replica on the traffic it serves
            calibrator.add(replica);
        }
        return "added " + endpoint;
    }

    /** A live-migrated replica answers at its new endpoint: what was in flight at the old one goes there too. */
    private void moved(String domain, Endpoint from, Endpoint to) {
        Replica old = membership.at(from);
        Replica now = membership.at(to);
        int again = old == null || now == null ? 0 : traffic.moveInFlight(old, now, clock.getAsLong());
        leave(from, domain + " moved to " + to + (again == 0 ? "" : ", " + again + " request(s) in flight sent there again"));
    }

    private String leave(Endpoint endpoint, String why) {
        Replica replica = membership.remove(endpoint);
        if (replica == null) {
            return "no server " + endpoint + " in the list";
        }
        replica.migrating = false;
        traffic.dropHeld(replica);
        stats.soon(); // acknowledge it in stats soon rather than at the end of the interval: a drain waits for that
        log.info("balancer: - {} ({}), {} request(s) in flight still accounted for", endpoint, why, replica.busy.size());
        traffic.retireIfDone(replica);
        return "removed " + endpoint + (replica.busy.isEmpty() ? "" : ", " + replica.busy.size() + " in flight");
    }

    private void loop() {
        long nextTimeoutScan = clock.getAsLong();
        long scanEvery = Math.min(timeoutNanos / 4, 10_000_000L);
        long waitMillis = 1;
        while (running) {
            try {
                // answers first: one that arrived during a slow turn must not be expired before it is read
                transport.select(waitMillis, clock);
                Runnable action;
                while ((action = inbox.poll()) != null) {
                    action.run();
                }
                long now = clock.getAsLong();
                Step step = pacer.followProfile(now);
                if (step != null) {
                    log.info("balancer: profile step: {} for {} s", step.mode(), step.duration().toMillis() / 1000.0);
                }
                traffic.offer(pacer.due(now), now);
                if (calibrator != null) {
                    calibrator.turn(now, traffic::fill);
                }
                if (now - nextTimeoutScan >= 0) {
                    transport.expire(membership.all(), now, timeoutNanos);
                    nextTimeoutScan = now + scanEvery;
                }
                if (stats.due(now)) {
                    publishStats(now);
                }
                waitMillis = pacer.waitMillis();
                if (waitMillis >= Pacer.IDLE_WAIT_MILLIS && idle()) { // nothing to send, expire or measure
                    waitMillis = Math.max(1, Math.min(IDLE_WAIT_MILLIS, (stats.nanosUntilDue(now) + 999_999) / 1_000_000));
                }
            } catch (IOException | RuntimeException e) {
                log.error("balancer: turn failed, carrying on", e);
            }
        }
        if (front != null) {
            front.close();
        }
        transport.close();
    }

    /** While idle, stats that say nothing new go out this often (not every interval). */
    private static final long IDLE_STATS_EVERY_NANOS = 5_000_000_000L;
    /** When the last stats went out (the balancer's thread only). */
    private long lastPublishedAt;

    /** The longest wait of a turn while the balancer is {@link #idle}: the next stats come sooner anyway. */
    private static final long IDLE_WAIT_MILLIS = 1000;

    /**
     * No load offered and none to come from a profile, no calibration running or waiting, no request in flight or
     * held: the loop need not turn until a datagram, a command or the next stats (instead of 20 times a second).
     */
    private boolean idle() {
        if (pacer.rate() > 0 || !pacer.profileDone() || (calibrator != null && !calibrator.idle())) {
            return false;
        }
        for (Replica replica : membership.all()) {
            if (!replica.busy.isEmpty() || !replica.held.isEmpty()) {
                return false;
            }
        }
        return true;
    }

    /**
     * Publishes {@code lb.stats}: every member, and every removed replica marked removed while it has
     * requests in flight and in {@link Membership#REMOVED_IDLE_REPORTS} stats after, then it is forgotten.
     */
    private void publishStats(long now) {
        LbStats built = stats.interval(now, membership.report(now), pacer.mode().toString(), pacer.capacity());
        totals = stats.totals();
        stray = transport.stray();
        if (front != null) {
            frontCounters = front.counters();
        }
        if (idle() && built.sameFiguresAs(lastStats) && now - lastPublishedAt < IDLE_STATS_EVERY_NANOS
                && built.servers().values().stream().noneMatch(LbStats.ServerStats::removed)) {
            return; // idle and unchanged: said again every few seconds, not every interval (a removal's
                    // acknowledgement is repeated as it always is: a drain may wait for any of them)
        }
        lastStats = built;
        lastPublishedAt = now;
        try {
            publish.accept(built);
        } catch (RuntimeException e) {
            log.warn("balancer: could not publish stats: {}", e.getMessage());
        }
    }

    @Override
    public void close() {
        running = false;
        transport.wakeup();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
