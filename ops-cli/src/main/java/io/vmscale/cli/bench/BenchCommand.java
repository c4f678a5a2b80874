package io.vmscale.cli.bench;

import io.vmscale.cli.common.ConfigOption;
import io.vmscale.cli.common.Home;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code vmscale bench NAME}: runs one benchmark and prints the figures that BENCHMARKS.md quotes. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Run a benchmark and print the figures that BENCHMARKS.md quotes. NAME: guest-server, broker, monitor, boot, http-boot, haproxy, balancer, idle, scale-up.")
public final class BenchCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "NAME", description = "guest-server, broker, monitor, boot, http-boot, haproxy, balancer, idle or scale-up")
    String name;
    @Option(names = "--seconds", defaultValue = "5", description = "measured seconds per run (default: ${DEFAULT-VALUE})")
    int seconds;
    @Option(names = "--window", defaultValue = "16", description = "requests in flight (default: ${DEFAULT-VALUE})")
    int window;
    @Option(names = "--rounds", defaultValue = "3", description = "runs of each server (default: ${DEFAULT-VALUE})")
    int rounds;
    @Option(names = "--no-nginx", description = "balancer: straight and front door only (quick looks; no ratios to nginx)")
    boolean noNginx;
    @picocli.CommandLine.Mixin
    ConfigOption config;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        switch (name) {
            case "guest-server" -> GuestServerBench.run(out, Duration.ofSeconds(seconds), window, rounds);
            case "broker" -> BrokerStartupBench.run(out, 5);
            case "monitor" -> MonitorBench.run(out, new int[] {1, 10, 50}, 50);
            case "balancer" -> BalancerBench.run(out, Home.dir(), Duration.ofSeconds(seconds), window,
                    rounds == 3 ? 5 : rounds, noNginx);
            case "boot" -> BootBench.run(out, Home.dir(), Home.resolve(config.load().provisioning().imageDir()), 5);
            case "haproxy" -> HaproxyBench.run(out, rounds == 3 ? 20 : rounds);
            case "http-boot" -> HttpBootBench.run(out, config.load(), rounds == 3 ? 5 : rounds);
            case "idle" -> IdleBench.run(out, config.load(), Duration.ofSeconds(seconds == 5 ? 60 : seconds));
            case "scale-up" -> ScaleUpBench.run(out, config.load(), rounds == 3 ? 5 : rounds);
            default -> throw new IllegalArgumentException("unknown benchmark '" + name
                    + "' (known: guest-server, broker, monitor, boot, http-boot, haproxy, balancer, idle, scale-up)");
        }
        return 0;
    }
}
