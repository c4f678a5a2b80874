package io.vmscale.scaler.provision;

import io.vmscale.broker.event.Endpoint;
import java.util.List;

/**
 * Starts and stops the replica domains of one group on one host, and says which exist: the scaler's
 * only way to the hypervisor. Never touches a domain that is not the group's.
 */
public interface Provisioner {

    /**
     * A domain of the group as libvirt reports it.
     *
     * @param endpoint where it answers, or null when not known (yet)
     */
    record Observed(String domain, boolean active, int vcpus, Endpoint endpoint) {
    }

    /**
     * What exists now.
     *
     * @param replicas the group's domains (marked as ours; in pool mode every {@code PREFIX-NNNN}), running or not
     * @param foreign  domains named like ours that carry no mark of the group: never touched
     * @param host     the host's size and the vCPUs running on it
     */
    record Observation(List<Observed> replicas, List<String> foreign, Hypervisor.Host host) {
        public Observation {
            replicas = List.copyOf(replicas);
            foreign = List.copyOf(foreign);
        }

        public List<Replica> running(String uri) {
            return replicas.stream().filter(Observed::active)
                    .map(o -> new Replica(o.domain(), uri, o.endpoint())).toList();
        }
    }

    /**
     * Starts one more replica and returns it; it may still be booting. On failure nothing is left
     * half-defined and the exception names the domain and the reason.
     */
    Replica scaleUp();

    /**
     * Stops the replica at once (the caller has drained it) and, where configured, removes its
     * definition. Idempotent: a replica already stopped or gone is success. Refuses a domain that is
     * not the group's.
     */
    void stop(String domain);

    /** What exists now, from the hypervisor (not from memory). */
    Observation observe();

    /** True when a domain of the group that is not running is left over and should be removed (template mode). */
    boolean removesStopped();

    /** The libvirt URI of the host. */
    String uri();

    /** The running replicas of the group, lowest number first. */
    default List<Replica> running() {
        return observe().running(uri());
    }
}
