package io.vmscale.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.EmbeddedBroker;
import io.vmscale.broker.Role;
import io.vmscale.broker.TestBrokers;
import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.HostStatus;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.libvirt.HostConnection;
import io.vmscale.libvirt.LibvirtConfig;
import io.vmscale.libvirt.TestDriverXml;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The monitor publishing through a real embedded broker, on libvirt's test driver. */
class MonitorThroughBrokerTest {
    @TempDir
    Path dataDir;

    @Test
    void publishesLifecycleHostStatusAndSamplesOfItsPrefixOnly() throws Exception {
        String prefix = "mon" + UUID.randomUUID().toString().substring(0, 6);
        BlockingQueue<VmLifecycle> lifecycle = new LinkedBlockingQueue<>();
        BlockingQueue<HostStatus> hostStatus = new LinkedBlockingQueue<>();
        BlockingQueue<CpuSample> samples = new LinkedBlockingQueue<>();
        try (EmbeddedBroker broker = EmbeddedBroker.start(TestBrokers.config(dataDir));
             BrokerConnection publisher = broker.connect(Role.COMPONENT, "monitor@test");
             BrokerConnection viewer = broker.connect(Role.VIEWER, "viewer@test")) {
            viewer.subscribe(VmLifecycle.class, e -> lifecycle.add(e.body()));
            viewer.subscribe(HostStatus.class, e -> hostStatus.add(e.body()));
            viewer.subscribe(CpuSample.class, e -> samples.add(e.body()));
            LibvirtConfig libvirt = new LibvirtConfig(List.of("test:///default"), prefix, 50, 200);
            try (Monitor monitor = Monitor.start(libvirt, new MonitorConfig(100), publisher::publish);
                 HostConnection operator = HostConnection.open("test:///default")) {
                assertThat(hostStatus.poll(10, TimeUnit.SECONDS)).isEqualTo(
                        new HostStatus("test:///default", true, "connected"));
                // the first tick's figures: the domains have been listed (none of the prefix yet)
                HostStatus figures = hostStatus.poll(10, TimeUnit.SECONDS);
                assertThat(figures).isNotNull();
                assertThat(figures.reason()).isEqualTo("figures");
                assertThat(figures.cpus()).isPositive();
                operator.domains().define(TestDriverXml.domain(prefix + "-other-0000")); // not ours: never published
                operator.domains().define(TestDriverXml.domain(prefix + "-0000"));
                operator.domains().start(prefix + "-0000");
                assertThat(lifecycle.poll(10, TimeUnit.SECONDS)).extracting(VmLifecycle::domain, VmLifecycle::state)
                        .containsExactly(prefix + "-0000", ReplicaState.DEFINED);
                assertThat(lifecycle.poll(10, TimeUnit.SECONDS)).extracting(VmLifecycle::state, VmLifecycle::reason)
                        .containsExactly(ReplicaState.RUNNING, "started: booted");
                CpuSample sample = samples.poll(10, TimeUnit.SECONDS);
                assertThat(sample).isNotNull();
                assertThat(sample.domain()).isEqualTo(prefix + "-0000");
                assertThat(sample.vcpus()).isEqualTo(2);
                operator.domains().destroy(prefix + "-0000");
                assertThat(lifecycle.poll(10, TimeUnit.SECONDS)).extracting(VmLifecycle::state, VmLifecycle::reason)
                        .containsExactly(ReplicaState.STOPPED, "stopped: destroyed");
                operator.domains().undefine(prefix + "-0000");
                operator.domains().undefine(prefix + "-other-0000");
                assertThat(lifecycle.poll(10, TimeUnit.SECONDS)).extracting(VmLifecycle::state)
                        .isEqualTo(ReplicaState.UNDEFINED);
                assertThat(monitor.tickFailures()).isZero();
                assertThat(monitor.readingsDropped()).isZero();
            }
            assertThat(lifecycle).isEmpty();
            assertThat(viewer.malformedDropped()).isZero();
        }
    }

    @Test
    void listsTheDomainsOfItsPrefixAtStart() throws Exception {
        String prefix = "mon" + UUID.randomUUID().toString().substring(0, 6);
        BlockingQueue<VmLifecycle> lifecycle = new LinkedBlockingQueue<>();
        try (EmbeddedBroker broker = EmbeddedBroker.start(TestBrokers.config(dataDir));
             BrokerConnection publisher = broker.connect(Role.COMPONENT, "monitor@test");
             BrokerConnection viewer = broker.connect(Role.VIEWER, "viewer@test");
             HostConnection operator = HostConnection.open("test:///default")) {
            viewer.subscribe(VmLifecycle.class, e -> lifecycle.add(e.body()));
            operator.domains().define(TestDriverXml.domain(prefix + "-0000"));
            operator.domains().start(prefix + "-0000");
            operator.domains().define(TestDriverXml.domain(prefix + "-0001"));
            operator.domains().define(TestDriverXml.domain(prefix + "-other-0002")); // not ours: not listed
            LibvirtConfig libvirt = new LibvirtConfig(List.of("test:///default"), prefix, 50, 200);
            try (Monitor monitor = Monitor.start(libvirt, new MonitorConfig(100), publisher::publish)) {
                List<VmLifecycle> listed = new ArrayList<>();
                while (listed.size() < 2) {
                    VmLifecycle event = lifecycle.poll(10, TimeUnit.SECONDS);
                    assertThat(event).as("a listing within 10 s").isNotNull();
                    if (event.reason().startsWith("listed")) { // the set-up's callbacks may come too
                        listed.add(event);
                    }
                }
                assertThat(listed).extracting(VmLifecycle::domain, VmLifecycle::host, VmLifecycle::state,
                        VmLifecycle::reason).containsExactlyInAnyOrder(
                        Tuple.tuple(prefix + "-0000", "test:///default", ReplicaState.RUNNING,
                                "listed at start"),
                        Tuple.tuple(prefix + "-0001", "test:///default", ReplicaState.STOPPED,
                                "listed at start"));
            } finally {
                operator.domains().destroy(prefix + "-0000");
                operator.domains().undefine(prefix + "-0000");
                operator.domains().undefine(prefix + "-0001");
                operator.domains().undefine(prefix + "-other-0002");
            }
        }
    }
}
