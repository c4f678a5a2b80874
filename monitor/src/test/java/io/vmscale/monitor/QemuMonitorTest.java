package io.vmscale.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.HostStatus;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.libvirt.LibvirtConfig;
import java.nio.file.Files;
import java.nio.file.Path;
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

    /** Samples per window of {@link #agreesWithQemuProcess} (3 s at the monitor's 500 ms). */
    private static final int WINDOW = 6;

    private List<Double> cpuOf(String domain, int count) throws InterruptedException {
        List<Double> readings = new ArrayList<>();
        while (readings.size() < count) {
            readings.add(events.next(CpuSample.class, s -> s.domain().equals(domain), Duration.ofSeconds(10)).cpuPercent());
        }
        return readings;
    }

    /**
     * The spinning domain's readings over {@value #WINDOW} samples, against what its QEMU process truly got over the
     * same window ({@code /proc/PID/stat}, read as each window's first and last samples arrive): their mean within
     * 10 points of it, none above one vCPU's worth (115 %). What the vCPU gets depends on the machine (another
     * process or the hypervisor under this one takes part of a core: 80-94 % on one CI machine), so the test asks
     * that the monitor read what happened, not that the machine was quiet; a wrong baseline or interval misses it,
     * and the process must truly spin (above 50 %) for the comparison to mean something.
     */
    private void agreesWithQemuProcess() throws Exception {
        long pid = Long.parseLong(Files.readString(Path.of("/run/libvirt/qemu/" + busy + ".pid")).trim());
        events.next(CpuSample.class, s -> s.domain().equals(busy), Duration.ofSeconds(10));
        long fromTicks = cpuTicks(pid);
        long fromNanos = System.nanoTime();
        List<CpuSample> window = new ArrayList<>();
        while (window.size() < WINDOW) {
            window.add(events.next(CpuSample.class, s -> s.domain().equals(busy), Duration.ofSeconds(10)));
        }
        long ticks = cpuTicks(pid) - fromTicks;
        double wallMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - fromNanos);
        double truth = 100.0 * ticks * 10 / wallMs; // USER_HZ is 100: 10 ms a tick
        double weighted = window.stream().mapToDouble(s -> s.cpuPercent() * s.intervalMs()).sum()
                / window.stream().mapToLong(CpuSample::intervalMs).sum();
        List<Double> readings = window.stream().map(CpuSample::cpuPercent).toList();
        assertThat(readings).as("readings of the spinning vCPU").allSatisfy(cpu -> assertThat(cpu).isBetween(0.0, 115.0));
        assertThat(truth).as("the QEMU process's CPU over the window, from /proc (readings %s)", readings).isGreaterThan(50.0);
        assertThat(weighted).as("the monitor's mean over the window (readings %s) against /proc's %.1f %%", readings, truth)
                .isCloseTo(truth, within(10.0));
    }

    /** utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/PID/stat; the name may hold spaces). */
    private static long cpuTicks(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    @Test
    @Order(1)
    void aSpinningVcpuReadsAboutOneHundredAndAHaltedOneAboutZero() throws Exception {
        cpuOf(busy, 2); // the first readings may cover start-up
        agreesWithQemuProcess();
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
        // (a stale baseline would) and telling what the process got (right after the reconnection the new
        // libvirtd's start-up, this JVM and the hypervisor's steal share the two cores: less than 100 %, truly)
        agreesWithQemuProcess();
    }
}
