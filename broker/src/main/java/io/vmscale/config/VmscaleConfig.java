package io.vmscale.config;

/** The whole configuration: one section per component. */
public record VmscaleConfig(BrokerConfig broker, LibvirtConfig libvirt, MonitorConfig monitor,
                            ProvisioningConfig provisioning, ScalerConfig scaler, BalancerConfig balancer,
                            GuestConfig guest) {
    public VmscaleConfig {
        if (broker == null || libvirt == null || monitor == null || provisioning == null || scaler == null
                || balancer == null || guest == null) {
            String missing = broker == null ? "broker" : libvirt == null ? "libvirt" : monitor == null ? "monitor"
                    : provisioning == null ? "provisioning" : scaler == null ? "scaler"
                    : balancer == null ? "balancer" : "guest";
            throw new InvalidValueException(missing, "an object", "null");
        }
    }
}
