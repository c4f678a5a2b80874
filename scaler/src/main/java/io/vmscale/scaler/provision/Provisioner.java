package io.vmscale.scaler.provision;

import io.vmscale.broker.event.Endpoint;
import java.util.List;
import java.util.Optional;

/**
 * Starts, stops and moves the replica domains of one group on its hosts, and says which exist: the
 * scaler's only way to the hypervisors. Never touches a domain that is not the group's.
 */
public interface Provisioner {

    /**
     * A domain of the group as libvirt reports it.
     *
     * @param host      the libvirt URI of the host it is on
     * @param memoryKiB its memory, 0 when not known
     * @param endpoint  where it answers, or null when not known (yet)
     * @param created   when the scaler defined it (its mark says), or null when not known
     * @param image     the base image it boots ({@code POOL/VOLUME}, its mark says), or null: the built-in guest, or
     *                  not known (defined by an earlier release)
     */
    record Observed(String domain, String host, Hypervisor.Power power, int vcpus, long memoryKiB, Endpoint endpoint,
                    java.time.Instant created, String image) {
        public Observed(String domain, String host, Hypervisor.Power power, int vcpus, long memoryKiB,
                        Endpoint endpoint, java.time.Instant created) {
            this(domain, host, power, vcpus, memoryKiB, endpoint, created, null);
        }

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
     * One host as seen now.
     *
     * @param uri         its libvirt URI
     * @param address     port-forward mode: the address its replicas answer on
     * @param maxReplicas the group's replicas it may run at most (running or paused); -1: no such limit
     * @param figures     its size and what runs on it; null when it could not be reached
     * @param error       why it could not be reached, or null
     */
    record HostSeen(String uri, String address, int maxReplicas, Hypervisor.Host figures, String error) {
        public boolean reachable() {
            return figures != null;
        }
    }

    /**
     * What exists now.
     *
     * @param replicas the group's domains (marked as ours; in pool mode every {@code PREFIX-NNNN}) on the hosts that
     *                 answered, running or not
     * @param foreign  domains named like ours that carry no mark of the group: never touched
     * @param hosts    every host, in the configuration's order, reachable or not
     */
    record Observation(List<Observed> replicas, List<String> foreign, List<HostSeen> hosts) {
        public Observation {
            replicas = List.copyOf(replicas);
            foreign = List.copyOf(foreign);
            hosts = List.copyOf(hosts);
        }

        public List<Replica> running() {
            return replicas.stream().filter(Observed::running)
                    .map(o -> new Replica(o.domain(), o.host(), o.endpoint())).toList();
        }

        /** The host of that URI. */
        public Optional<HostSeen> host(String uri) {
            return hosts.stream().filter(h -> h.uri().equals(uri)).findFirst();
        }

        /** The replicas on that host. */
        public List<Observed> on(String uri) {
            return replicas.stream().filter(o -> o.host().equals(uri)).toList();
        }
    }

    /**
     * Starts one more replica on that host and returns it; it may still be booting. On failure nothing
     * is left half-defined and the exception names the domain and the reason.
     */
    Replica scaleUp(String host);

    /**
     * Where a running replica would answer on another host: checked (ours, running, movable, the host
     * reachable), nothing changed.
     */
    Replica migrationTarget(String domain, String toHost);

    /**
     * Live-migrates a running replica to another host; returns it at its new endpoint once it runs there.
     * On failure it still runs where it was (libvirt's rule) and the exception says why.
     */
    Replica migrate(String domain, String toHost);

    /**
     * Brings a replica of the warm pool back: resumes a paused one, restores a saved one. Returns when
     * libvirt says it runs; the caller probes it.
     */
    Replica resume(String domain);

    /**
     * Where a replica answers now: in port-forward mode its mark says; in NAT mode its DHCP lease, empty until the
     * guest has one.
     */
    Optional<Endpoint> address(String domain);

    /** Puts a running replica into the warm pool: suspends it or saves it. */
    void park(String domain, Tier tier);

    /**
     * Stops the replica at once (the caller has drained it) and, where configured, removes its
     * definition. Idempotent: a replica already stopped or gone is success. Refuses a domain that is
     * not the group's.
     */
    void stop(String domain);

    /**
     * The same, gracefully: asks the guest to shut down (ACPI) and destroys it when it still runs after
     * {@code graceful} (at once when zero); returns how it stopped, in words ({@code shut down (ACPI) in 2.3 s},
     * {@code destroyed: still running 30 s after the ACPI shutdown request}).
     */
    String stop(String domain, java.time.Duration graceful);

    /**
     * Removes the domain for good, the group being deleted: stopped at once, its definition and its volumes removed
     * (template mode, whatever {@code undefineOnScaleDown} says); an operator's domain (pool mode) is only stopped.
     * Idempotent; refuses a domain that is not the group's.
     */
    default void remove(String domain) {
        stop(domain);
    }

    /** Whether {@link #remove} removes a stopped domain's definition (template mode): else it is left defined. */
    default boolean removesOnDelete() {
        return removesStopped();
    }

    /** What exists now, from the hypervisor (not from memory). */
    Observation observe();

    /** True when a domain of the group that is not running is left over and should be removed (template mode). */
    boolean removesStopped();

    /** The libvirt URIs of the hosts, in the configuration's order. */
    List<String> hosts();

    /** The base image new replicas boot ({@code POOL/VOLUME}); "": the built-in guest. */
    default String image() {
        return "";
    }

    /**
     * New replicas boot {@code image} from now on (a rolling update replaces the others): checked first, on every
     * host that answers, to be a volume of the pool the group's image is in; an exception says why it is refused,
     * and nothing changed.
     */
    default void useImage(String image) {
        throw new IllegalArgumentException("this group runs the built-in guest: set application.image to run an "
                + "image of your own");
    }

    /**
     * The base images new replicas could boot: the qcow2 volumes of the group's storage pool that are not replicas'
     * own ({@code POOL/VOLUME}), on the first host that answers; empty for the built-in guest.
     */
    default List<String> images() {
        return List.of();
    }

    /** The running replicas of the group, lowest number first. */
    default List<Replica> running() {
        return observe().running();
    }
}
