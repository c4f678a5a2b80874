package io.vmscale.scaler.provision;

import java.util.List;

/** Starts and stops replica domains of one prefix on one host; never touches any other domain. */
public interface Provisioner {

    /**
     * Starts one more replica and returns it; it may still be booting. On failure nothing is left
     * half-defined and the exception names the domain and the reason.
     */
    Replica scaleUp();

    /** The replica a scale-down should stop: the highest-numbered running one. */
    String scaleDownCandidate();

    /** Stops the replica at once (the caller has drained it) and, where configured, removes it. */
    void stop(String domain);

    /** The running replicas of the prefix, lowest number first. */
    List<Replica> running();
}
