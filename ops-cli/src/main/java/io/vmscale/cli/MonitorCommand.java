package io.vmscale.cli;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Role;
import io.vmscale.cli.common.BrokerClients;
import io.vmscale.cli.common.ConfigOption;
import io.vmscale.cli.common.Local;
import io.vmscale.cli.config.VmscaleConfig;
import io.vmscale.monitor.Monitor;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "monitor", mixinStandardHelpOptions = true,
        description = "Run the monitor alone: read every replica domain's CPU through libvirt and publish samples "
                + "and lifecycle events to the broker over TCP; stops on SIGTERM.")
final class MonitorCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;
    @Mixin
    io.vmscale.cli.common.MetricsOption metricsOption;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        VmscaleConfig loaded = config.load();
        BrokerConnection connection = BrokerClients.connect(loaded.broker(), Role.COMPONENT, "monitor");
        Monitor monitor = Monitor.start(loaded.libvirt(), loaded.monitor(), connection::publish);
        PrintWriter out = spec.commandLine().getOut();
        out.printf("monitor: domains %s-NNNN on %s, every %d ms, publishing to %s%n", loaded.libvirt().prefix(),
                String.join(", ", loaded.libvirt().uris()), loaded.monitor().intervalMs(),
                BrokerClients.url(loaded.broker()));
        out.flush();
        AutoCloseable metrics = metricsOption.serve("monitor", out);
        Local.serveUntilStopped(() -> {
            metrics.close();
            monitor.close();
            connection.close();
        }, "monitor");
        return 0;
    }
}
