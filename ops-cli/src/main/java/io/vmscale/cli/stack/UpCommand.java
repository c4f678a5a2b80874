package io.vmscale.cli.stack;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Role;
import io.vmscale.cli.common.ConfigOption;
import io.vmscale.cli.common.Local;
import io.vmscale.cli.config.VmscaleConfig;
import io.vmscale.cli.console.ConsoleCommand;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Broker, monitor, scaler and balancer in one JVM, from one configuration. */
@Command(name = "up", mixinStandardHelpOptions = true,
        description = "Run broker, monitor, scaler and balancer in one JVM with the configuration (the shipped one "
                + "works on a fresh machine: template mode, automatic domain type, loopback port forwards), "
                + "with Prometheus metrics and the web console on loopback; stops on SIGTERM, leaving the replica "
                + "domains as they are.")
public final class UpCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;
    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "9464",
            description = "serve Prometheus metrics on http://127.0.0.1:PORT/metrics (default: ${DEFAULT-VALUE}; "
                    + "0: none)")
    int metricsPort;
    @Option(names = "--metrics-bind", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
            description = "the address /metrics listens on (default: ${DEFAULT-VALUE}; 0.0.0.0 for a Prometheus on "
                    + "another host: the metrics carry domain and host names, no secret)")
    String metricsBind;
    @Option(names = "--console-port", paramLabel = "PORT", defaultValue = "" + ConsoleCommand.DEFAULT_PORT,
            description = "serve the web console on http://127.0.0.1:PORT/ (default: ${DEFAULT-VALUE}; 0: none)")
    int consolePort;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        var out = spec.commandLine().getOut();
        if (consolePort < 0 || consolePort > 65535) {
            throw new IllegalArgumentException("--console-port must be from 0 (none) to 65535, got " + consolePort);
        }
        VmscaleConfig loaded = config.load();
        Stack stack = Stack.start(loaded, out, "up", broker -> {
            List<AutoCloseable> serving = new ArrayList<>(); // closed in reverse
            try {
                if (metricsPort != 0) {
                    BrokerConnection viewer = broker.connect(Role.VIEWER, BrokerConnection.source("metrics"));
                    serving.add(viewer);
                    Metrics metrics = Metrics.serve(viewer, new InetSocketAddress(
                            io.vmscale.cli.common.MetricsOption.bindAddress(metricsBind), metricsPort),
                            loaded.all().stream().map(VmscaleConfig::name).toList());
                    serving.add(metrics);
                    out.printf("up: Prometheus metrics on http://%s:%d/metrics%n", metricsBind, metrics.port());
                    out.flush();
                }
                if (consolePort != 0) {
                    serving.add(ConsoleCommand.serve(loaded, consolePort, out, "up"));
                }
                return serving;
            } catch (RuntimeException e) {
                for (int i = serving.size() - 1; i >= 0; i--) {
                    try {
                        serving.get(i).close();
                    } catch (Exception suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
                throw e;
            }
        });
        Local.serveUntilStopped(stack, "up");
        return 0;
    }
}
