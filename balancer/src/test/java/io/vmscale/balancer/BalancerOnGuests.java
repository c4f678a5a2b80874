package io.vmscale.balancer;

import org.junit.jupiter.api.AfterEach;

/** A test of a balancer against real guest servers on loopback: both are closed after each test. */
abstract class BalancerOnGuests {
    final Guests guests = new Guests();
    Balancer balancer;

    @AfterEach
    void closeBalancerAndGuests() {
        if (balancer != null) {
            balancer.close();
        }
        guests.close();
    }
}
