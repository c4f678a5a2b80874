package io.vmscale.cli;

import io.vmscale.broker.Credentials;
import io.vmscale.broker.EmbeddedBroker;
import io.vmscale.config.VmscaleConfig;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "broker", mixinStandardHelpOptions = true,
        description = "Run the embedded broker alone, for components in other processes; stops on SIGTERM.")
final class BrokerCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        VmscaleConfig loaded = config.load();
        EmbeddedBroker broker = EmbeddedBroker.start(loaded.broker());
        PrintWriter out = spec.commandLine().getOut();
        out.printf("broker: listening on %s (started in %d ms), data in %s%n", broker.tcpUrl(),
                broker.startupTime().toMillis(), broker.dataDir());
        if (loaded.broker().users().isEmpty()) {
            out.printf("broker: accounts in %s (one file per role)%n",
                    Credentials.file(broker.dataDir(), io.vmscale.broker.Role.COMPONENT).resolveSibling("*.credentials"));
        }
        out.flush();
        Local.serveUntilStopped(broker, "broker");
        return 0;
    }
}
