package io.vmscale.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Broker, monitor, scaler and balancer in one JVM, from one configuration. */
@Command(name = "up", mixinStandardHelpOptions = true,
        description = "Run broker, monitor, scaler and balancer in one JVM with the configuration (the shipped one "
                + "works on a fresh machine: template mode, automatic domain type, loopback port forwards); "
                + "stops on SIGTERM, leaving the replica domains as they are.")
final class UpCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Stack stack = Stack.start(config.load(), spec.commandLine().getOut(), "up");
        Local.serveUntilStopped(stack, "up");
        return 0;
    }
}
