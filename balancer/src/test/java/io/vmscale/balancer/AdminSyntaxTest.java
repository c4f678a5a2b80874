package io.vmscale.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vmscale.broker.event.Endpoint;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class AdminSyntaxTest {
    @Test
    void readsTheOriginalSyntax() throws Exception {
        assertThat(AdminSyntax.parseLine("+ 10.0.0.5 21001")).isEqualTo(new AdminSyntax.Add(new Endpoint("10.0.0.5", 21001)));
        assertThat(AdminSyntax.parseLine("  -   127.0.0.1  9 ")).isEqualTo(new AdminSyntax.Remove(new Endpoint("127.0.0.1", 9)));
        assertThat(AdminSyntax.parseLine("clear_servers")).isEqualTo(new AdminSyntax.Clear());
        assertThat(AdminSyntax.parseLine("refresh")).isEqualTo(new AdminSyntax.Refresh());
        assertThat(AdminSyntax.parseLine("low")).isInstanceOf(AdminSyntax.Load.class);
        assertThat(AdminSyntax.parseLine("HIGH")).extracting(c -> ((AdminSyntax.Load) c).mode()).isEqualTo("high");
        assertThat(AdminSyntax.parseLine("custom 0.3")).isEqualTo(new AdminSyntax.Load("custom", 0.3));
        assertThat(AdminSyntax.parseLine("+ ::1 21001")).isEqualTo(new AdminSyntax.Add(new Endpoint("::1", 21001)));
    }

    @Test
    void readsTheNamedForm() throws Exception {
        assertThat(AdminSyntax.parse("add", List.of("127.0.0.1", "21001"))).isInstanceOf(AdminSyntax.Add.class);
        assertThat(AdminSyntax.parse("load", List.of("custom", "2.5"))).isEqualTo(new AdminSyntax.Load("custom", 2.5));
        assertThat(AdminSyntax.parse("clear", List.of())).isEqualTo(new AdminSyntax.Clear());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            + 1.2.3              | '+' needs an IP address and a port, as in '+ 10.0.0.5 21001'
            + 1.2.3.4            | '+' needs an IP address and a port
            custom abc           | 'custom' needs a number, as in 'custom 0.3'; got 'abc'
            custom -1            | 'custom' load must be from 0 to 1000 replicas' worth; got -1
            custom NaN           | 'custom' load must be from 0 to 1000
            custom               | 'custom' needs one number
            - 999.1.1.1 0        | '999.1.1.1' is not an IP address
            - 1.1.1.1 0          | port must be 1..65535; got 0
            + 1.1.1.1 http       | 'http' is not a port number
            + example.com 21001  | 'example.com' is not an IP address
            low please           | 'low' takes no arguments
            frobnicate           | unknown command 'frobnicate'
            """)
    void saysWhatIsWrong(String line, String message) {
        assertThatThrownBy(() -> AdminSyntax.parseLine(line)).isInstanceOf(AdminSyntax.Malformed.class)
                .hasMessageContaining(message);
    }

    @Test
    void refusesEmptyAndHugeInput() {
        assertThatThrownBy(() -> AdminSyntax.parseLine("")).hasMessageStartingWith("empty command");
        assertThatThrownBy(() -> AdminSyntax.parseLine("   \t")).hasMessageStartingWith("empty command");
        String garbage = "x".repeat(10_000);
        assertThatThrownBy(() -> AdminSyntax.parseLine(garbage)).hasMessage(
                "command too long (10000 characters, at most 200)");
        assertThatThrownBy(() -> AdminSyntax.parseLine("\u0000\u0001\u0002")).hasMessageContaining("unknown command '???'");
    }

    @Test
    void repeatedWordsAreRefusedWithoutRecursion() {
        // once `load load ... low` recursed per word: 10k words overflowed the stack
        List<String> loads = new java.util.ArrayList<>(java.util.Collections.nCopies(100_000, "load"));
        loads.add("low");
        assertThatThrownBy(() -> AdminSyntax.parse("load", loads)).hasMessage("too many arguments (100001, at most 8)");
        assertThatThrownBy(() -> AdminSyntax.parse("load", List.of("load", "low")))
                .hasMessage("unknown command 'load' after 'load': it needs low, mid, high, off or custom R");
        assertThatThrownBy(() -> AdminSyntax.parseLine("load load low"))
                .hasMessage("unknown command 'load' after 'load': it needs low, mid, high, off or custom R");
        assertThatThrownBy(() -> AdminSyntax.parse("load", List.of())).hasMessageContaining("'load' needs");
    }

    @Test
    void missingAndOversizedArgumentsAreRefused() throws Exception {
        assertThatThrownBy(() -> AdminSyntax.parse("add", java.util.Arrays.asList("127.0.0.1", null)))
                .hasMessage("an argument is missing (null)");
        assertThatThrownBy(() -> AdminSyntax.parse("add", List.of("127.0.0.1", "1".repeat(201))))
                .hasMessage("argument too long (201 characters, at most 200)");
        assertThatThrownBy(() -> AdminSyntax.parse("", List.of())).hasMessage("empty command");
        assertThat(AdminSyntax.parse("load", List.of("off"))).isEqualTo(new AdminSyntax.Load("off", 0));
        assertThat(AdminSyntax.parse("LOAD", List.of("Mid"))).extracting(c -> ((AdminSyntax.Load) c).mode())
                .isEqualTo("mid");
    }
}
