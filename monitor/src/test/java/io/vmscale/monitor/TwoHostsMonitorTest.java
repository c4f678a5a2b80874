package io.vmscale.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.HostStatus;
import io.vmscale.libvirt.LibvirtConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The monitor on two libvirt hosts: the system one and a second, independent one on this machine
 * ({@code scripts/libvirt-host}: its own libvirtd and virtlogd in a mount namespace, on loopback TCP).
 * Each domain's samples name the host it runs on, each host has its own {@code host.status}, and the
 * second host going away is reported while the first is still sampled.
 */
class TwoHostsMonitorTest {
    private static final Path SCRIPT = Path.of("..", "scripts", "libvirt-host").toAbsolutePath().normalize();
    private final EventQueue events = new EventQueue();

    private static String host(String action) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(SCRIPT.toString(), action, "2").redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        String out = new String(process.getInputStream().readAllBytes()).strip();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(SCRIPT + " " + action + " 2").isZero();
        return out;
    }

    @Test
    void eachHostsDomainsAreSampledUnderTheirHostAndASecondHostGoingAwayIsReported() throws Exception {
        String second = host("start");
        assertThat(second).isEqualTo("qemu+tcp://127.0.0.2:16509/system");
        String prefix = QemuDomains.TEST_PREFIX + UUID.randomUUID().toString().substring(0, 6);
        try (QemuDomains here = new QemuDomains(QemuDomains.URI, prefix);
             QemuDomains there = new QemuDomains(second, prefix)) {
            assertThat(there.connect().getCapabilities()).as("its own host UUID")
                    .doesNotContain(uuid(here.connect().getCapabilities()));
            String local = here.startIdle(0);
            String remote = there.startBusy(1);
            LibvirtConfig libvirt = new LibvirtConfig(List.of(QemuDomains.URI, second), prefix, 100, 1000);
            try (Monitor monitor = Monitor.start(libvirt, new MonitorConfig(500), events::add)) {
                CpuSample fromSecond = events.next(CpuSample.class, s -> s.domain().equals(remote), Duration.ofSeconds(20));
                assertThat(fromSecond.host()).isEqualTo(second);
                CpuSample fromFirst = events.next(CpuSample.class, s -> s.domain().equals(local), Duration.ofSeconds(20));
                assertThat(fromFirst.host()).isEqualTo(QemuDomains.URI);
                HostStatus secondFigures = events.next(HostStatus.class, s -> s.host().equals(second) && s.cpus() > 0,
                        Duration.ofSeconds(20));
                assertThat(secondFigures.connected()).isTrue();
                assertThat(secondFigures.domainVcpus()).as("vCPUs of the second host's active domains").isEqualTo(1);

                host("stop");
                events.next(HostStatus.class, s -> s.host().equals(second) && !s.connected(), Duration.ofSeconds(20));
                CpuSample stillFirst = events.next(CpuSample.class, s -> s.domain().equals(local), Duration.ofSeconds(10));
                assertThat(stillFirst.host()).isEqualTo(QemuDomains.URI);
            }
        } finally {
            host("stop");
        }
    }

    private static String uuid(String capabilities) {
        int at = capabilities.indexOf("<uuid>");
        return capabilities.substring(at + 6, capabilities.indexOf("</uuid>", at));
    }

}
