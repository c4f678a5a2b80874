package io.vmscale.cli.bench;

import io.vmscale.cli.common.ConfigOption;
import io.vmscale.cli.common.Home;
import java.io.PrintWriter;
import java.time.Duration;
import io.vmscale.cli.bench.scale.ScaleBench;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code vmscale bench NAME}: runs one benchmark and prints the figures that BENCHMARKS.md quotes. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Run a benchmark and print the figures that BENCHMARKS.md quotes. NAME: guest-server, broker, monitor, boot, http-boot, haproxy, balancer, idle, scale-up, scale.")
public final class BenchCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "NAME", description = "guest-server, broker, monitor, boot, http-boot, haproxy, balancer, idle, scale-up or scale")
    String name;
    @Option(names = "--seconds", defaultValue = "5", description = "measured seconds per run (default: ${DEFAULT-VALUE})")
    int seconds;
    @Option(names = "--window", defaultValue = "16", description = "requests in flight (default: ${DEFAULT-VALUE})")
    int window;
    @Option(names = "--rounds", defaultValue = "3", description = "runs of each server (default: ${DEFAULT-VALUE})")
    int rounds;
    @Option(names = "--no-nginx", description = "balancer: straight and front door only (quick looks; no ratios to nginx)")
    boolean noNginx;
    @Option(names = "--sizes", defaultValue = "10x1,100x10,300x10,1000x50", split = ",",
            description = "scale: replicas x hosts to measure (default: ${DEFAULT-VALUE})")
    List<String> sizes;
    @Option(names = "--png", paramLabel = "FILE", description = "scale: draw the curves into this PNG")
    java.nio.file.Path png;
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
            case "scale" -> ScaleBench.run(out, sizes.stream().map(BenchCommand::size).toList(),
                    Duration.ofSeconds(seconds == 5 ? 30 : seconds), rounds == 3 ? 5 : rounds, png);
            default -> throw new IllegalArgumentException("unknown benchmark '" + name
                    + "' (known: guest-server, broker, monitor, boot, http-boot, haproxy, balancer, idle, scale-up, scale)");
        }
        return 0;
    }

    private static ScaleBench.Size size(String text) {
        String[] parts = text.trim().split("x");
        if (parts.length != 2 || !parts[0].matches("\\d{1,4}") || !parts[1].matches("\\d{1,3}")) {
            throw new IllegalArgumentException("--sizes: '" + text + "' is not REPLICASxHOSTS (1000x50, say)");
        }
        return new ScaleBench.Size(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]));
    }
}
