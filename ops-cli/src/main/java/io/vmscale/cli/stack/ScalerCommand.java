package io.vmscale.cli.stack;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Role;
import io.vmscale.cli.common.BrokerClients;
import io.vmscale.cli.common.ConfigOption;
import io.vmscale.cli.common.Local;
import io.vmscale.cli.config.VmscaleConfig;
import io.vmscale.libvirt.HostConnection;
import io.vmscale.scaler.Scaler;
import io.vmscale.scaler.provision.Provisioner;
import java.io.PrintWriter;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code vmscale scaler}: the scaler alone, against the configuration's broker over TCP (as {@code monitor} and
 * {@code balancer} run alone): it takes back the group's running replicas at its first look, decides on the samples
 * it hears, acts through libvirt and answers the operator's commands. Stops on SIGTERM, leaving the replicas as they
 * are (the next scaler takes them back).
 */
@Command(name = "scaler", mixinStandardHelpOptions = true,
        description = "Run the scaler alone against the configuration's broker over TCP: it takes back the group's "
                + "running replicas, decides on the samples it hears, starts and stops replicas through libvirt and "
                + "answers operators' commands; stops on SIGTERM, leaving the replicas as they are.")
public final class ScalerCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;
    @Mixin
    io.vmscale.cli.common.MetricsOption metricsOption;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        VmscaleConfig c = config.load();
        PrintWriter out = spec.commandLine().getOut();
        List<AutoCloseable> running = Collections.synchronizedList(new ArrayList<>());
        try {
            List<HostConnection> hosts = new ArrayList<>();
            for (String uri : c.libvirt().uris()) {
                HostConnection host = HostConnection.open(uri);
                running.add(host);
                hosts.add(host);
            }
            if (!hosts.get(0).connected()) {
                throw new IllegalArgumentException(c.libvirt().uris().get(0) + " does not answer: is libvirtd running? "
                        + "(scripts/libvirt-daemons)");
            }
            Provisioner provisioner = Stack.provisioner(c, hosts, out, "scaler");
            BrokerConnection connection = BrokerClients.connect(c.broker(), Role.COMPONENT, "scaler");
            running.add(connection);
            Scaler scaler = Scaler.start(c.scaler(), provisioner, connection::publish, c.libvirt().uris().get(0),
                    connection.source(), Scaler.Settings.of(c.scaler(), c.balancer().work())
                            .withApplication(c.application()), Clock.systemUTC());
            running.add(scaler);
            scaler.listenTo(connection);
            out.printf("scaler: %s, %d..%d replicas %s-NNNN on %s, on the broker %s%n", c.scaler().policy(),
                    c.scaler().minReplicas(), c.scaler().maxReplicas(), c.libvirt().prefix(),
                    String.join(", ", c.libvirt().uris()), BrokerClients.url(c.broker()));
            out.flush();
            running.add(metricsOption.serve("scaler", out));
        } catch (RuntimeException e) {
            close(running);
            throw e;
        }
        Local.serveUntilStopped(() -> close(running), "scaler");
        return 0;
    }

    private static void close(List<AutoCloseable> running) {
        List<AutoCloseable> reversed = new ArrayList<>(running);
        Collections.reverse(reversed);
        for (AutoCloseable each : reversed) {
            try {
                each.close();
            } catch (Exception e) {
                System.err.println("scaler: did not stop cleanly: " + e);
            }
        }
    }
}
