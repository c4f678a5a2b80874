package io.vmscale.cli;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Role;
import io.vmscale.cli.common.BrokerClients;
import io.vmscale.cli.common.ConfigOption;
import io.vmscale.cli.common.Local;
import io.vmscale.cli.config.VmscaleConfig;
import io.vmscale.monitor.Monitor;
import io.vmscale.monitor.MonitorConfig;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
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
    @Option(names = "--uri", paramLabel = "URI", description = "Read this host of libvirt.uris only (repeatable), "
            + "instead of monitor.uris: one monitor per host, each on its host.")
    List<String> uris = new ArrayList<>();
    @Option(names = "--connect", paramLabel = "URI", description = "Reach the one --uri host through this URI "
            + "(qemu:///system on the host itself); its events still name it by --uri, as the scaler knows it.")
    String connect;

    @Override
    public Integer call() throws InterruptedException {
        VmscaleConfig loaded = config.load();
        MonitorConfig reads = uris.isEmpty() ? loaded.monitor() : loaded.monitor().withUris(uris);
        for (String uri : reads.uris()) {
            if (!loaded.libvirt().uris().contains(uri)) {
                throw new ParameterException(spec.commandLine(), "--uri " + uri + ": not one of libvirt.uris "
                        + loaded.libvirt().uris() + " in " + config.source());
            }
        }
        if (connect != null && reads.uris().size() != 1) {
            throw new ParameterException(spec.commandLine(), "--connect goes with exactly one --uri (the host it "
                    + "reaches), got " + reads.uris().size());
        }
        BrokerConnection connection = BrokerClients.connect(loaded.broker(), Role.COMPONENT, "monitor");
        PrintWriter out = spec.commandLine().getOut();
        // the groups made at run time (kept by the broker) are read too, and those made from now on
        VmscaleConfig effective = io.vmscale.cli.stack.Stack.effective(loaded, connection, out, "monitor");
        Monitor monitor = Monitor.start(loaded.libvirt(), effective.all().stream().map(VmscaleConfig::name).toList(),
                reads, connection::publish, uri -> connect == null ? uri : connect);
        AutoCloseable following = io.vmscale.cli.stack.Stack.followGroups(connection, monitor);
        List<String> read = reads.uris().isEmpty() ? loaded.libvirt().uris() : reads.uris();
        out.printf("monitor: domains %s-NNNN on %s%s, every %d ms, publishing to %s%n", String.join("-NNNN, ", monitor.prefixes()),
                String.join(", ", read), connect == null ? "" : " (through " + connect + ")",
                loaded.monitor().intervalMs(), BrokerClients.url(loaded.broker()));
        out.flush();
        AutoCloseable metrics = metricsOption.serve("monitor", out);
        Local.serveUntilStopped(() -> {
            metrics.close();
            try {
                following.close();
            } catch (Exception e) {
                // stopping anyway
            }
            monitor.close();
            connection.close();
        }, "monitor");
        return 0;
    }
}
