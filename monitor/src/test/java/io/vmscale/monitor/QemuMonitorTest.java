package io.vmscale.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.HostStatus;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.libvirt.LibvirtConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The monitor on real QEMU domains under qemu:///system (software emulation): one whose vCPU
 * spins, one whose vCPU halts. The three tests share the two domains and run in order; the last
 * one restarts libvirtd.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class QemuMonitorTest {
    private final EventQueue events = new EventQueue();
    private QemuDomains domains;
    private Monitor monitor;
    private String busy;
    private String idle;

    @BeforeAll
    void start() {
        domains = new QemuDomains();
        busy = domains.startBusy(0);
        idle = domains.startIdle(1);
        domains.defineIdle(2); // defined, never started: no samples
        LibvirtConfig libvirt = new LibvirtConfig(List.of(QemuDomains.URI), domains.prefix(), 100, 1000);
        monitor = Monitor.start(libvirt, new MonitorConfig(500), events::add);
    }

    @AfterAll
    void stop() {
        if (monitor != null) {
            monitor.close();
        }
        if (domains != null) {
            domains.close();
        }
    }

    /** The most samples {@link #untilBusyReadsFull} reads (5 s at the monitor's 500 ms). */
    private static final int MOST_SAMPLES = 10;

    private List<Double> cpuOf(String domain, int count) throws InterruptedException {
        List<Double> readings = new ArrayList<>();
        while (readings.size() < count) {
            readings.add(events.next(CpuSample.class, s -> s.domain().equals(domain), Duration.ofSeconds(10)).cpuPercent());
        }
        return readings;
    }

    /**
     * The spinning domain's readings until {@code run} of them in a row read 85-115 % (one busy vCPU), at most
     * {@value #MOST_SAMPLES}; none may read above 115 %. Its reading is what the vCPU got: while something else
     * holds one of the two cores (the hypervisor under this machine takes time too: steal), it reads less, and
     * truly so; a wrong baseline or interval would read wrong in every sample, or above what one vCPU can do.
     */
    private List<Double> untilBusyReadsFull(int run) throws InterruptedException {
        List<Double> readings = new ArrayList<>();
        int inRange = 0;
        while (inRange < run) {
            assertThat(readings).as("readings of the spinning vCPU, until %d in a row read 85-115 %%", run)
                    .hasSizeLessThan(MOST_SAMPLES);
            double cpu = cpuOf(busy, 1).get(0);
            readings.add(cpu);
            assertThat(cpu).as("readings so far %s", readings).isBetween(0.0, 115.0);
            inRange = cpu >= 85.0 ? inRange + 1 : 0;
        }
        return readings;
    }

    @Test
    @Order(1)
    void aSpinningVcpuReadsAboutOneHundredAndAHaltedOneAboutZero() throws Exception {
        cpuOf(busy, 2); // the first readings may cover start-up
        untilBusyReadsFull(3);
        // the halted one spends its first second in the BIOS, then halts
        events.next(CpuSample.class, s -> s.domain().equals(idle) && s.cpuPercent() < 15, Duration.ofSeconds(20));
        assertThat(cpuOf(idle, 3)).allSatisfy(cpu -> assertThat(cpu).isLessThan(15.0));
        CpuSample sample = events.next(CpuSample.class, s -> s.domain().equals(busy), Duration.ofSeconds(10));
        assertThat(sample.host()).isEqualTo(QemuDomains.URI);
        assertThat(sample.state()).isEqualTo("RUNNING");
        assertThat(sample.vcpus()).isEqualTo(1);
        assertThat(sample.intervalMs()).isBetween(300L, 1500L);
        assertThat(monitor.hosts().get(0).stats().bulkSupported()).isTrue();
    }

    @Test
    @Order(2)
    void aDestroyFromOutsideIsPublishedWithinOneSecond() throws Exception {
        events.clear();
        assertThat(QemuDomains.virsh("destroy", idle)).isZero();
        long returned = System.nanoTime();
        // libvirt says SHUTDOWN (the host's signal) then STOPPED (destroyed), both as QEMU goes
        VmLifecycle stopped = events.next(VmLifecycle.class,
                e -> e.domain().equals(idle) && e.state() == ReplicaState.STOPPED, Duration.ofSeconds(5));
        long afterReturn = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - returned);
        assertThat(afterReturn).as("ms from virsh returning to the event").isLessThan(1000);
        assertThat(stopped.reason()).isEqualTo("stopped: destroyed");
        assertThat(stopped.host()).isEqualTo(QemuDomains.URI);
    }

    @Test
    @Order(3)
    void reconnectsAfterLibvirtdRestartsAndSamplesResume() throws Exception {
        events.clear();
        assertThat(new ProcessBuilder("pkill", "-x", "libvirtd").start().waitFor()).isZero();
        HostStatus lost = events.next(HostStatus.class, s -> !s.connected(), Duration.ofSeconds(20));
        assertThat(lost.host()).isEqualTo(QemuDomains.URI);
        Process restart = new ProcessBuilder("bash", "../scripts/libvirt-daemons").inheritIO().start();
        assertThat(restart.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(restart.exitValue()).isZero();
        events.next(HostStatus.class, HostStatus::connected, Duration.ofSeconds(30));
        // the busy domain outlived libvirtd; after a new baseline its samples come again, never above one vCPU's worth
        // (a stale baseline would). Right after the reconnection the new libvirtd's start-up, this JVM and the
        // hypervisor's steal share the two cores (seen: 83.8 % first; once, in a quiet suite run, 100 then 69.9 %):
        // true readings, so it must read full again within a few samples, two in a row
        untilBusyReadsFull(2);
    }
}
