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
    @Option(names = "--seconds", description = "measured seconds per run (default: 60 for idle, 30 for scale, 5 for the others)")
    Integer seconds;
    @Option(names = "--window", defaultValue = "16", description = "requests in flight (default: ${DEFAULT-VALUE})")
    int window;
    @Option(names = "--rounds", description = "runs of each path or setting (default: 3 for guest-server, 20 for haproxy, "
            + "5 for the others)")
    Integer rounds;
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
        if (rounds != null && rounds < 1 || seconds != null && seconds < 1) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    (rounds != null && rounds < 1 ? "--rounds " + rounds : "--seconds " + seconds) + ": must be 1 or more");
        }
        switch (name) {
            case "guest-server" -> GuestServerBench.run(out, Duration.ofSeconds(or(seconds, 5)), window, or(rounds, 3));
            case "broker" -> BrokerStartupBench.run(out, 5);
            case "monitor" -> MonitorBench.run(out, new int[] {1, 10, 50}, 50);
            case "balancer" -> BalancerBench.run(out, Home.dir(), Duration.ofSeconds(or(seconds, 5)), window,
                    or(rounds, 5), noNginx);
            case "boot" -> BootBench.run(out, Home.dir(), Home.resolve(config.load().provisioning().imageDir()), 5);
            case "haproxy" -> HaproxyBench.run(out, or(rounds, 20));
            case "http-boot" -> HttpBootBench.run(out, config.load(), or(rounds, 5));
            case "idle" -> IdleBench.run(out, config.load(), Duration.ofSeconds(or(seconds, 60)));
            case "scale-up" -> ScaleUpBench.run(out, config.load(), or(rounds, 5));
            case "scale" -> ScaleBench.run(out, sizes.stream().map(BenchCommand::size).toList(),
                    Duration.ofSeconds(or(seconds, 30)), or(rounds, 5), png);
            default -> throw new IllegalArgumentException("unknown benchmark '" + name
                    + "' (known: guest-server, broker, monitor, boot, http-boot, haproxy, balancer, idle, scale-up, scale)");
        }
        return 0;
    }

    /** The value given, or this benchmark's default when none was. */
    private static int or(Integer given, int byDefault) {
        return given == null ? byDefault : given;
    }

    private static ScaleBench.Size size(String text) {
        String[] parts = text.trim().split("x");
        if (parts.length != 2 || !parts[0].matches("\\d{1,4}") || !parts[1].matches("\\d{1,3}")) {
            throw new IllegalArgumentException("--sizes: '" + text + "' is not REPLICASxHOSTS (1000x50, say)");
        }
        return new ScaleBench.Size(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]));
    }
}
