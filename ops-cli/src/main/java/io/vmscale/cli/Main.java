package io.vmscale.cli;

import io.vmscale.broker.BrokerException;
import io.vmscale.cli.bench.BenchCommand;
import io.vmscale.cli.console.ConsoleCommand;
import io.vmscale.cli.demo.DemoCommand;
import io.vmscale.cli.ops.OpsCommand;
import io.vmscale.cli.stack.UpCommand;
import io.vmscale.config.ConfigException;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.AutoComplete;
import picocli.CommandLine;

/** The {@code vmscale} command: one subcommand per role, plus the demo, benchmarks and operator tools. */
@Command(name = "vmscale", mixinStandardHelpOptions = true, version = "vmscale " + io.vmscale.cli.common.Version.NUMBER,
        description = "Elastic autoscaler for libvirt virtual machines.",
        subcommands = {
                DemoCommand.class,
                UpCommand.class,
                ConsoleCommand.class,
                TestCommand.class,
                BrokerCommand.class,
                MonitorCommand.class,
                io.vmscale.cli.stack.ScalerCommand.class,
                ImageCommand.class,
                BalancerCommand.class,
                GuestServerCommand.class,
                BenchCommand.class,
                OpsCommand.class,
                io.vmscale.cli.config.ConfigCommand.class,
                AutoComplete.GenerateCompletion.class,
        })
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with its error handling; tests set their own writers on it. */
    public static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new Main());
        commandLine.setExecutionExceptionHandler(Main::oneLineError);
        return commandLine;
    }

    /** Expected failures (bad configuration, broker refusals, bad input) are one line, not a stack trace. */
    private static int oneLineError(Exception e, CommandLine commandLine, CommandLine.ParseResult parseResult) {
        PrintWriter err = commandLine.getErr();
        if (e instanceof ConfigException || e instanceof BrokerException || e instanceof IllegalArgumentException
                || e instanceof java.io.IOException || e instanceof java.io.UncheckedIOException) {
            err.println(commandLine.getCommandSpec().qualifiedName(" ") + ": " + e.getMessage());
        } else {
            err.println(commandLine.getCommandSpec().qualifiedName(" ") + ": unexpected error: " + e);
            e.printStackTrace(err);
        }
        err.flush();
        return 1;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
