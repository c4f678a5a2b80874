package io.vmscale.cli.console;

import io.vmscale.cli.common.ConfigOption;
import io.vmscale.cli.common.Local;
import io.vmscale.cli.config.VmscaleConfig;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code vmscale console}: the web console alone, for a broker that runs already. */
@Command(name = "console", mixinStandardHelpOptions = true,
        description = "Serve the web console on loopback for the configuration's running broker: the page logs in "
                + "with a broker account and speaks STOMP over WebSocket to the broker; stops on SIGTERM.")
public final class ConsoleCommand implements Callable<Integer> {
    public static final int DEFAULT_PORT = 9465;

    @Mixin
    ConfigOption config;
    @Option(names = "--port", paramLabel = "PORT", defaultValue = "" + DEFAULT_PORT,
            description = "serve on http://127.0.0.1:PORT/ (default: ${DEFAULT-VALUE}; 0: any free port)")
    int port;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port must be from 0 to 65535, got " + port);
        }
        WebConsole console = serve(config.load(), port, spec.commandLine().getOut(), "console");
        Local.serveUntilStopped(console, "console");
        return 0;
    }

    /** Serves the console on loopback and says where, as {@code NAME: web console on ...}. */
    public static WebConsole serve(VmscaleConfig config, int port, PrintWriter out, String name) {
        WebConsole.Settings settings = WebConsole.Settings.of(config);
        WebConsole console = WebConsole.serve(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), settings);
        out.printf("%s: web console on %s (the page speaks to the broker at %s)%n", name, console.uri(),
                settings.brokerUrl());
        out.flush();
        return console;
    }
}
