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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The whole configuration: one section per component, each section's record in its component's module.
 *
 * <p>The top level is the first group of replicas; {@code groups} are more, each the top level with what the element
 * gives over it (its application, prefix, policy, limits, warm pool, traffic...). A group is named by its
 * {@code libvirt.prefix}; the broker, the monitor and the hosts are the deployment's, the same for every group.
 */
public record VmscaleConfig(BrokerConfig broker, LibvirtConfig libvirt, MonitorConfig monitor,
                            ProvisioningConfig provisioning, ScalerConfig scaler, BalancerConfig balancer,
                            GuestConfig guest, ApplicationConfig application, TrafficConfig traffic,
                            List<VmscaleConfig> groups) {
    /** One group. */
    public VmscaleConfig(BrokerConfig broker, LibvirtConfig libvirt, MonitorConfig monitor,
                         ProvisioningConfig provisioning, ScalerConfig scaler, BalancerConfig balancer,
                         GuestConfig guest, ApplicationConfig application, TrafficConfig traffic) {
        this(broker, libvirt, monitor, provisioning, scaler, balancer, guest, application, traffic, List.of());
    }

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
        groups = groups == null ? List.of() : List.copyOf(groups);
        Set<String> prefixes = new HashSet<>(Set.of(libvirt.prefix()));
        for (int i = 0; i < groups.size(); i++) {
            VmscaleConfig group = groups.get(i);
            String key = "groups[" + i + "].";
            if (!group.groups().isEmpty()) {
                throw new InvalidValueException(key + "groups", "none: groups do not nest", group.groups().size());
            }
            if (!prefixes.add(group.libvirt().prefix())) {
                throw new InvalidValueException(key + "libvirt.prefix", "a prefix no other group has (it names the group "
                        + "and its domains)", "\"" + group.libvirt().prefix() + "\"");
            }
            if (!group.libvirt().equals(libvirt.withPrefix(group.libvirt().prefix()))) {
                throw new InvalidValueException(key + "libvirt", "only a prefix of its own (the hosts are the "
                        + "deployment's, the same for every group)", group.libvirt());
            }
            if (!group.broker().equals(broker)) {
                throw new InvalidValueException(key + "broker", "nothing: the broker is the deployment's", "a broker");
            }
            if (!group.monitor().equals(monitor)) {
                throw new InvalidValueException(key + "monitor", "nothing: the monitor is the deployment's", "a monitor");
            }
            if (group.traffic().builtin()) {
                throw new InvalidValueException(key + "traffic.driver", "\"haproxy\" or \"exec\": the built-in balancer "
                        + "carries the first group's traffic (the top level's)", "\"builtin\"");
            }
        }
        Map<String, String> backends = new HashMap<>();
        for (int i = 0; i <= groups.size(); i++) { // the fields are not set yet: the parameters
            TrafficConfig t = i == 0 ? traffic : groups.get(i - 1).traffic();
            String name = i == 0 ? libvirt.prefix() : groups.get(i - 1).name();
            if (t.driver().equals("haproxy")) {
                String other = backends.putIfAbsent(t.haproxySocket() + " " + t.haproxyBackend(), name);
                if (other != null) {
                    throw new InvalidValueException("groups[" + (i - 1) + "].traffic.haproxyBackend", "a backend of its "
                            + "own (group " + other + " has " + t.haproxyBackend() + " on " + t.haproxySocket() + ")",
                            "\"" + t.haproxyBackend() + "\"");
                }
            }
        }
    }

    /** Every group, the top level first; each one's own {@code groups} is empty. */
    public List<VmscaleConfig> all() {
        List<VmscaleConfig> all = new ArrayList<>();
        all.add(groups.isEmpty() ? this : new VmscaleConfig(broker, libvirt, monitor, provisioning, scaler, balancer,
                guest, application, traffic));
        all.addAll(groups);
        return all;
    }

    /** The group's name: its prefix. */
    public String name() {
        return libvirt.prefix();
    }

    /** The group named {@code name}, or empty. */
    public Optional<VmscaleConfig> group(String name) {
        return all().stream().filter(g -> g.name().equals(name)).findFirst();
    }
}
