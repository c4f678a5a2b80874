package io.vmscale.scaler;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmscale.scaler.provision.DomainTypes;
import io.vmscale.scaler.provision.GuestImage;
import io.vmscale.scaler.provision.ReplicaTemplate;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The choice of kvm or qemu, through the {@code Hypervisor} seam only: here a {@link FakeHypervisor}. */
class DomainTypesTest {
    private static final String PORT_FORWARD = """
            <domain type='${type}'><name>${name}</name><uuid>${uuid}</uuid>
              <metadata><vmscale:replica xmlns:vmscale='https://vmscale.io/xmlns/replica/1' ip='${hostAddress}' port='${hostPort}'/></metadata>
              <os><kernel>${kernel}</kernel><initrd>${initrd}</initrd></os>
              <devices><interface><mac address='${mac}'/></interface></devices><guest port='${guestPort}'/>
            </domain>""";
    private static final String NAT = """
            <domain type='${type}'><name>${name}</name><uuid>${uuid}</uuid>
              <os><kernel>${kernel}</kernel><initrd>${initrd}</initrd></os>
              <devices><interface><mac address='${mac}'/></interface></devices>
            </domain>""";

    @TempDir
    Path dir;
    private final FakeHypervisor host = new FakeHypervisor(4);

    @AfterEach
    void close() {
        host.closeAll();
    }

    private ReplicaTemplate template(String text) throws IOException {
        return ReplicaTemplate.load(Files.writeString(dir.resolve("replica.xml"), text));
    }

    /** The same files every time: the verdict is kept until they change. */
    private GuestImage image() throws IOException {
        Path kernel = dir.resolve("vmlinuz");
        Path initrd = dir.resolve("initrd");
        if (!Files.exists(kernel)) {
            Files.writeString(kernel, "k");
            Files.writeString(initrd, "i");
        }
        return new GuestImage(kernel, initrd);
    }

    private DomainTypes.Choice choose(String configured, String template) throws IOException {
        return DomainTypes.choose(configured, host, template(template), image(), 21001, "vmscaletest-kvm-probe");
    }

    @Test
    void aConfiguredTypeIsTakenAsItIsWithoutAskingTheHost() throws IOException {
        assertThat(choose("kvm", PORT_FORWARD)).isEqualTo(new DomainTypes.Choice("kvm", "set in the configuration"));
        assertThat(host.calls()).isEmpty();
    }

    @Test
    void aHostWithoutKvmGetsSoftwareEmulation() throws IOException {
        assertThat(choose("auto", PORT_FORWARD)).isEqualTo(new DomainTypes.Choice("qemu", "the host offers no KVM"));
        assertThat(host.calls()).containsExactly("capabilities");
    }

    @Test
    void withoutAPortForwardKvmIsTakenUnprobed() throws IOException {
        host.offersKvm(true);
        assertThat(choose("auto", NAT).type()).isEqualTo("kvm");
        assertThat(host.calls()).containsExactly("capabilities");
    }

    @Test
    void aKvmGuestThatAnswersItsProbeWinsAndTheVerdictIsKeptBesideTheImage() throws IOException {
        host.offersKvm(true);
        assertThat(choose("auto", PORT_FORWARD)).isEqualTo(new DomainTypes.Choice("kvm", "a KVM guest answered"));
        assertThat(host.calls()).containsExactly("capabilities", "create vmscaletest-kvm-probe",
                "destroy vmscaletest-kvm-probe");
        assertThat(host.defined("vmscaletest-kvm-probe")).as("transient: gone once destroyed").isFalse();

        assertThat(choose("auto", PORT_FORWARD))
                .isEqualTo(new DomainTypes.Choice("kvm", "a KVM guest answered (probed earlier)"));
        assertThat(host.calls()).filteredOn(call -> call.startsWith("create")).hasSize(1);
    }

    @Test
    void aKvmGuestThatDoesNotStartMeansSoftwareEmulation() throws IOException {
        host.offersKvm(true);
        host.failNext("create", 1);
        DomainTypes.Choice choice = choose("auto", PORT_FORWARD);
        assertThat(choice.type()).isEqualTo("qemu");
        assertThat(choice.why()).startsWith("a KVM guest did not start: ").contains("injected failure");
    }
}
