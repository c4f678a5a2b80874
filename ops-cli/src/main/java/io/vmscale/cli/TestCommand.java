package io.vmscale.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** Listed so that --help shows it; the ./vmscale launcher runs the suite with Maven before Java starts. */
@Command(name = "test", description = "Run the whole test suite, installing and starting what it needs "
        + "(run it as ./vmscale test: the launcher runs Maven).")
final class TestCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().getErr().println(
                "vmscale test: run it through the launcher at the repository root: ./vmscale test");
        return 2;
    }
}
