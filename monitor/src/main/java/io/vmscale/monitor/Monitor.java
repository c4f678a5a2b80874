package io.vmscale.monitor;

import io.vmscale.broker.event.Event;
import io.vmscale.libvirt.HostConnection;
import io.vmscale.libvirt.LibvirtConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.ToLongFunction;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the CPU of every domain of the prefix on every host, one bulk stats call per host per tick,
 * a fixed delay apart, and publishes {@code cpu.sample}s and the host's figures as
 * {@code host.status}; publishes libvirt's lifecycle callbacks as {@code vm.lifecycle} the moment
 * they arrive, connection changes as {@code host.status}, and after every (re)connection the state
 * of every domain of the prefix on that host as {@code vm.lifecycle}. Each host is read on a thread
 * of its own, so a slow host delays nobody else.
 */
public final class Monitor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Monitor.class);

    private final Consumer<Event> publish;
    private final List<HostConnection> hosts = new ArrayList<>();
    private final List<HostWatch> watches = new ArrayList<>();
    /** The groups' prefixes: their domains are read (read by every host's tick). */
    private final java.util.Set<String> prefixes = new java.util.concurrent.CopyOnWriteArraySet<>();
    private final ScheduledExecutorService ticker;
    private final BlockingQueue<Event> outbox = new LinkedBlockingQueue<>();
    private final Thread publisher;
    private volatile boolean running = true;

    private Monitor(int hosts, Consumer<Event> publish) {
        this.publish = publish;
        this.ticker = Executors.newScheduledThreadPool(hosts, r -> {
            Thread t = new Thread(r, "monitor-tick");
            t.setDaemon(true);
            return t;
        });
        this.publisher = new Thread(this::drainOutbox, "monitor-publish");
        this.publisher.setDaemon(true);
    }

    /**
     * Connects to the hosts of the configuration ({@code monitor.uris}, or every one of {@code libvirt.uris}) and
     * starts ticking.
     *
     * @param publish where events go (a broker connection's publish); called from the monitor's threads
     */
    public static Monitor start(LibvirtConfig libvirt, MonitorConfig config, Consumer<Event> publish) {
        return start(libvirt, config, publish, uri -> uri);
    }

    /**
     * The same, each host reached through {@code through.apply(uri)} (its own {@code qemu:///system} when the monitor
     * runs on it) and named by its URI in the configuration, as the scaler knows it.
     */
    public static Monitor start(LibvirtConfig libvirt, MonitorConfig config, Consumer<Event> publish,
                                UnaryOperator<String> through) {
        return start(libvirt, List.of(libvirt.prefix()), config, publish, System::nanoTime, through);
    }

    /** The same, reading the domains of every group of {@code prefixes}. */
    public static Monitor start(LibvirtConfig libvirt, List<String> prefixes, MonitorConfig config,
                                Consumer<Event> publish, UnaryOperator<String> through) {
        return start(libvirt, prefixes, config, publish, System::nanoTime, through);
    }

    /** @param nanoTime the monotonic clock readings are stamped with */
    static Monitor start(LibvirtConfig libvirt, MonitorConfig config, Consumer<Event> publish, LongSupplier nanoTime) {
        return start(libvirt, List.of(libvirt.prefix()), config, publish, nanoTime, uri -> uri);
    }

    private static Monitor start(LibvirtConfig libvirt, List<String> prefixes, MonitorConfig config,
                                 Consumer<Event> publish, LongSupplier nanoTime, UnaryOperator<String> through) {
        List<String> uris = config.uris().isEmpty() ? libvirt.uris() : config.uris();
        Monitor monitor = new Monitor(uris.size(), publish);
        monitor.prefixes.addAll(prefixes);
        monitor.publisher.start();
        Duration interval = Duration.ofMillis(config.intervalMs());
        for (String uri : uris) {
            HostWatch watch = new HostWatch(uri, libvirt, monitor.prefixes, interval, nanoTime, monitor.outbox::add, publish);
            String reach = through.apply(uri);
            HostConnection host = HostConnection.open(reach, watch,
                    Duration.ofMillis(libvirt.reconnectMinMs()), Duration.ofMillis(libvirt.reconnectMaxMs()));
            watch.watch(host);
            monitor.hosts.add(host);
            monitor.watches.add(watch);
            // a fixed delay, not a fixed rate: a late tick is not followed by one that comes at once
            monitor.ticker.scheduleWithFixedDelay(watch::tick, 0, config.intervalMs(), TimeUnit.MILLISECONDS);
        }
        log.info("monitor: {} host(s) ({}), domains {}, every {} ms", uris.size(), String.join(", ", uris.stream()
                .map(u -> through.apply(u).equals(u) ? u : u + " through " + through.apply(u)).toList()),
                String.join(", ", prefixes.stream().map(p -> p + "-NNNN").toList()), config.intervalMs());
        return monitor;
    }

    private void drainOutbox() {
        while (running || !outbox.isEmpty()) {
            Event event;
            try {
                event = outbox.poll(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (event == null) {
                continue;
            }
            try {
                publish.accept(event);
            } catch (RuntimeException e) {
                log.error("monitor: could not publish {}: {}", event, e.getMessage());
            }
        }
    }

    private long sum(ToLongFunction<HostWatch> counter) {
        return watches.stream().mapToLong(counter).sum();
    }

    /** CPU samples published so far. */
    public long samplesPublished() {
        return sum(HostWatch::samplesPublished);
    }

    /** Ticks that failed (a host error); each is retried at the next tick. */
    public long tickFailures() {
        return sum(HostWatch::tickFailures);
    }

    /** Readings not published because their host's stats call took longer than half the interval. */
    public long readingsDropped() {
        return sum(HostWatch::readingsDropped);
    }

    /** Readings above 100 % (QEMU's own threads count in a domain's CPU time) published as 100. */
    public long readingsClamped() {
        return sum(HostWatch::readingsClamped);
    }

    /** Reads the domains of the group {@code prefix} too from now on (a group created at run time). */
    public void follow(String prefix) {
        if (prefixes.add(prefix)) {
            log.info("monitor: reading the domains {}-NNNN too (a group created)", prefix);
        }
    }

    /** No longer reads the domains of the group {@code prefix} (a group deleted at run time). */
    public void forget(String prefix) {
        if (prefixes.remove(prefix)) {
            log.info("monitor: no longer reading the domains {}-NNNN (the group is deleted)", prefix);
        }
    }

    /** The groups' prefixes whose domains it reads. */
    public List<String> prefixes() {
        return List.copyOf(prefixes);
    }

    public List<HostConnection> hosts() {
        return List.copyOf(hosts);
    }

    @Override
    public void close() {
        running = false;
        ticker.shutdownNow();
        try {
            ticker.awaitTermination(5, TimeUnit.SECONDS);
            publisher.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        hosts.forEach(HostConnection::close);
    }
}
