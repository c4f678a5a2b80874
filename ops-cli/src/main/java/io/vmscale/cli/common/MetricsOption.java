package io.vmscale.cli.common;

import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import picocli.CommandLine.Option;

/**
 * {@code --metrics-port P [--metrics-bind ADDRESS]} of a component run on its own: its own {@code /metrics} (the
 * build, the JVM's and the process's metrics, labelled by nothing but what Prometheus' scrape adds), so each
 * process of a split deployment is watched like any other server. The group's figures are {@code up}'s.
 */
public final class MetricsOption {
    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "0",
            description = "serve this process's Prometheus metrics (build, JVM, process) on PORT (default: 0, none)")
    int port;
    @Option(names = "--metrics-bind", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
            description = "the address those metrics listen on (default: ${DEFAULT-VALUE})")
    String bind;

    /** The address {@code --metrics-bind} names, or an exception saying it is none. */
    public static InetAddress bindAddress(String bind) {
        try {
            return InetAddress.getByName(bind);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("--metrics-bind " + bind + ": not an address of this machine ("
                    + e.getMessage() + ")");
        }
    }

    /** Serves them when a port was given; what to close, or a no-op. */
    public AutoCloseable serve(String component, PrintWriter out) {
        if (port == 0) {
            return () -> { };
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--metrics-port must be from 0 (none) to 65535, got " + port);
        }
        InetAddress address = bindAddress(bind);
        PrometheusRegistry registry = new PrometheusRegistry();
        Gauge.builder().name("vmscale_build_info").help("1, labelled with the running vmscale's version and role")
                .labelNames("version", "component").register(registry).labelValues(Version.NUMBER, component).set(1);
        JvmMetrics.builder().register(registry);
        try {
            HTTPServer server = HTTPServer.builder().inetAddress(address).port(port).registry(registry).buildAndStart();
            out.printf("%s: Prometheus metrics on http://%s:%d/metrics%n", component, bind, server.getPort());
            out.flush();
            return server::close;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serve /metrics on " + bind + ":" + port + ": " + e.getMessage(), e);
        }
    }
}
