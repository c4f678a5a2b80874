package io.vmscale.scaler.provision;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmscale.libvirt.HostConnection;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The warm pool's libvirt calls through {@link LibvirtHypervisor}, on libvirt's test driver: what a paused
 * and a saved domain look like, that starting a saved one restores it, and that removing one removes its
 * save image too.
 */
class LibvirtHypervisorTest {

    @Test
    void pausedAndSavedDomainsAreToldApartAndASavedOneIsRestoredOrRemovedWithItsImage() {
        String name = "lht-" + UUID.randomUUID().toString().substring(0, 8);
        try (HostConnection host = HostConnection.open("test:///default")) {
            LibvirtHypervisor hypervisor = new LibvirtHypervisor(host);
            hypervisor.define("<domain type='test'><name>" + name + "</name><memory unit='MiB'>64</memory>"
                    + "<vcpu>1</vcpu><os><type>hvm</type></os></domain>");
            try {
                hypervisor.start(name);
                assertThat(power(hypervisor, name)).isEqualTo(Hypervisor.Power.RUNNING);
                assertThat(hypervisor.domains(name::equals)).singleElement()
                        .satisfies(d -> assertThat(d.memoryKiB()).isEqualTo(64 * 1024));

                hypervisor.suspend(name);
                assertThat(power(hypervisor, name)).isEqualTo(Hypervisor.Power.PAUSED);
                assertThat(hypervisor.domains(name::equals).get(0).active()).as("a paused domain holds its vCPUs").isTrue();
                hypervisor.resume(name);
                assertThat(power(hypervisor, name)).isEqualTo(Hypervisor.Power.RUNNING);

                hypervisor.save(name);
                assertThat(power(hypervisor, name)).isEqualTo(Hypervisor.Power.SAVED);
                hypervisor.start(name); // restores the managed save image
                assertThat(power(hypervisor, name)).isEqualTo(Hypervisor.Power.RUNNING);
                assertThat(host.domains().hasManagedSave(name)).isFalse();

                hypervisor.save(name);
                hypervisor.destroy(name); // not running: nothing to do
                assertThat(power(hypervisor, name)).isEqualTo(Hypervisor.Power.SAVED);
                hypervisor.undefine(name); // the save image goes with the definition
                assertThat(hypervisor.domains(name::equals)).isEmpty();
            } finally {
                if (host.domains().find(name).isPresent()) {
                    hypervisor.destroy(name);
                    hypervisor.undefine(name);
                }
            }
        }
    }

    private static Hypervisor.Power power(Hypervisor hypervisor, String name) {
        return hypervisor.domains(name::equals).get(0).power();
    }
}
