package io.vmscale.balancer;

import io.vmscale.broker.event.Endpoint;

/**
 * What one replica served at saturation, measured by the {@link Calibrator} on the balancer's own
 * traffic: kept at {@code window} requests in flight (far more than a replica has workers, so its
 * workers never wait) for {@code seconds}, real requests first and the calibration's own only in the
 * room they left. Past the knee more requests only queue, so the answers per second there are the
 * capacity.
 *
 * @param replica           the replica measured
 * @param work              n of each request
 * @param capacityPerSecond answers per second it gave at saturation: real and filler
 * @param realPerSecond     of those, answers to real requests (the generator's and the front door's)
 * @param fillerPerSecond   of those, answers to the calibration's own requests, sent only where real ones left room
 * @param window            requests it was kept at in flight
 * @param seconds           how long the answers were counted (after the ramp)
 */
public record Calibration(Endpoint replica, long work, double capacityPerSecond, double realPerSecond,
                          double fillerPerSecond, int window, double seconds) {
}
