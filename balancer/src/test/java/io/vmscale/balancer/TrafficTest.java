package io.vmscale.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmscale.guest.Wire;
import org.junit.jupiter.api.Test;

class TrafficTest {
    @Test
    void theAnswerTableAgreesWithTheSquareAndMultiplyEverywhere() {
        for (long n = 0; n < 5000; n++) {
            assertThat(Traffic.expected(n)).as("n=%d", n).isEqualTo(Wire.expected(n));
        }
        for (long n : new long[] {Integer.MAX_VALUE, 1L << 31, Wire.MAX_N - 1, Wire.MAX_N}) {
            assertThat(Traffic.expected(n)).as("n=%d", n).isEqualTo(Wire.expected(n));
        }
    }
}
