package io.vmscale.monitor;

import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.HostStatus;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.config.LibvirtConfig;
import io.vmscale.config.MonitorConfig;
import io.vmscale.monitor.libvirt.DomainLifecycle;
import io.vmscale.monitor.libvirt.HostConnection;
import io.vmscale.monitor.libvirt.LibvirtFailure;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the CPU of every domain of the prefix on every host at a fixed interval (one bulk stats
 * call per host per tick) and publishes {@code cpu.sample}; publishes libvirt's lifecycle callbacks
 * as {@code vm.lifecycle} the moment they arrive, and connection changes as {@code host.status}.
 * Each host is read on a thread of its own, so a slow host delays nobody else.
 */
public final class Monitor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Monitor.class);

    private final LibvirtConfig libvirt;
    private final Consumer<Event> publish;
    private final LongSupplier nanoTime;
    private final List<HostConnection> hosts = new ArrayList<>();
    private final ScheduledExecutorService ticker;
    private final BlockingQueue<Event> outbox = new LinkedBlockingQueue<>();
    private final Thread publisher;
    private final AtomicLong samples = new AtomicLong();
    private final AtomicLong tickFailures = new AtomicLong();
    private volatile boolean running = true;

    private Monitor(LibvirtConfig libvirt, Consumer<Event> publish, LongSupplier nanoTime) {
        this.libvirt = libvirt;
        this.publish = publish;
        this.nanoTime = nanoTime;
        this.ticker = Executors.newScheduledThreadPool(libvirt.uris().size(), r -> {
            Thread t = new Thread(r, "monitor-tick");
            t.setDaemon(true);
            return t;
        });
        this.publisher = new Thread(this::drainOutbox, "monitor-publish");
        this.publisher.setDaemon(true);
    }

    /**
     * Connects to every host of the configuration and starts ticking.
     *
     * @param publish where events go (a broker connection's publish); called from the monitor's threads
     */
    public static Monitor start(LibvirtConfig libvirt, MonitorConfig config, Consumer<Event> publish) {
        return start(libvirt, config, publish, System::nanoTime);
    }

    static Monitor start(LibvirtConfig libvirt, MonitorConfig config, Consumer<Event> publish, LongSupplier nanoTime) {
        Monitor monitor = new Monitor(libvirt, publish, nanoTime);
        monitor.publisher.start();
        for (String uri : libvirt.uris()) {
            HostConnection host = HostConnection.open(uri, monitor.new HostEvents(),
                    Duration.ofMillis(libvirt.reconnectMinMs()), Duration.ofMillis(libvirt.reconnectMaxMs()));
            monitor.hosts.add(host);
            CpuMeter meter = new CpuMeter();
            monitor.ticker.scheduleAtFixedRate(() -> monitor.tick(host, meter, config.intervalMs()), 0,
                    config.intervalMs(), TimeUnit.MILLISECONDS);
        }
        log.info("monitor: {} host(s), prefix {}-, every {} ms", libvirt.uris().size(), libvirt.prefix(),
                config.intervalMs());
        return monitor;
    }

    /** Hears one host on libvirt's event thread: hands events to the publisher, never blocks. */
    private final class HostEvents implements HostConnection.Listener {
        @Override
        public void lifecycle(DomainLifecycle event) {
            if (!libvirt.ours(event.domain())) {
                return;
            }
            ReplicaState state = LifecycleStates.state(event);
            if (state != null) {
                outbox.add(new VmLifecycle(event.domain(), event.host(), null, state, LifecycleStates.reason(event)));
            }
        }

        @Override
        public void connection(String uri, boolean connected, String reason) {
            outbox.add(new HostStatus(uri, connected, reason));
        }
    }

    private void tick(HostConnection host, CpuMeter meter, int intervalMs) {
        if (!host.connected()) {
            return; // no figures is not a load of zero: publish nothing until the host is back
        }
        try {
            long now = nanoTime.getAsLong();
            for (CpuMeter.Reading reading : meter.update(host.stats(name -> libvirt.ours(name)), now)) {
                publish.accept(new CpuSample(host.uri(), reading.stats().name(), reading.stats().state().name(),
                        reading.stats().vcpus(), reading.stats().cpuTimeNs(), Math.max(0, reading.percent()),
                        TimeUnit.NANOSECONDS.toMillis(reading.intervalNanos())));
                samples.incrementAndGet();
            }
        } catch (LibvirtFailure e) {
            tickFailures.incrementAndGet();
            log.warn("monitor: {}", e.getMessage());
        } catch (RuntimeException e) {
            tickFailures.incrementAndGet();
            log.error("monitor: tick of {} failed", host.uri(), e); // the next tick tries again
        }
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

    /** CPU samples published so far. */
    public long samplesPublished() {
        return samples.get();
    }

    /** Ticks that failed (a host error); each is retried at the next tick. */
    public long tickFailures() {
        return tickFailures.get();
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
