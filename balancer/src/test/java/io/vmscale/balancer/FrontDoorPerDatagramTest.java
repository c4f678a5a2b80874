package io.vmscale.balancer;

/** {@link FrontDoorTest} with one datagram per system call: where the JDK does not let the balancer batch. */
class FrontDoorPerDatagramTest extends FrontDoorTest {
    @Override
    boolean batched() {
        return false;
    }
}
