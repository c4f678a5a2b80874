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
     * @param memoryKiB its memory, 0 when not known
     * @param endpoint  where it answers, or null when not known (yet)
     * @param created   when the scaler defined it (its mark says), or null when not known
     */
    record Observed(String domain, Hypervisor.Power power, int vcpus, long memoryKiB, Endpoint endpoint,
                    java.time.Instant created) {
        /** It has a QEMU process: running or paused. */
        public boolean active() {
            return power.active();
        }

        public boolean running() {
            return power == Hypervisor.Power.RUNNING;
        }

        /** Paused or saved: a warm pool's replica. */
        public boolean parked() {
            return power == Hypervisor.Power.PAUSED || power == Hypervisor.Power.SAVED;
        }
    }

    /** How a warm pool keeps a prepared replica. */
    enum Tier {
        /** Suspended: memory kept, no CPU; back in tens of milliseconds. */
        PAUSED,
        /** Saved to disk with libvirt's managed save: no memory, no CPU; back in about a second and a half. */
        SAVED;

        public static Tier of(Hypervisor.Power power) {
            return power == Hypervisor.Power.SAVED ? SAVED : PAUSED;
        }

        public String word() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
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
            return replicas.stream().filter(Observed::running)
                    .map(o -> new Replica(o.domain(), uri, o.endpoint())).toList();
        }
    }

    /**
     * Starts one more replica and returns it; it may still be booting. On failure nothing is left
     * half-defined and the exception names the domain and the reason.
     */
    Replica scaleUp();

    /**
     * Brings a replica of the warm pool back: resumes a paused one, restores a saved one. Returns when
     * libvirt says it runs; the caller probes it.
     */
    Replica resume(String domain);

    /** Puts a running replica into the warm pool: suspends it or saves it. */
    void park(String domain, Tier tier);

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
