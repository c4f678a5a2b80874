package io.vmscale.scaler.provision;

import io.vmscale.broker.event.Endpoint;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pool mode, as in the original assignment: the operator defines {@code PREFIX-NNNN} beforehand, scaling up
 * starts the lowest-numbered stopped one, and every domain of the name is the group's; stopping never
 * undefines.
 */
final class PoolMode implements ProvisioningMode {
    /** Its messages under the provisioner's name, as they always were. */
    private static final Logger log = LoggerFactory.getLogger(ReplicaProvisioner.class);

    @Override
    public Replica scaleUp(ReplicaProvisioner provisioner, Set<Integer> taken) {
        Map<Integer, Hypervisor.Domain> domains = provisioner.named();
        int number = domains.entrySet().stream()
                .filter(e -> e.getValue().power() == Hypervisor.Power.OFF)
                .map(Map.Entry::getKey).min(Integer::compare)
                .orElseThrow(() -> new ProvisioningException("pool exhausted: all " + domains.size() + " domains "
                        + provisioner.group() + "-* on " + provisioner.uri() + " are running"));
        String name = provisioner.settings().names().name(number);
        Endpoint endpoint = provisioner.requireEndpoint(name, provisioner.mark(name));
        return provisioner.making(name, () -> {
            try {
                provisioner.host().start(name);
            } catch (RuntimeException e) {
                throw new ProvisioningException("cannot start " + name + " on " + provisioner.uri() + ": "
                        + e.getMessage(), e);
            }
            log.info("started {} from the pool, answering at {}", name, endpoint);
            return new Replica(name, provisioner.uri(), endpoint);
        });
    }

    @Override
    public boolean owns(Optional<String> mark, String group) {
        return true;
    }

    @Override
    public boolean removesStopped() {
        return false;
    }
}
