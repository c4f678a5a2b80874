package io.vmscale.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.platform.suite.api.SelectClasses;

/** Every {@code *RealVmTest} runs: surefire leaves them out of its own discovery, so each must be in the suite. */
class RealVmSuiteTest {
    @Test
    void everyRealVmTestIsInTheSuite() throws Exception {
        Path classes = Path.of(AllRealVmTests.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> found;
        try (Stream<Path> files = Files.walk(classes)) {
            found = files.map(p -> classes.relativize(p).toString())
                    .filter(name -> name.endsWith("RealVmTest.class"))
                    .map(name -> name.substring(0, name.length() - ".class".length()).replace('/', '.'))
                    .toList();
        }
        List<String> selected = Arrays.stream(AllRealVmTests.class.getAnnotation(SelectClasses.class).value())
                .map(Class::getName).toList();
        assertThat(found).as("the real-VM test classes compiled in %s", classes).isNotEmpty();
        assertThat(selected).as("AllRealVmTests' @SelectClasses").containsExactlyInAnyOrderElementsOf(found);
    }
}
