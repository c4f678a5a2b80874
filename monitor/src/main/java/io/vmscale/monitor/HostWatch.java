package io.vmscale.monitor;

import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.HostStatus;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.libvirt.DomainLifecycle;
import io.vmscale.libvirt.DomainStats;
import io.vmscale.libvirt.HostConnection;
import io.vmscale.libvirt.HostInfo;
import io.vmscale.libvirt.LibvirtConfig;
import io.vmscale.libvirt.LibvirtFailure;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One host, watched: hears its lifecycle callbacks and connection changes (on libvirt's threads:
 * handed to the outbox, never blocking), and at each {@link #tick()} (on a thread of the monitor's)
 * reads every domain's stats in one call, publishes the CPU samples of the domains of the prefix,
 * the host's figures, and, after each (re)connection, the state of every domain of the prefix.
 */
final class HostWatch implements HostConnection.Listener {
    private static final Logger log = LoggerFactory.getLogger(HostWatch.class);
    static final String LISTED_AT_START = "listed at start";
    static final String LISTED_ON_RECONNECT = "listed on reconnect";
    static final String FIGURES = "figures";
    /**
     * How often a host's figures (CPU, vCPUs, memory: three more libvirt calls) are read and published: they size
     * nothing the scaler decides (its placement reads libvirt itself) and feed the metrics, the console and
     * {@code ops hosts}, for which a few seconds are fresh enough.
     */
    static final Duration FIGURES_INTERVAL = Duration.ofSeconds(5);

    private final String uri;
    private final LibvirtConfig libvirt;
    /** The groups' prefixes, changed while it runs ({@link Monitor#follow}). */
    private final java.util.Collection<String> prefixes;
    private final LongSupplier nanoTime;
    private final Consumer<Event> outbox;
    private final Consumer<Event> publish;
    private final CpuMeter meter;
    private final HostCpuMeter hostCpu = new HostCpuMeter();
    private final AtomicBoolean connectedBefore = new AtomicBoolean();
    /** Why the domains must be listed at the next tick, or null when they need not. */
    private final AtomicReference<String> listing = new AtomicReference<>();
    private final AtomicLong samples = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    /** The host's figures go out every this many ticks: every {@link #FIGURES_INTERVAL} at most. */
    private final long figuresEvery;
    /** The tick thread's only. */
    private long ticks;
    private volatile HostConnection host;
    /** Read once per connection; the tick thread's only. */
    private HostInfo info;

    /**
     * @param outbox  takes events in order without blocking (lifecycle, connection, listing, figures)
     * @param publish sends a CPU sample now (called on the tick thread)
     */
    HostWatch(String uri, LibvirtConfig libvirt, Duration interval, LongSupplier nanoTime, Consumer<Event> outbox,
              Consumer<Event> publish) {
        this(uri, libvirt, List.of(libvirt.prefix()), interval, nanoTime, outbox, publish);
    }

    /** @param prefixes the groups' prefixes: the domains it reads (thread-safe: groups come and go) */
    HostWatch(String uri, LibvirtConfig libvirt, java.util.Collection<String> prefixes, Duration interval, LongSupplier nanoTime,
              Consumer<Event> outbox, Consumer<Event> publish) {
        this.uri = uri;
        this.libvirt = libvirt;
        this.prefixes = prefixes;
        this.nanoTime = nanoTime;
        this.outbox = outbox;
        this.publish = publish;
        this.meter = new CpuMeter(interval);
        this.figuresEvery = Math.max(1, FIGURES_INTERVAL.toMillis() / Math.max(1, interval.toMillis()));
    }

    private boolean ours(String domain) {
        for (String prefix : prefixes) {
            if (LibvirtConfig.ours(prefix, domain)) {
                return true;
            }
        }
        return false;
    }

    /** The connection to read at each tick, once it is open. */
    void watch(HostConnection connection) {
        this.host = connection;
    }

    @Override
    public void lifecycle(DomainLifecycle event) {
        if (!ours(event.domain())) {
            return;
        }
        ReplicaState state = LifecycleStates.state(event);
        if (state != null) {
            outbox.accept(new VmLifecycle(event.domain(), uri, null, state, LifecycleStates.reason(event)));
        }
    }

    @Override
    public void connection(String reached, boolean connected, String reason) {
        outbox.accept(new HostStatus(uri, connected, reason)); // named as the configuration names it
        if (connected) {
            // listed at the next tick, on the tick thread: a callback never waits for libvirt
            listing.set(connectedBefore.getAndSet(true) ? LISTED_ON_RECONNECT : LISTED_AT_START);
        }
    }

    /** One reading of the host; a failure is logged and counted, and the next tick tries again. */
    void tick() {
        HostConnection connection = host;
        if (connection == null || !connection.connected()) {
            return; // no figures is not a load of zero: publish nothing until the host is back
        }
        try {
            String listingReason = listing.get();
            long asked = nanoTime.getAsLong();
            List<DomainStats> all = connection.stats().domains(name -> true);
            long answered = nanoTime.getAsLong(); // the stamp is when the figures are in, not when we asked
            List<DomainStats> ours = all.stream().filter(d -> ours(d.name())).toList();
            if (listingReason != null) {
                list(ours, listingReason);
                info = null; // the host may have changed behind its URI
                listing.compareAndSet(listingReason, null);
            }
            long droppedBefore = meter.dropped();
            for (CpuMeter.Reading reading : meter.update(ours, asked, answered)) {
                DomainStats stats = reading.stats();
                publish.accept(new CpuSample(uri, stats.name(), stats.state().name(), stats.vcpus(),
                        stats.cpuTimeNs(), reading.percent(), TimeUnit.NANOSECONDS.toMillis(reading.intervalNanos())));
                samples.incrementAndGet();
            }
            if (meter.dropped() > droppedBefore) {
                log.debug("{}: the stats call took {} ms, over half the interval: {} reading(s) dropped", uri,
                        TimeUnit.NANOSECONDS.toMillis(answered - asked), meter.dropped() - droppedBefore);
            }
            if (ticks++ % figuresEvery == 0) {
                outbox.accept(figures(connection, all));
            }
        } catch (LibvirtFailure e) {
            failures.incrementAndGet();
            log.warn("monitor: {}", e.getMessage());
        } catch (RuntimeException e) {
            failures.incrementAndGet();
            log.error("monitor: tick of {} failed", uri, e);
        }
    }

    private void list(List<DomainStats> ours, String reason) {
        for (DomainStats domain : ours) {
            outbox.accept(new VmLifecycle(domain.name(), uri, null, LifecycleStates.listed(domain.state()), reason));
        }
        log.info("{}: {} domain(s) of {} {}", uri, ours.size(), String.join(", ", prefixes.stream().map(p -> p + "-NNNN")
                .toList()), reason);
    }

    /** The host's figures; one that cannot be read is unknown, the others are still published. */
    private HostStatus figures(HostConnection connection, List<DomainStats> all) {
        if (info == null) {
            try {
                info = connection.stats().info();
            } catch (LibvirtFailure e) {
                log.debug("{}", e.getMessage());
            }
        }
        double cpuPercent = HostCpuMeter.UNKNOWN;
        try {
            cpuPercent = hostCpu.update(connection.stats().cpuTimes());
        } catch (LibvirtFailure e) {
            log.debug("{}", e.getMessage());
        }
        long freeKiB = HostStatus.UNKNOWN;
        try {
            freeKiB = connection.stats().freeMemoryKiB();
        } catch (LibvirtFailure e) {
            log.debug("{}", e.getMessage());
        }
        int domainVcpus = all.stream().filter(d -> d.state().active()).mapToInt(DomainStats::vcpus).sum();
        return new HostStatus(uri, true, FIGURES, info == null ? HostStatus.UNKNOWN : info.cpus(), cpuPercent,
                domainVcpus, info == null ? HostStatus.UNKNOWN : info.memoryKiB(), freeKiB);
    }

    long samplesPublished() {
        return samples.get();
    }

    long tickFailures() {
        return failures.get();
    }

    long readingsDropped() {
        return meter.dropped();
    }

    long readingsClamped() {
        return meter.clamped();
    }
}
