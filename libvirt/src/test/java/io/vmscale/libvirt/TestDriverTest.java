package io.vmscale.libvirt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The libvirt layer's API paths on libvirt's in-process test driver (test:///default): fast, no
 * daemon. Each connection to it gets a private copy of its state, with one running domain "test".
 */
class TestDriverTest {
    private final BlockingQueue<DomainLifecycle> events = new LinkedBlockingQueue<>();
    private final List<String> connectionChanges = new ArrayList<>();
    private HostConnection host;
    /** test:///default is shared by the connections of a process: each test uses names of its own. */
    private final String p = "t" + java.util.UUID.randomUUID().toString().substring(0, 8) + "-";

    @BeforeEach
    void connect() {
        host = HostConnection.open("test:///default", new HostConnection.Listener() {
            @Override
            public void lifecycle(DomainLifecycle event) {
                events.add(event);
            }

            @Override
            public synchronized void connection(String uri, boolean connected, String reason) {
                connectionChanges.add(connected + " " + reason);
            }
        }, Duration.ofMillis(50), Duration.ofMillis(200));
    }

    @AfterEach
    void close() {
        host.close();
    }

    private DomainLifecycle next() throws InterruptedException {
        DomainLifecycle event = events.poll(5, TimeUnit.SECONDS);
        assertThat(event).as("a lifecycle event within 5 s").isNotNull();
        return event;
    }

    @Test
    void definesStartsDestroysAndUndefinesWithALifecycleEventForEach() throws Exception {
        assertThat(host.connected()).isTrue();
        assertThat(host.domains().define(TestDriverXml.domain(p + "0000"))).isEqualTo(p + "0000");
        assertThat(next()).isEqualTo(new DomainLifecycle("test:///default", p + "0000", "DEFINED", "ADDED"));

        host.domains().start(p + "0000");
        assertThat(next()).extracting(DomainLifecycle::event, DomainLifecycle::detail)
                .containsExactly("STARTED", "BOOTED");
        assertThat(host.domains().find(p + "0000").orElseThrow().state()).isEqualTo(DomainState.RUNNING);

        host.domains().destroy(p + "0000");
        assertThat(next()).extracting(DomainLifecycle::event, DomainLifecycle::detail)
                .containsExactly("STOPPED", "DESTROYED");
        assertThat(host.domains().find(p + "0000").orElseThrow().state()).isEqualTo(DomainState.SHUTOFF);

        host.domains().undefine(p + "0000");
        assertThat(next()).extracting(DomainLifecycle::event).isEqualTo("UNDEFINED");
        assertThat(host.domains().find(p + "0000")).isEmpty();
    }

    @Test
    void filtersByNamePrefix() {
        host.domains().define(TestDriverXml.domain(p + "0000"));
        host.domains().define(TestDriverXml.domain(p + "0001"));
        host.domains().define(TestDriverXml.domain(p + "x-other"));
        host.domains().start(p + "0001");
        assertThat(host.domains().names(name -> name.startsWith(p) && !name.contains("x-")))
                .containsExactlyInAnyOrder(p + "0000", p + "0001");
        assertThat(host.domains().names(name -> true)).contains("test", p + "x-other");
        assertThat(host.stats().domains(name -> name.startsWith(p) && !name.contains("x-")))
                .extracting(DomainStats::name, DomainStats::state)
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple(p + "0000", DomainState.SHUTOFF),
                        org.assertj.core.groups.Tuple.tuple(p + "0001", DomainState.RUNNING));
    }

    @Test
    void fallsBackToOneCallPerDomainWhereTheDriverHasNoBulkStats() {
        host.domains().define(TestDriverXml.domain(p + "0000"));
        host.domains().start(p + "0000");
        List<DomainStats> stats = host.stats().domains(name -> name.startsWith(p) && !name.contains("x-"));
        assertThat(host.stats().bulkSupported()).isFalse();
        assertThat(stats).singleElement().satisfies(d -> {
            assertThat(d.state()).isEqualTo(DomainState.RUNNING);
            assertThat(d.vcpus()).isEqualTo(2);
            assertThat(d.id()).isPositive();
            assertThat(d.uuid()).hasSize(36);
        });
        assertThatThrownBy(() -> host.stats().bulk(name -> true)).isInstanceOf(LibvirtFailure.class)
                .hasMessageContaining("test:///default: bulk stats");
    }

    @Test
    void namesTheDomainAndTheOperationThatFailed() {
        assertThatThrownBy(() -> host.domains().start(p + "9999")).isInstanceOf(LibvirtFailure.class)
                .hasMessageStartingWith("test:///default: start " + p + "9999: ");
        assertThatThrownBy(() -> host.domains().define("<domain>not really</domain>")).isInstanceOf(LibvirtFailure.class)
                .hasMessageStartingWith("test:///default: define: ");
        assertThat(host.domains().find(p + "9999")).isEmpty();
    }

    @Test
    void readsAndWritesOurMetadataElement() {
        host.domains().define(TestDriverXml.domain(p + "0000"));
        String ns = "https://vmscale.io/xmlns/replica/1";
        assertThat(host.domains().metadata(p + "0000", ns)).isEmpty();
        host.domains().setMetadata(p + "0000", "vmscale", ns, "<replica port='21005'/>");
        assertThat(host.domains().metadata(p + "0000", ns)).hasValueSatisfying(xml -> assertThat(xml).contains("21005"));
        assertThat(host.domains().xml(p + "0000")).contains(ns);
    }

    @Test
    void readsTheHostsFigures() {
        HostInfo info = host.stats().info();
        assertThat(info.cpus()).isPositive();
        assertThat(info.memoryKiB()).isPositive();
        assertThat(host.stats().freeMemoryKiB()).isBetween(0L, info.memoryKiB());
        HostCpuTimes times = host.stats().cpuTimes(); // our own binding of virNodeGetCPUStats
        assertThat(times.kernelNs()).isPositive();
        assertThat(times.userNs()).isPositive();
        assertThat(times.idleNs()).isPositive();
        assertThat(times.totalNs()).isGreaterThan(times.busyNs());
    }

    @Test
    void readsInterfaceAddresses() {
        // the test driver's own domain "test" has one interface with a made-up lease
        assertThat(host.domains().interfaceAddresses("test", 0)).containsExactly(
                new InterfaceAddress("testnet0", "aa:bb:cc:dd:ee:ff", "192.168.122.3", 24));
    }

    @Test
    void aHostThatCannotBeReachedIsReportedAndRetriedNotThrown() throws Exception {
        List<String> changes = new ArrayList<>();
        BlockingQueue<String> attempts = new LinkedBlockingQueue<>();
        try (HostConnection nowhere = HostConnection.open("qemu+unix:///system?socket=/nonexistent/sock",
                new HostConnection.Listener() {
                    @Override
                    public void connection(String uri, boolean connected, String reason) {
                        attempts.add(reason);
                    }
                }, Duration.ofMillis(20), Duration.ofMillis(40))) {
            assertThat(nowhere.connected()).isFalse();
            for (int i = 0; i < 3; i++) {
                changes.add(attempts.poll(5, TimeUnit.SECONDS));
            }
            assertThat(changes).allSatisfy(reason -> assertThat(reason).startsWith("cannot connect"));
            assertThatThrownBy(() -> nowhere.domains().names(n -> true)).isInstanceOf(LibvirtFailure.class)
                    .hasMessageContaining("not connected");
        }
    }
}
