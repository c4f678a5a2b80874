package io.vmscale.scaler.provision;

import java.util.Optional;
import java.util.Set;

/**
 * How a host's replicas come to be and which domains of the name are the group's: {@code provisioning.mode},
 * {@link TemplateMode} or {@link PoolMode}, chosen once when the {@link ReplicaProvisioner} is built.
 */
interface ProvisioningMode {

    /**
     * Starts one more replica on the provisioner's host, its number none of {@code taken}; on failure nothing
     * is left half-defined and the exception names the domain and the reason.
     */
    Replica scaleUp(ReplicaProvisioner provisioner, Set<Integer> taken);

    /** Whether a domain named like the group's, with that metadata element (or none), is the group's. */
    boolean owns(Optional<String> mark, String group);

    /** True when stopping a replica also removes its definition. */
    boolean removesStopped();
}
