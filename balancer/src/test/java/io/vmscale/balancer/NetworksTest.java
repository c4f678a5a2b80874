package io.vmscale.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class NetworksTest {
    private final Networks defaults = Networks.parse(Networks.DEFAULT);

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(textBlock = """
            127.0.0.1,        true
            127.255.255.254,  true
            ::1,              true
            192.168.122.17,   true
            192.168.123.17,   false
            10.0.0.5,         false
            8.8.8.8,          false
            ::2,              false
            fe80::1,          false
            ::ffff:127.0.0.1, true
            localhost,        false
            999.1.1.1,        false
            '',               false
            """)
    void theDefaultIsLoopbackAndLibvirtsDefaultNetwork(String ip, boolean inside) {
        assertThat(defaults.contains(ip)).isEqualTo(inside);
    }

    @Test
    void blocksOfAnyLengthAndSingleHosts() {
        Networks networks = Networks.parse(List.of("10.0.0.0/8", "172.16.0.0/12", "203.0.113.7", "fd00::/8"));
        assertThat(networks.contains("10.200.1.1")).isTrue();
        assertThat(networks.contains("172.31.255.255")).isTrue();
        assertThat(networks.contains("172.32.0.1")).isFalse();
        assertThat(networks.contains("203.0.113.7")).isTrue();
        assertThat(networks.contains("203.0.113.8")).isFalse();
        assertThat(networks.contains("fd12::1")).isTrue();
        assertThat(networks.contains("fe12::1")).isFalse();
        assertThat(Networks.parse(List.of()).contains("127.0.0.1")).as("an empty list allows nothing").isFalse();
    }

    @Test
    void sayWhichEntryIsNotABlock() {
        for (String bad : List.of("10.0.0.0/33", "example.com/8", "10.0.0.0/x", "::/129", "10.0.0.0/8/8", "")) {
            assertThatThrownBy(() -> Networks.parse(List.of("127.0.0.0/8", bad)))
                    .hasMessage("allowed networks: '" + bad + "' is not a CIDR block such as 10.0.0.0/8 or fd00::/8");
        }
    }
}
