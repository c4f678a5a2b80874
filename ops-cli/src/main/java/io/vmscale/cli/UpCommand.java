package io.vmscale.cli;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Role;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
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
    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "9464",
            description = "serve Prometheus metrics on http://127.0.0.1:PORT/metrics (default: ${DEFAULT-VALUE}; "
                    + "0: none)")
    int metricsPort;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        var out = spec.commandLine().getOut();
        Stack stack = Stack.start(config.load(), out, "up", broker -> {
            if (metricsPort == 0) {
                return List.of();
            }
            BrokerConnection viewer = broker.connect(Role.VIEWER, BrokerConnection.source("metrics"));
            try {
                Metrics metrics = Metrics.serve(viewer, new InetSocketAddress(InetAddress.getLoopbackAddress(), metricsPort));
                out.printf("up: Prometheus metrics on http://127.0.0.1:%d/metrics%n", metrics.port());
                out.flush();
                return List.of(viewer, metrics); // closed in reverse: the server, then its connection
            } catch (RuntimeException e) {
                viewer.close();
                throw e;
            }
        });
        Local.serveUntilStopped(stack, "up");
        return 0;
    }
}
