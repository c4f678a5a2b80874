package io.vmscale.balancer.traffic;

import io.vmscale.balancer.ScalerListing;
import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Subscription;
import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.AdminVerbs;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.Topic;
import io.vmscale.broker.event.VmLifecycle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link TrafficDriver} fed by the lifecycle events, on a thread of its own: READY makes a replica a target,
 * DRAINING a draining one, the states of a replica that stopped serving remove it; every change is synced at once
 * and everything again every {@code every} (what carries traffic may have restarted). Until the scaler's listing
 * was applied (asked at start and whenever the broker comes back) nothing is removed that no event named.
 * Publishes {@code lb.stats} every sync with each target's sessions and, for a draining one, {@code removed} and
 * what is in flight, so the scaler's drain ends on this driver's acknowledgement as it does on the built-in
 * balancer's. Nothing it is given stops it: a driver that fails is logged (once per new reason) and tried again.
 */
public final class TrafficService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TrafficService.class);
    static final Duration RESYNC_WAIT = Duration.ofSeconds(3);
    static final int RESYNC_TRIES = 20;

    private final TrafficDriver driver;
    private final Predicate<String> ours;
    private final Consumer<Event> publish;
    private final Duration every;
    private final ScheduledExecutorService thread;
    private final List<Subscription> subscriptions = new ArrayList<>();
    private ScalerListing scaler;
    private volatile boolean closed;

    // ---- the driver's thread ----
    private final Map<String, TrafficDriver.Target> targets = new LinkedHashMap<>();
    private final Set<String> gone = new HashSet<>();
    /**
     * Lifecycle events heard (any thread counts them), and the latest of them with their number (driver thread), so
     * a listing asked at a mark is followed by the events heard after it. Lifecycle events are few; a listing's
     * answer comes within seconds: the last {@value #RECENT} are plenty.
     */
    private final java.util.concurrent.atomic.AtomicLong heard = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.ArrayDeque<java.util.Map.Entry<Long, VmLifecycle>> recent = new java.util.ArrayDeque<>();
    static final int RECENT = 1024;
    /** Listed by the scaler as on their way (starting, found running, moving): neither added nor removed yet. */
    private final Set<String> pending = new HashSet<>();
    private boolean authoritative;
    private String lastError;
    private long syncs;
    private long lastSessions;
    private long lastStatsNanos = System.nanoTime();

    /**
     * @param ours    the group's domain names: events of any other domain change nothing
     * @param publish where its {@code lb.stats} go
     */
    public TrafficService(TrafficDriver driver, Predicate<String> ours, Consumer<Event> publish, Duration every) {
        this.driver = driver;
        this.ours = ours;
        this.publish = publish;
        this.every = every;
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "traffic-" + driver.name());
            t.setDaemon(true);
            return t;
        });
        thread.scheduleWithFixedDelay(this::sync, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The service on the broker: lifecycle events in, the scaler's listing at start and after a reconnection. */
    public static TrafficService start(BrokerConnection connection, TrafficDriver driver, Predicate<String> ours,
                                       Duration every) {
        return start(connection, driver, ours, every, "");
    }

    /** The same for the group {@code group} (its prefix; empty: the first), whose scaler it asks for the listing. */
    public static TrafficService start(BrokerConnection connection, TrafficDriver driver, Predicate<String> ours,
                                       Duration every, String group) {
        return start(connection, driver, ours, every, group, group.isEmpty());
    }

    /**
     * The same, answering {@code status} for its group: a command naming it, or naming none when {@code firstGroup} (the
     * group is the configuration's top level).
     */
    public static TrafficService start(BrokerConnection connection, TrafficDriver driver, Predicate<String> ours,
                                       Duration every, String group, boolean firstGroup) {
        TrafficService service = new TrafficService(driver, ours, e -> connection.publish(LbStats.ofGroup(e, group)),
                every);
        try {
            service.scaler = new ScalerListing(connection, "traffic", group);
            service.subscriptions.add(connection.subscribe(VmLifecycle.class, e -> service.onLifecycle(e.body())));
            service.subscriptions.add(connection.subscribe(AdminCommand.class, e -> {
                AdminCommand command = e.body();
                boolean mine = command.group().equals(group) || command.group().isEmpty() && firstGroup;
                if (mine && command.command().equals("status") && STATUS_TARGETS.contains(command.target())
                        && command.replyTo().startsWith(Topic.REPLY_PREFIX)) {
                    connection.publish(command.replyTo(), service.status(command.requestId(), connection.source(),
                            group));
                }
            }));
        } catch (RuntimeException e) {
            service.close();
            throw e;
        }
        connection.onReconnected(service::resync);
        Thread first = new Thread(service::resync, "traffic-resync");
        first.setDaemon(true);
        first.start();
        return service;
    }

    /** One lifecycle event: the targets change, and what carries traffic follows at once. */
    public void onLifecycle(VmLifecycle event) {
        if (!ours.test(event.domain())) {
            return;
        }
        long seq = heard.incrementAndGet();
        submit(() -> {
            recent.addLast(java.util.Map.entry(seq, event));
            if (recent.size() > RECENT) {
                recent.removeFirst();
            }
            apply(event);
            sync();
        });
    }

    /** The scaler's listing: the whole truth from now on (events heard after it still win, they come later). */
    public void applyListing(List<VmLifecycle> listing) {
        applyListing(heard.get(), listing);
    }

    /**
     * The scaler's listing, asked when {@link #heard} was {@code mark}: events heard after the question win over
     * the answer (a DRAINING heard while the answer was on its way is not undone by a listing that says READY).
     */
    void applyListing(long mark, List<VmLifecycle> listing) {
        submit(() -> {
            targets.clear();
            pending.clear();
            listing.stream().filter(r -> ours.test(r.domain())).forEach(r -> {
                if (r.state() == ReplicaState.STARTING || r.state() == ReplicaState.MIGRATING) {
                    pending.add(r.domain()); // may be serving already (a restart takes it back): left as it is
                }
                apply(r);
            });
            recent.stream().filter(e -> e.getKey() > mark).forEach(e -> apply(e.getValue()));
            authoritative = true;
            sync();
        });
    }

    private void apply(VmLifecycle event) {
        ReplicaState state = event.state();
        if (state == null) {
            return;
        }
        if (state != ReplicaState.STARTING && state != ReplicaState.MIGRATING) {
            pending.remove(event.domain());
        }
        switch (state) {
            case READY -> {
                if (event.endpoint() != null) {
                    targets.put(event.domain(), new TrafficDriver.Target(event.domain(), event.endpoint(), false));
                    gone.remove(event.domain());
                }
            }
            case DRAINING -> {
                TrafficDriver.Target known = targets.get(event.domain());
                if (known != null || event.endpoint() != null) {
                    targets.put(event.domain(), new TrafficDriver.Target(event.domain(),
                            event.endpoint() != null ? event.endpoint() : known.endpoint(), true));
                }
            }
            case STOPPING, FAILED, STOPPED, UNDEFINED, PAUSED, POOLED -> {
                if (targets.remove(event.domain()) != null || !authoritative) {
                    gone.add(event.domain());
                }
            }
            default -> {
                // STARTING, MIGRATING, WARMING, ...: no change of what serves
            }
        }
    }

    private void sync() {
        if (closed) {
            return;
        }
        try {
            Set<String> goneNow = Set.copyOf(gone);
            Set<String> pendingNow = Set.copyOf(pending);
            boolean whole = authoritative;
            driver.sync(java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(targets)),
                    name -> goneNow.contains(name) || whole && !pendingNow.contains(name));
            gone.retainAll(targets.keySet()); // removed: no longer to be named
            syncs++;
            if (lastError != null) {
                log.info("{}: in sync again ({} replica(s))", driver.name(), targets.size());
                lastError = null;
            }
        } catch (RuntimeException e) {
            if (!String.valueOf(e.getMessage()).equals(lastError)) {
                log.warn("{}: could not sync {} replica(s): {} (tried again every {} ms)", driver.name(),
                        targets.size(), e.getMessage(), every.toMillis());
                lastError = String.valueOf(e.getMessage());
            }
            return;
        }
        publishStats();
    }

    private void publishStats() {
        Map<String, TrafficDriver.Seen> seen = driver.seen();
        Map<String, LbStats.ServerStats> servers = new LinkedHashMap<>();
        long sessions = 0;
        for (TrafficDriver.Target target : targets.values()) {
            TrafficDriver.Seen s = seen.get(target.domain());
            long total = s == null ? 0 : s.sessions();
            sessions += total;
            boolean removed = target.draining() && s != null && s.drained();
            servers.put(target.endpoint().toString(), new LbStats.ServerStats(total, total, 0, 0,
                    s == null ? 0 : s.inFlight(), false, removed));
        }
        long now = System.nanoTime();
        long intervalMs = Math.max(1, (now - lastStatsNanos) / 1_000_000);
        double rate = Math.max(0, sessions - lastSessions) * 1000.0 / intervalMs;
        lastSessions = sessions;
        lastStatsNanos = now;
        publish.accept(new LbStats(sessions, sessions, 0, 0, rate, 0, 0, 0, servers, driver.name(), intervalMs, 0));
    }

    /** The mark a question to the scaler is asked at: how many lifecycle events were heard so far. */
    long heardSoFar() {
        return heard.get();
    }

    /** Asks the scaler for its replicas until it answers, and applies them. */
    private void resync() {
        scaler.resync(driver.name(), RESYNC_TRIES, RESYNC_WAIT, () -> closed, heard::get, (mark, status, listing) -> {
            applyListing(mark, listing);
            log.info("{}: replicas from the scaler ({} listed): in sync from now on", driver.name(), listing.size());
        }, "only the replicas events named are added or removed");
    }

    private void submit(Runnable task) {
        try {
            thread.execute(task);
        } catch (RejectedExecutionException e) {
            log.debug("traffic service closed: change dropped");
        }
    }

    private static final Set<String> STATUS_TARGETS = Set.of(AdminVerbs.BALANCER, AdminVerbs.ALL);

    /**
     * {@code status}: what carries the group's traffic, its targets (draining ones marked), how many syncs were done
     * and whether the last one worked.
     */
    AdminResult status(String requestId, String source, String group) {
        try {
            return call(() -> {
                List<Object> list = new ArrayList<>();
                long draining = 0;
                for (TrafficDriver.Target t : targets.values()) {
                    Map<String, Object> one = new LinkedHashMap<>();
                    one.put("domain", t.domain());
                    one.put("endpoint", t.endpoint() == null ? null : t.endpoint().toString());
                    one.put("draining", t.draining());
                    list.add(one);
                    draining += t.draining() ? 1 : 0;
                }
                Map<String, Object> traffic = new LinkedHashMap<>();
                traffic.put("group", group);
                traffic.put("driver", driver.name());
                traffic.put("targets", list);
                traffic.put("syncs", syncs);
                traffic.put("lastError", lastError);
                traffic.put("inSync", authoritative && lastError == null);
                String message = (group.isEmpty() ? "traffic" : "group " + group + "'s traffic") + " through "
                        + driver.name() + ": " + targets.size() + " target(s)" + (draining > 0 ? " (" + draining
                        + " draining)" : "") + ", " + syncs + " sync(s), " + (lastError != null ? "the last failed: "
                        + lastError : authoritative ? "in sync" : "waiting for the scaler's listing");
                return new AdminResult(requestId, source, true, message, Map.of("traffic", traffic));
            });
        } catch (RuntimeException e) {
            return new AdminResult(requestId, source, false, "the traffic driver is stopping", Map.of());
        }
    }

    /** Syncs done so far. */
    public long syncs() {
        return call(() -> syncs);
    }

    /** The targets now, by domain (for tests and the status). */
    public Map<String, TrafficDriver.Target> targets() {
        return call(() -> Map.copyOf(targets));
    }

    private <T> T call(java.util.concurrent.Callable<T> step) {
        try {
            return thread.submit(step).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    public TrafficDriver driver() {
        return driver;
    }

    @Override
    public void close() {
        closed = true;
        subscriptions.forEach(Subscription::close);
        if (scaler != null) {
            scaler.close();
        }
        thread.shutdownNow();
        driver.close();
    }
}
