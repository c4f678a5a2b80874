package io.vmscale.cli.common;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The shipped logging configuration (main's {@code logback.xml}, not the tests'): text lines with the date and the
 * level, or JSON lines when {@code VMSCALE_LOG_FORMAT} says json (read like logback reads any variable: a system
 * property here, the environment in a service unit).
 */
class LoggingConfigTest {
    /** What one INFO line looks like with that format (null: the default). */
    private static String logged(String format) throws Exception {
        PrintStream stderr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter()); // what SLF4J's provider gives it
        try {
            if (format != null) {
                System.setProperty("VMSCALE_LOG_FORMAT", format);
            }
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            JoranConfigurator configurator = new JoranConfigurator();
            configurator.setContext(context);
            configurator.doConfigure(LoggingConfigTest.class.getResource("/logback.xml"));
            context.getLogger("io.vmscale.scaler.ReplicaActions").info("scaler: {} ready after {} ms", "web-0001", 42);
        } finally {
            context.stop();
            System.setErr(stderr);
            System.clearProperty("VMSCALE_LOG_FORMAT");
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    @Test
    void textLinesCarryTheDateTheOffsetAndTheLevel() throws Exception {
        assertThat(logged(null)).matches(
                "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d) INFO  ReplicaActions - scaler: web-0001 ready after 42 ms\\R");
    }

    @Test
    void jsonLinesAreOneObjectPerEvent() throws Exception {
        String line = logged("json").strip();
        assertThat(line).doesNotContain("\n");
        JsonNode event = new ObjectMapper().readTree(line);
        assertThat(event.get("level").asText()).isEqualTo("INFO");
        assertThat(event.get("loggerName").asText()).isEqualTo("io.vmscale.scaler.ReplicaActions");
        assertThat(event.get("formattedMessage").asText()).isEqualTo("scaler: web-0001 ready after 42 ms");
        assertThat(event.get("timestamp").asLong()).isPositive();
    }
}
