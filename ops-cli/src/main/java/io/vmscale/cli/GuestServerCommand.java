package io.vmscale.cli;

import io.vmscale.cli.common.ConfigOption;
import io.vmscale.cli.common.Local;
import io.vmscale.cli.config.GuestConfig;
import io.vmscale.guest.GuestServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "guest-server", mixinStandardHelpOptions = true,
        description = "Run the guest service on this host, without a VM (development, tests, benchmarks); "
                + "stops on SIGTERM and prints its counters.")
final class GuestServerCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;
    @Option(names = "--port", description = "UDP port (default: guest.port of the configuration)")
    Integer port;
    @Option(names = "--bind", defaultValue = "127.0.0.1", description = "address to bind (default: ${DEFAULT-VALUE})")
    String bind;
    @Option(names = "--workers", description = "worker threads (default: guest.workers, 0 = one per core)")
    Integer workers;
    @Option(names = "--queue", description = "queued requests before new ones are shed (default: guest.queue)")
    Integer queue;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        GuestConfig guest = config.load().guest();
        int threads = workers != null ? workers : guest.workers();
        GuestServer server = GuestServer.start(new GuestServer.Options(
                new InetSocketAddress(InetAddress.getByName(bind), port != null ? port : guest.port()),
                threads == 0 ? Runtime.getRuntime().availableProcessors() : threads,
                queue != null ? queue : guest.queue()));
        PrintWriter out = spec.commandLine().getOut();
        out.println("guest-server: listening on udp " + server.address().getAddress().getHostAddress() + ":"
                + server.address().getPort());
        out.flush();
        Local.serveUntilStopped(() -> {
            server.shutdown(Duration.ofSeconds(2));
            GuestServer.Counters c = server.counters();
            out.printf("guest-server: stopped, received=%d answered=%d malformed=%d rejected=%d%n",
                    c.received(), c.answered(), c.malformed(), c.rejected());
            out.flush();
        }, "guest-server");
        return 0;
    }
}
