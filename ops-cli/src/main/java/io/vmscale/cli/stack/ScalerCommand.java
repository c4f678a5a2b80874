package io.vmscale.cli.stack;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Role;
import io.vmscale.cli.common.BrokerClients;
import io.vmscale.cli.common.ConfigOption;
import io.vmscale.cli.common.Local;
import io.vmscale.cli.config.VmscaleConfig;
import io.vmscale.libvirt.HostConnection;
import io.vmscale.scaler.RuntimeSettings;
import io.vmscale.scaler.Scaler;
import io.vmscale.scaler.ScalerGroups;
import io.vmscale.scaler.provision.Provisioner;
import java.io.PrintWriter;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code vmscale scaler}: the scaler alone, against the configuration's broker over TCP (as {@code monitor} and
 * {@code balancer} run alone): it takes back the group's running replicas at its first look, decides on the samples
 * it hears, acts through libvirt and answers the operator's commands. Stops on SIGTERM, leaving the replicas as they
 * are (the next scaler takes them back). Several of one group may run: one acts, the lease {@code scaler.PREFIX} held on
 * the broker says which ({@link BrokerConnection#lease}); the others stand by, touching neither libvirt nor the
 * group's topics, and the next takes over as soon as the holder's connection is gone.
 */
@Command(name = "scaler", mixinStandardHelpOptions = true,
        description = "Run the scaler alone against the configuration's broker over TCP: it takes back the group's "
                + "running replicas, decides on the samples it hears, starts and stops replicas through libvirt and "
                + "answers operators' commands; stops on SIGTERM, leaving the replicas as they are. Several of one group "
                + "may run: the one holding the lease scaler.PREFIX on the broker acts, the others stand by and the next "
                + "takes over once the holder is gone.")
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
        String lease = "scaler." + c.libvirt().prefix();
        CountDownLatch holds = new CountDownLatch(1);
        long asked = System.nanoTime();
        BrokerConnection connection;
        try {
            // scaler@HOST/PID: several may run on one host (one acts, the others stand by); events say which acted
            connection = BrokerClients.connectAs(c.broker(), Role.COMPONENT,
                    BrokerConnection.source("scaler") + "/" + ProcessHandle.current().pid());
            running.add(connection);
            running.add(connection.lease(lease, holds::countDown));
            running.add(metricsOption.serve("scaler", out));
        } catch (RuntimeException e) {
            Stack.closeAll(running);
            throw e;
        }
        Thread actor = new Thread(() -> {
            try {
                if (!holds.await(1, TimeUnit.SECONDS)) {
                    out.printf("scaler: standing by: another scaler of %s-NNNN holds the lease %s on the broker %s%n",
                            c.libvirt().prefix(), lease, BrokerClients.url(c.broker()));
                    out.flush();
                    io.vmscale.cli.common.SystemdNotify.notify("STATUS=scaler: standing by (" + lease + " is held)");
                    holds.await();
                }
            } catch (InterruptedException e) {
                return;
            }
            try {
                act(c, connection, running, out, lease, (System.nanoTime() - asked) / 1_000_000);
                io.vmscale.cli.common.SystemdNotify.notify("STATUS=scaler: active (holds " + lease + ")");
            } catch (RuntimeException e) {
                out.println("scaler: " + e.getMessage());
                out.flush();
                System.exit(1);
            }
        }, "scaler-lease");
        actor.setDaemon(true);
        actor.start();
        Local.serveUntilStopped(() -> {
            actor.interrupt();
            Stack.closeAll(running);
        }, "scaler");
        return 0;
    }

    /**
     * Holding the lease: libvirt is touched from now on only. Should the broker go away, the lease may go to
     * another scaler meanwhile: this one stops at once (its service manager starts it again, to stand by), so that
     * two never act together.
     */
    private static void act(VmscaleConfig c, BrokerConnection connection, List<AutoCloseable> running, PrintWriter out,
                            String lease, long waitedMs) {
        List<HostConnection> hosts = Stack.openHosts(c, running);
        VmscaleConfig file = c;
        // the groups made at run time before (kept by the broker), over the file's
        io.vmscale.cli.config.RuntimeGroups kept = RunTimeGroupsWiring.kept(connection, out, "scaler");
        VmscaleConfig effective = RunTimeGroupsWiring.effective(file, kept, out, "scaler");
        String[] type = new String[1];
        List<Provisioner> provisioners = Stack.provisioners(effective, hosts, out, "scaler", type);
        ExecutorService keeping = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "scaler-keep");
            t.setDaemon(true);
            return t;
        });
        running.add(keeping::shutdownNow);
        RunTimeGroupsWiring.Starter start = new RunTimeGroupsWiring.Starter() {
            @Override
            public Provisioner provisioner(VmscaleConfig g) {
                return Stack.provisioner(g, hosts, out, "scaler", type);
            }

            @Override
            public Scaler start(VmscaleConfig g, Provisioner provisioner, java.util.Optional<RuntimeSettings> carried) {
                return ScalerCommand.start(g, provisioner, carried, c, connection, keeping, running, out);
            }
        };
        Map<String, Scaler> scalers = new LinkedHashMap<>();
        for (int i = 0; i < effective.all().size(); i++) {
            VmscaleConfig g = effective.all().get(i);
            scalers.put(g.name(), start.start(g, provisioners.get(i), java.util.Optional.empty()));
        }
        ScalerGroups groups = new ScalerGroups(scalers, connection.source(), new RunTimeGroupsWiring.Maker(file,
                effective, kept, start, connection, out, "scaler"));
        groups.listenTo(connection);
        for (Map.Entry<String, Scaler> each : scalers.entrySet()) {
            RuntimeSettings now = each.getValue().runtimeSettings();
            out.printf("scaler: %s, %d..%d replicas %s-NNNN on %s, on the broker %s, holding the lease %s (after %d ms)%n",
                    now.policy(), now.minReplicas(), now.maxReplicas(), each.getKey(),
                    String.join(", ", c.libvirt().uris()), BrokerClients.url(c.broker()), lease, waitedMs);
        }
        out.flush();
        ScheduledExecutorService watch = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "scaler-lease-watch");
            t.setDaemon(true);
            return t;
        });
        running.add(watch::shutdownNow);
        watch.scheduleWithFixedDelay(() -> {
            if (connection.brokerAway()) {
                out.printf("scaler: the broker is away: the lease %s may go to another scaler; stopping, so that one "
                        + "scaler acts at a time (started again, it stands by until it holds the lease)%n", lease);
                out.flush();
                groups.names().forEach(n -> groups.get(n).ifPresent(Scaler::close));
                System.exit(1);
            }
        }, 100, 100, TimeUnit.MILLISECONDS);
    }

    /**
     * A group's scaler, going on with what operators changed under the one before it: {@code carried} (a scaler of this
     * process replaced for a changed spec), else what the broker kept.
     */
    private static Scaler start(VmscaleConfig g, Provisioner provisioner, java.util.Optional<RuntimeSettings> carried,
                                VmscaleConfig c, BrokerConnection connection, ExecutorService keeping,
                                List<AutoCloseable> running, PrintWriter out) {
        String state = "scaler." + g.name();
        java.util.Optional<RuntimeSettings> restored = carried.isPresent() ? carried
                : connection.kept(state).flatMap(RuntimeSettings::fromJson);
        Scaler scaler = Scaler.start(g.scaler(), provisioner, connection::publish, c.libvirt().uris().get(0),
                connection.source(), Stack.settings(g), Clock.systemUTC(), restored,
                settings -> keeping.execute(() -> {
                    try {
                        connection.keep(state, settings.toJson());
                    } catch (RuntimeException e) {
                        out.println("scaler: could not keep operators' changes on the broker: " + e.getMessage());
                        out.flush();
                    }
                }));
        running.add(scaler);
        return scaler;
    }
}
