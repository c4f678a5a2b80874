package io.vmscale.scaler.policy;

import java.time.Instant;

/** One CPU reading of one replica. */
public record Sample(String domain, Instant at, double cpu) {
}
