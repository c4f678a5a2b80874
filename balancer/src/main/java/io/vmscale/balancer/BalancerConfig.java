package io.vmscale.balancer;

import io.vmscale.config.InvalidValueException;
import java.util.List;

/**
 * The load generator and balancer.
 *
 * @param work                  n of each generated request (its cost on a replica)
 * @param replicaCapacity       requests per second one replica serves at that n (the load modes are fractions of
 *                              it); 0: measured on the first replica that joins
 * @param low                   the {@code low} load, in replicas' worth (0.3: 30 % of one replica)
 * @param mid                   the {@code mid} load
 * @param high                  the {@code high} load
 * @param initialMode           off, low, mid or high at start
 * @param dispatch              round-robin, least-outstanding or power-of-two
 * @param maxInFlightPerReplica requests in flight to one replica at most
 * @param timeoutMs             a request with no answer by then is counted timed out
 * @param ejectAfterTimeouts    timeouts in a row that eject a replica
 * @param ejectMs               first ejection period (doubles while its probes fail, up to 30 s)
 * @param statsIntervalMs       how often lb.stats is published
 * @param frontBind             address of the front door
 * @param frontPort             UDP port of the front door, 0 for none
 * @param profile               load steps played once from start (the last one stays), empty for none
 * @param slowStartMs           a replica that joins gets its share ramped up over this window (0: at once)
 * @param allowedNetworks       CIDR blocks {@code add IP PORT} accepts addresses from
 * @param maxLoad               the most {@code custom R} may ask for, replicas' worth
 * @param maxEjectedPercent     at most this share of the replicas ejected at once (at least one)
 */
public record BalancerConfig(long work, double replicaCapacity, double low, double mid, double high,
                             String initialMode, String dispatch, int maxInFlightPerReplica, int timeoutMs,
                             int ejectAfterTimeouts, int ejectMs, int statsIntervalMs, String frontBind, int frontPort,
                             java.util.List<ProfileStep> profile, int slowStartMs, List<String> allowedNetworks,
                             double maxLoad, int maxEjectedPercent) {
    public BalancerConfig {
        if (work < 0 || work > 0xFFFF_FFFFL) {
            throw new InvalidValueException("work", "an integer from 0 to 4294967295", work);
        }
        if (!(replicaCapacity >= 0) || replicaCapacity > 10_000_000) {
            throw new InvalidValueException("replicaCapacity", "requests per second, 0 to calibrate", replicaCapacity);
        }
        checkLoad("low", low);
        checkLoad("mid", mid);
        checkLoad("high", high);
        InvalidValueException.oneOf("initialMode", initialMode, List.of("off", "low", "mid", "high"));
        InvalidValueException.oneOf("dispatch", dispatch, List.of("round-robin", "least-outstanding", "power-of-two"));
        InvalidValueException.range("maxInFlightPerReplica", maxInFlightPerReplica, 1, 1024);
        InvalidValueException.range("timeoutMs", timeoutMs, 10, 600_000);
        InvalidValueException.range("ejectAfterTimeouts", ejectAfterTimeouts, 1, 1000);
        InvalidValueException.range("ejectMs", ejectMs, 10, 600_000);
        InvalidValueException.range("statsIntervalMs", statsIntervalMs, 100, 3_600_000);
        InvalidValueException.text("frontBind", frontBind);
        InvalidValueException.range("frontPort", frontPort, 0, 65535);
        profile = profile == null ? List.of() : List.copyOf(profile);
        InvalidValueException.range("slowStartMs", slowStartMs, 0, 600_000);
        allowedNetworks = allowedNetworks == null ? List.of() : List.copyOf(allowedNetworks);
        if (!(maxLoad > 0 && maxLoad <= 1000)) {
            throw new InvalidValueException("maxLoad", "more than 0 and at most 1000 replicas' worth", maxLoad);
        }
        InvalidValueException.range("maxEjectedPercent", maxEjectedPercent, 0, 100);
    }

    private static void checkLoad(String key, double replicas) {
        if (!(replicas >= 0 && replicas <= 1000)) {
            throw new InvalidValueException(key, "from 0 to 1000 replicas' worth", replicas);
        }
    }
}
