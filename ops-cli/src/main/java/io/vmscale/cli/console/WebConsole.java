package io.vmscale.cli.console;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.vmscale.broker.EmbeddedBroker;
import io.vmscale.cli.config.VmscaleConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The web console: one page and its assets over HTTP. The page is a client of the broker like every
 * other: it logs in with the broker's own accounts and speaks STOMP over WebSocket to the broker's
 * acceptor (a viewer sees, an operator acts: the broker decides). This server only hands out files,
 * the browser libraries from their WebJars on the class path, and the few settings the page needs; it
 * never sees a password and holds no connection to the broker.
 */
public final class WebConsole implements AutoCloseable {
    /**
     * What the page needs besides the events.
     *
     * @param brokerUrl     where the browser speaks STOMP over WebSocket ({@code ws://host:port})
     * @param high          the HIGH threshold line of the CPU chart, %
     * @param low           the LOW threshold line, %
     * @param windowSeconds how much history the charts keep
     */
    public record Settings(String brokerUrl, double high, double low, int windowSeconds) {
        public static Settings of(VmscaleConfig config) {
            return new Settings(EmbeddedBroker.webSocketUrl(config.broker()), config.scaler().thresholdWindow().high(),
                    config.scaler().thresholdWindow().low(), 180);
        }
    }

    private record Asset(byte[] body, String type) {
    }

    private static final String HERE = "io/vmscale/cli/console/";
    private final HttpServer server;
    private final ExecutorService threads;
    private final Map<String, Asset> assets = new HashMap<>();
    private final String securityPolicy;

    private WebConsole(InetSocketAddress at, Settings settings) throws IOException {
        asset("/", HERE + "index.html");
        asset("/console.js", HERE + "console.js");
        asset("/console.css", HERE + "console.css");
        asset("/lib/uPlot.iife.min.js", webJar("uplot", "dist/uPlot.iife.min.js"));
        asset("/lib/uPlot.min.css", webJar("uplot", "dist/uPlot.min.css"));
        asset("/lib/stomp.umd.min.js", webJar("stomp__stompjs", "bundles/stomp.umd.min.js"));
        assets.put("/settings.json", new Asset(json(settings), "application/json"));
        // the page runs its own scripts only and talks to nobody but this server and the broker
        securityPolicy = "default-src 'self'; connect-src 'self' " + settings.brokerUrl()
                + "; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'";
        threads = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "web-console");
            t.setDaemon(true);
            return t;
        });
        server = HttpServer.create(at, 16);
        server.createContext("/", this::handle);
        server.setExecutor(threads);
        server.start();
    }

    /** Serves the console on an address (loopback: the page is for this host, or a tunnel to it). */
    public static WebConsole serve(InetSocketAddress at, Settings settings) {
        try {
            return new WebConsole(at, settings);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serve the web console on " + at + ": " + e.getMessage(), e);
        }
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** The page's address, {@code http://host:port/}. */
    public URI uri() {
        InetSocketAddress at = server.getAddress();
        return URI.create("http://" + at.getAddress().getHostAddress() + ":" + at.getPort() + "/");
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            var headers = exchange.getResponseHeaders();
            headers.set("X-Content-Type-Options", "nosniff");
            headers.set("Cache-Control", "no-cache");
            if (!method.equals("GET") && !method.equals("HEAD")) {
                headers.set("Allow", "GET, HEAD");
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            Asset asset = assets.get(exchange.getRequestURI().getPath());
            if (asset == null) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            headers.set("Content-Type", asset.type());
            headers.set("Content-Security-Policy", securityPolicy);
            if (method.equals("HEAD")) {
                exchange.sendResponseHeaders(200, -1);
                return;
            }
            exchange.sendResponseHeaders(200, asset.body().length);
            exchange.getResponseBody().write(asset.body());
        }
    }

    private void asset(String path, String resource) throws IOException {
        try (InputStream in = WebConsole.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("the console's " + resource + " is not on the class path");
            }
            String name = resource.substring(resource.lastIndexOf('.') + 1);
            String type = switch (name) {
                case "html" -> "text/html; charset=utf-8";
                case "js" -> "text/javascript; charset=utf-8";
                case "css" -> "text/css; charset=utf-8";
                default -> "application/octet-stream";
            };
            assets.put(path, new Asset(in.readAllBytes(), type));
        }
    }

    /** A file of a WebJar on the class path, at the version that is there. */
    private static String webJar(String artifact, String file) throws IOException {
        String pom = "META-INF/maven/org.webjars.npm/" + artifact + "/pom.properties";
        try (InputStream in = WebConsole.class.getClassLoader().getResourceAsStream(pom)) {
            if (in == null) {
                throw new IOException("the WebJar " + artifact + " is not on the class path");
            }
            Properties properties = new Properties();
            properties.load(in);
            return "META-INF/resources/webjars/" + artifact + "/" + properties.getProperty("version") + "/" + file;
        }
    }

    private static byte[] json(Settings settings) {
        try {
            return new ObjectMapper().writeValueAsString(settings).getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}
