package io.vmscale.scaler.provision;

import io.vmscale.config.InvalidValueException;
import java.util.List;

/**
 * How replica domains come to be.
 *
 * @param mode                {@code template}: define {@code PREFIX-NNNN} from a domain XML template when scaling up;
 *                            {@code pool}: start and stop domains defined beforehand, as in the original assignment
 * @param template            the domain XML template (template mode), relative to the installation directory
 * @param network             {@code port-forward}: QEMU user networking with a UDP port on 127.0.0.1 per replica
 *                            (the endpoint is in our metadata element); {@code nat}: libvirt's NAT network (the
 *                            endpoint is the address libvirt reports)
 * @param hostPortBase        first host port for port forwards: {@code PREFIX-0003} gets base + 3 when it is free
 * @param digits              digits of the number in {@code PREFIX-NNNN}
 * @param domainType          {@code auto} (kvm where it works, else qemu software emulation), {@code kvm} or {@code qemu}
 * @param undefineOnScaleDown template mode: remove the definition of a domain it stopped
 * @param imageDir            where {@code ./vmscale image} writes the guest kernel and initramfs
 */
public record ProvisioningConfig(String mode, String template, String network, int hostPortBase, int digits,
                                 String domainType, boolean undefineOnScaleDown, String imageDir) {
    public static final List<String> MODES = List.of("template", "pool");
    public static final List<String> NETWORKS = List.of("port-forward", "nat");
    public static final List<String> DOMAIN_TYPES = List.of("auto", "kvm", "qemu");

    public ProvisioningConfig {
        InvalidValueException.oneOf("mode", mode, MODES);
        InvalidValueException.text("template", template);
        InvalidValueException.oneOf("network", network, NETWORKS);
        InvalidValueException.range("hostPortBase", hostPortBase, 1024, 65000);
        InvalidValueException.range("digits", digits, 1, 8);
        InvalidValueException.oneOf("domainType", domainType, DOMAIN_TYPES);
        InvalidValueException.text("imageDir", imageDir);
    }
}
