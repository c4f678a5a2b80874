package io.vmscale.scaler.provision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vmscale.broker.event.Endpoint;
import io.vmscale.guest.Wire;
import io.vmscale.libvirt.DomainState;
import io.vmscale.libvirt.HostConnection;
import io.vmscale.libvirt.LibvirtFailure;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Real replica VMs on qemu:///system: the guest image built by the project, domains defined from
 * the shipped template or by hand with virsh, the guest server inside answering on a forwarded
 * loopback port. Every domain of the run's prefix is removed at the end, whatever happened.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RealVmProvisioningTest {
    private static final Logger log = LoggerFactory.getLogger(RealVmProvisioningTest.class);
    private static final String URI = "qemu:///system";
    private static final Path HOME = Path.of("..").toAbsolutePath().normalize();
    private static final Duration BOOT = Duration.ofSeconds(90);

    private final String prefix = "vmscale-test" + UUID.randomUUID().toString().substring(0, 6);
    private HostConnection host;
    private GuestImage image;
    private ReplicaTemplate template;
    private String domainType;

    @BeforeAll
    void setUp() {
        host = HostConnection.open(URI);
        assertThat(host.connected()).as(URI + " answers (./vmscale test starts libvirtd)").isTrue();
        sweep("vmscale-test"); // leftovers of a run that was killed
        image = GuestImage.ensure(HOME, Path.of("/var/lib/vmscale/image"), line -> log.info("{}", line));
        template = ReplicaTemplate.load(HOME.resolve("conf/replica-port-forward.xml"));
        DomainTypes.Choice choice = DomainTypes.choose("auto", new LibvirtHypervisor(host), template, image, Wire.DEFAULT_PORT,
                prefix + "-kvm-probe");
        log.info("domain type {}: {}", choice.type(), choice.why());
        domainType = choice.type();
    }

    @AfterAll
    void tearDown() {
        if (host != null) {
            sweep(prefix);
            host.close();
        }
    }

    private void sweep(String namePrefix) {
        for (String name : host.domains().names(n -> n.startsWith(namePrefix))) {
            try {
                host.domains().destroy(name);
            } catch (LibvirtFailure e) {
                // not running
            }
            try {
                host.domains().undefine(name);
            } catch (LibvirtFailure e) {
                // transient, gone with the destroy
            }
        }
    }

    private ReplicaProvisioner.Settings settings(String namePrefix, ReplicaTemplate replicaTemplate, GuestImage guest) {
        return new ReplicaProvisioner.Settings(new LibvirtHypervisor(host), new ReplicaNames(namePrefix, 4), true, Wire.DEFAULT_PORT, 21100,
                true, replicaTemplate, guest, domainType);
    }

    /**
     * Asks the replica a few questions and checks every answer against a modular power. QEMU's user networking
     * sends a forwarded port's replies to whoever sent to it last: an answer to one of the readiness probe's
     * earlier requests (n = 1022, answered late by a guest still starting) can come to this socket, and is skipped.
     */
    private static void assertAnswersCorrectly(Endpoint endpoint) throws IOException {
        long probeAnswer = Wire.expected(1022);
        int skipped = 0;
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            socket.setSoTimeout(5000);
            for (long n : new long[] {0, 1, 1020, 1021, 1022, 123_456}) {
                byte[] request = Wire.request(n).array();
                socket.send(new DatagramPacket(request, 4, new InetSocketAddress(endpoint.ip(), endpoint.port())));
                while (true) {
                    byte[] reply = new byte[16];
                    DatagramPacket packet = new DatagramPacket(reply, reply.length);
                    socket.receive(packet);
                    assertThat(packet.getLength()).isEqualTo(8);
                    long value = ByteBuffer.wrap(reply).getLong();
                    if (value != Wire.expected(n) && value == probeAnswer && ++skipped <= 50) {
                        continue; // a probe's late answer
                    }
                    assertThat(value).as("2^%d mod 1021", n).isEqualTo(Wire.expected(n));
                    break;
                }
            }
        }
        if (skipped > 0) {
            log.info("{} late answer(s) to the readiness probe skipped", skipped);
        }
    }

    @Test
    void templateModeDefinesBootsAnswersAndRemovesAReplica() throws Exception {
        ReplicaProvisioner provisioner = ReplicaProvisioner.template(settings(prefix, template, image));
        long t0 = System.nanoTime();
        Replica replica = provisioner.scaleUp();
        assertThat(replica.domain()).isEqualTo(prefix + "-0000");
        assertThat(replica.endpoint().ip()).isEqualTo("127.0.0.1");
        assertThat(ReadinessProbe.answers(replica.endpoint(), BOOT, Duration.ofMillis(200))).isTrue();
        log.info("{} answered {} ms after scale-up", replica.domain(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        assertAnswersCorrectly(replica.endpoint());
        assertThat(provisioner.running()).containsExactly(replica);
        assertThat(provisioner.scaleDownCandidate()).isEqualTo(replica.domain());

        provisioner.stop(replica.domain());
        assertThat(host.domains().find(replica.domain())).as("undefined after stop").isEmpty();
        assertThatThrownBy(() -> provisioner.stop("other-0000")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a domain of the prefix");
    }

    @Test
    void poolModeStartsTheLowestStoppedAndStopsTheHighestRunningOfDomainsDefinedByHandWithVirsh(
            @TempDir Path dir) throws Exception {
        String pool = prefix + "p";
        for (int i = 0; i < 2; i++) {
            // defined by an operator with virsh, from XML of their own: kernel, initrd, console=ttyS0
            // quiet panic=-1, user networking with a UDP forward to guest port 21001, our metadata element
            Path xml = dir.resolve(i + ".xml");
            Files.writeString(xml, template.render(Map.of("name", pool + "-000" + i, "uuid", UUID.randomUUID().toString(),
                    "mac", "52:54:00:aa:bb:0" + i, "type", domainType, "kernel", image.kernel().toString(),
                    "initrd", image.initrd().toString(), "guestPort", "21001", "hostPort", Integer.toString(21190 + i),
                    "hostAddress", "127.0.0.1")));
            Process virsh = new ProcessBuilder("virsh", "-q", "-c", URI, "define", xml.toString())
                    .redirectErrorStream(true).start();
            assertThat(virsh.waitFor(60, TimeUnit.SECONDS) && virsh.exitValue() == 0).as("virsh define").isTrue();
        }
        ReplicaProvisioner provisioner = ReplicaProvisioner.pool(settings(pool, null, null));
        Replica first = provisioner.scaleUp();
        Replica second = provisioner.scaleUp();
        assertThat(List.of(first.domain(), second.domain())).containsExactly(pool + "-0000", pool + "-0001");
        assertThat(first.endpoint()).isEqualTo(new Endpoint("127.0.0.1", 21190));
        assertThatThrownBy(provisioner::scaleUp).isInstanceOf(ProvisioningException.class)
                .hasMessageContaining("pool exhausted: all 2 domains");
        for (Replica replica : List.of(first, second)) {
            assertThat(ReadinessProbe.answers(replica.endpoint(), BOOT, Duration.ofMillis(200)))
                    .as(replica.domain() + " answers").isTrue();
            assertAnswersCorrectly(replica.endpoint());
        }
        assertThat(provisioner.scaleDownCandidate()).isEqualTo(pool + "-0001");
        provisioner.stop(pool + "-0001");
        assertThat(host.domains().find(pool + "-0001")).hasValueSatisfying(
                d -> assertThat(d.state()).isEqualTo(DomainState.SHUTOFF)); // a pool keeps its domains
        assertThat(provisioner.running()).extracting(Replica::domain).containsExactly(pool + "-0000");
        provisioner.stop(pool + "-0000");
    }

    @Test
    void aFailedStartNamesTheDomainAndTheReasonAndLeavesNothingBehind(@TempDir Path dir) throws Exception {
        String failing = prefix + "f";
        // a missing kernel
        GuestImage noKernel = new GuestImage(dir.resolve("no-such-vmlinuz"), image.initrd());
        ReplicaProvisioner missingKernel = ReplicaProvisioner.template(settings(failing, template, noKernel));
        assertThatThrownBy(missingKernel::scaleUp).isInstanceOf(ProvisioningException.class)
                .hasMessageStartingWith("cannot start " + failing + "-0000 on " + URI + ": ")
                .hasMessageContaining("no-such-vmlinuz")
                .hasMessageEndingWith("(its definition was removed)");
        assertThat(host.domains().find(failing + "-0000")).isEmpty();

        // a port already taken: a template that forwards a fixed port, which this test holds
        try (DatagramSocket taken = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            Path fixed = dir.resolve("fixed-port.xml");
            Files.writeString(fixed, Files.readString(template.file())
                    .replace("${hostAddress}:${hostPort}-", "127.0.0.1:" + taken.getLocalPort() + "-"));
            ReplicaProvisioner portTaken = ReplicaProvisioner.template(settings(failing, ReplicaTemplate.load(fixed), image));
            assertThatThrownBy(portTaken::scaleUp).isInstanceOf(ProvisioningException.class)
                    .hasMessageStartingWith("cannot start " + failing + "-0000 on " + URI + ": ")
                    .hasMessageContaining("forwarding");
            assertThat(host.domains().find(failing + "-0000")).isEmpty();
        }

        // a bad template: refused when loaded, before anything is defined
        Path bad = dir.resolve("bad.xml");
        Files.writeString(bad, "<domain type='${type}'><name>${name}</name><memory>${memory}</memory></domain>");
        assertThatThrownBy(() -> ReplicaTemplate.load(bad)).isInstanceOf(ProvisioningException.class)
                .hasMessageContaining("unknown placeholder(s) [memory]");
        Path broken = dir.resolve("broken.xml");
        Files.writeString(broken, "<domain type='${type}'><name>${name}</name><vcpu>many</vcpu></domain>");
        assertThatThrownBy(() -> ReplicaProvisioner.template(settings(failing, ReplicaTemplate.load(broken), image))
                .scaleUp()).isInstanceOf(ProvisioningException.class)
                .hasMessageStartingWith("cannot define " + failing + "-0000 from " + broken);
        assertThat(host.domains().names(n -> n.startsWith(failing))).isEmpty();
    }
}
