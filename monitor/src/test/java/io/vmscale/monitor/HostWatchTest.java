package io.vmscale.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.HostStatus;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.libvirt.DomainStats;
import io.vmscale.libvirt.HostConnection;
import io.vmscale.libvirt.LibvirtConfig;
import io.vmscale.libvirt.TestDriverXml;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One host's watch, ticked by hand on libvirt's test driver (test:///default), with a clock of the
 * test's own: no executor, no waiting.
 */
class HostWatchTest {
    private static final String URI = "test:///default";
    private static final long SECOND = 1_000_000_000L;

    private final String prefix = "hw" + UUID.randomUUID().toString().substring(0, 6);
    private final LibvirtConfig libvirt = new LibvirtConfig(List.of(URI), prefix, 50, 200);
    /** Written by libvirt's event thread too (lifecycle callbacks). */
    private final List<Event> outbox = new CopyOnWriteArrayList<>();
    private final List<CpuSample> samples = new ArrayList<>();
    /** The readings of the clock, in the order the watch asks for them (when it asks, when the call returns). */
    private final Deque<Long> clock = new ArrayDeque<>();
    private final HostWatch watch = new HostWatch(URI, libvirt, Duration.ofSeconds(1), clock::removeFirst,
            outbox::add, e -> samples.add((CpuSample) e));
    private HostConnection operator;
    private HostConnection host;

    @BeforeEach
    void connect() {
        operator = HostConnection.open(URI);
        operator.domains().define(TestDriverXml.domain(prefix + "-0000"));
        operator.domains().start(prefix + "-0000");
        operator.domains().define(TestDriverXml.domain(prefix + "-0001")); // defined, not started
        host = HostConnection.open(URI, watch, Duration.ofMillis(50), Duration.ofMillis(200));
        watch.watch(host);
    }

    @AfterEach
    void clean() {
        host.close();
        operator.domains().destroy(prefix + "-0000");
        operator.domains().undefine(prefix + "-0000");
        operator.domains().undefine(prefix + "-0001");
        operator.close();
    }

    private void tick(double askedS, double answeredS) {
        clock.add(Math.round(askedS * SECOND));
        clock.add(Math.round(answeredS * SECOND));
        watch.tick();
        assertThat(clock).as("the clock read twice a tick").isEmpty();
    }

    private <T extends Event> Stream<T> published(Class<T> type) {
        return outbox.stream().filter(type::isInstance).map(type::cast);
    }

    /** The domains' states from listings; the lifecycle callbacks of the set-up may come in between. */
    private List<VmLifecycle> listed() {
        return published(VmLifecycle.class).filter(e -> e.reason().startsWith("listed")).toList();
    }

    @Test
    void listsTheDomainsOfThePrefixAfterTheFirstConnectionAndAfterEachReconnection() {
        // the first host status says connected; libvirt's event thread may deliver the set-up's own lifecycle
        // callbacks (define, start) between the listener's registration and that status: they may come first
        assertThat(published(HostStatus.class).findFirst()).contains(new HostStatus(URI, true, "connected"));
        tick(0, 0);
        assertThat(listed()).extracting(VmLifecycle::domain, VmLifecycle::state,
                VmLifecycle::reason).containsExactlyInAnyOrder(
                Tuple.tuple(prefix + "-0000", ReplicaState.RUNNING, "listed at start"),
                Tuple.tuple(prefix + "-0001", ReplicaState.STOPPED, "listed at start"));
        outbox.clear();
        tick(1, 1);
        assertThat(listed()).as("listed once per connection").isEmpty();

        watch.connection(URI, false, "closed: EOF"); // what the connection says when it is lost and back
        watch.connection(URI, true, "connected");
        operator.domains().destroy(prefix + "-0000");
        outbox.clear();
        tick(2, 2);
        assertThat(listed()).extracting(VmLifecycle::domain, VmLifecycle::state,
                VmLifecycle::reason).containsExactlyInAnyOrder(
                Tuple.tuple(prefix + "-0000", ReplicaState.STOPPED, "listed on reconnect"),
                Tuple.tuple(prefix + "-0001", ReplicaState.STOPPED, "listed on reconnect"));
        operator.domains().start(prefix + "-0000"); // for clean()
    }

    @Test
    void dropsTheReadingsOfASlowCallAndReadsTheNextFromWhereItReturned() {
        tick(0, 0); // a baseline
        tick(1, 1.7); // 0.7 s of a 1 s interval
        assertThat(samples).isEmpty();
        assertThat(watch.readingsDropped()).isEqualTo(1);
        tick(2.7, 2.7);
        assertThat(samples).singleElement().satisfies(s -> {
            assertThat(s.domain()).isEqualTo(prefix + "-0000");
            assertThat(s.intervalMs()).isEqualTo(1000);
            assertThat(s.cpuPercent()).isBetween(0.0, 100.0);
        });
        assertThat(watch.samplesPublished()).isEqualTo(1);
        assertThat(watch.tickFailures()).isZero();
    }

    @Test
    void publishesTheHostsFiguresAtTheFirstTickThenEveryFiveSeconds() {
        for (int t = 0; t <= 10; t++) { // 1 s ticks: the figures at the 1st, 6th and 11th
            tick(t, t);
        }
        List<HostStatus> figures = published(HostStatus.class).filter(s -> s.reason().equals("figures"))
                .toList();
        assertThat(figures).hasSize(3);
        int activeVcpus = operator.stats().domains(name -> true).stream().filter(d -> d.state().active())
                .mapToInt(DomainStats::vcpus).sum();
        assertThat(figures.get(2)).satisfies(s -> {
            assertThat(s.host()).isEqualTo(URI);
            assertThat(s.connected()).isTrue();
            assertThat(s.cpus()).isPositive();
            assertThat(s.memoryKiB()).isPositive();
            assertThat(s.freeMemoryKiB()).isBetween(0L, s.memoryKiB());
            // every active domain counts, ours or not (the driver's own "test" domain among them)
            assertThat(s.domainVcpus()).isEqualTo(activeVcpus).isGreaterThan(2);
            // the test driver's CPU times never move: the busy % is not known
            assertThat(s.cpuPercent()).isEqualTo(-1.0);
        });
    }
}
