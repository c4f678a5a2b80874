package io.vmscale.cli;

import io.vmscale.broker.BrokerConfig;
import io.vmscale.broker.Credentials;
import io.vmscale.broker.EmbeddedBroker;
import io.vmscale.broker.Role;
import io.vmscale.cli.common.ConfigOption;
import io.vmscale.cli.common.Local;
import io.vmscale.cli.config.VmscaleConfig;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "broker", mixinStandardHelpOptions = true,
        description = "Run the embedded broker alone, for components in other processes; stops on SIGTERM. "
                + "With --primary-with or --backup-of, one of a replicated live/backup pair (Artemis replication).")
final class BrokerCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;
    @Mixin
    io.vmscale.cli.common.MetricsOption metricsOption;
    @Option(names = "--backup-of", paramLabel = "HOST:PORT",
            description = "be the backup of the primary broker there: replicate its journal, take over when it is gone")
    String backupOf;
    @Option(names = "--primary-with", paramLabel = "HOST:PORT",
            description = "be the primary of a pair whose backup runs there (started with --backup-of this broker)")
    String primaryWith;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        if (backupOf != null && primaryWith != null) {
            throw new IllegalArgumentException("--backup-of and --primary-with exclude each other");
        }
        VmscaleConfig loaded = config.load();
        BrokerConfig brokerConfig = backupOf != null ? loaded.broker().withHa("backup", backupOf)
                : primaryWith != null ? loaded.broker().withHa("primary", primaryWith) : loaded.broker();
        EmbeddedBroker broker = EmbeddedBroker.start(brokerConfig);
        PrintWriter out = spec.commandLine().getOut();
        String role = switch (brokerConfig.haRole()) {
            case "backup" -> ", backup of " + brokerConfig.haPeer();
            case "primary" -> ", primary of a pair with " + brokerConfig.haPeer();
            default -> "";
        };
        out.printf("broker: listening on %s (started in %d ms)%s, data in %s%n", broker.tcpUrl(),
                broker.startupTime().toMillis(), role, broker.dataDir());
        if (brokerConfig.users().isEmpty()) {
            out.printf("broker: accounts in %s (one file per role)%n",
                    Credentials.file(broker.dataDir(), Role.COMPONENT).resolveSibling("*.credentials"));
        }
        out.flush();
        ScheduledExecutorService watch = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "broker-pair-watch");
            thread.setDaemon(true);
            return thread;
        });
        if (brokerConfig.haRole().equals("backup")) {
            // a status line for the operator (and the tests) when the backup is ready, and when it took over
            boolean[] said = new boolean[2];
            watch.scheduleWithFixedDelay(() -> {
                if (!said[0] && broker.backupInSync()) {
                    said[0] = true;
                    out.printf("broker: backup in sync with %s%n", brokerConfig.haPeer());
                    out.flush();
                }
                if (!said[1] && broker.live()) {
                    said[1] = true;
                    out.printf("broker: the primary %s is gone: this backup is live now%n", brokerConfig.haPeer());
                    out.flush();
                }
            }, 100, 100, TimeUnit.MILLISECONDS);
        }
        AutoCloseable metrics = metricsOption.serve("broker", out);
        Local.serveUntilStopped(() -> {
            metrics.close();
            watch.shutdownNow();
            broker.close();
        }, "broker");
        return 0;
    }
}
