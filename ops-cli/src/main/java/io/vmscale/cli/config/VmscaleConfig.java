package io.vmscale.cli.config;

import io.vmscale.balancer.BalancerConfig;
import io.vmscale.balancer.traffic.TrafficConfig;
import io.vmscale.broker.BrokerConfig;
import io.vmscale.config.InvalidValueException;
import io.vmscale.libvirt.LibvirtConfig;
import io.vmscale.monitor.MonitorConfig;
import io.vmscale.scaler.ScalerConfig;
import io.vmscale.scaler.provision.ApplicationConfig;
import io.vmscale.scaler.provision.ProvisioningConfig;

/** The whole configuration: one section per component, each section's record in its component's module. */
public record VmscaleConfig(BrokerConfig broker, LibvirtConfig libvirt, MonitorConfig monitor,
                            ProvisioningConfig provisioning, ScalerConfig scaler, BalancerConfig balancer,
                            GuestConfig guest, ApplicationConfig application, TrafficConfig traffic) {
    public VmscaleConfig {
        if (broker == null || libvirt == null || monitor == null || provisioning == null || scaler == null
                || balancer == null || guest == null || application == null || traffic == null) {
            String missing = broker == null ? "broker" : libvirt == null ? "libvirt" : monitor == null ? "monitor"
                    : provisioning == null ? "provisioning" : scaler == null ? "scaler"
                    : balancer == null ? "balancer" : guest == null ? "guest" : application == null ? "application"
                    : "traffic";
            throw new InvalidValueException(missing, "an object", "null");
        }
        for (int i = 0; i < monitor.uris().size(); i++) {
            if (!libvirt.uris().contains(monitor.uris().get(i))) {
                throw new InvalidValueException("monitor.uris[" + i + "]", "one of libvirt.uris "
                        + libvirt.uris(), "\"" + monitor.uris().get(i) + "\"");
            }
        }
        // a policy's window must hold two samples of every replica: with one, a tick just before a sample
        // arrives sees the previous one just out of the window and waits, possibly for tens of seconds
        int twoSamples = (int) Math.ceil(2.0 * monitor.intervalMs() / 1000);
        if (scaler.thresholdWindow().windowSeconds() < twoSamples) {
            throw new InvalidValueException("scaler.thresholdWindow.windowSeconds", "at least two monitor intervals "
                    + "(monitor.intervalMs " + monitor.intervalMs() + "): " + twoSamples + " or more",
                    scaler.thresholdWindow().windowSeconds());
        }
        if (scaler.targetTracking().metricWindowSeconds() < twoSamples) {
            throw new InvalidValueException("scaler.targetTracking.metricWindowSeconds", "at least two monitor "
                    + "intervals (monitor.intervalMs " + monitor.intervalMs() + "): " + twoSamples + " or more",
                    scaler.targetTracking().metricWindowSeconds());
        }
    }
}
