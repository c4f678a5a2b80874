package io.vmscale.cli.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.EmbeddedBroker;
import io.vmscale.broker.Role;
import io.vmscale.broker.TestBrokers;
import io.vmscale.broker.event.CpuSample;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.HostStatus;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import io.vmscale.broker.event.VmLifecycle;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /metrics} over HTTP, fed by events on a real broker, scraped and read by the Prometheus text
 * format's rules: every line a comment or a sample, every sample's metric announced by a TYPE line.
 */
class MetricsTest {
    private static final Pattern SAMPLE = Pattern.compile(
            "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(?:[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\]|\\\\.)*\",?)*})? (\\S+)( \\d+)?");
    private static final Pattern TYPE = Pattern.compile("# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)");

    @TempDir
    Path dir;

    @Test
    void theGroupsFiguresAreScrapedInThePrometheusTextFormat() throws Exception {
        try (EmbeddedBroker broker = EmbeddedBroker.start(TestBrokers.config(dir));
             BrokerConnection scaler = broker.connect(Role.COMPONENT, BrokerConnection.source("scaler"));
             BrokerConnection monitor = broker.connect(Role.COMPONENT, BrokerConnection.source("monitor"));
             BrokerConnection viewer = broker.connect(Role.VIEWER, "viewer@metrics-test");
             Metrics metrics = Metrics.serve(viewer, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                     java.util.List.of("vmscale", "web"))) {
            Endpoint at = new Endpoint("127.0.0.1", 21100);
            scaler.publish(new ScaleDecision(ScaleAction.UP, 0, 1, "threshold-window", "BelowMinReplicas", "min",
                    Map.of(), null));
            scaler.publish(new VmLifecycle("vmscale-0000", "qemu:///system", at, ReplicaState.STARTING, "scale up"));
            scaler.publish(new VmLifecycle("vmscale-0000", "qemu:///system", at, ReplicaState.READY, "answered"));
            scaler.publish(new VmLifecycle("vmscale-0001", "qemu:///system", new Endpoint("127.0.0.1", 21101),
                    ReplicaState.POOLED, "warmed, paused"));
            scaler.publish(new ScaleDecision(ScaleAction.HOLD, 1, 1, "threshold-window", "WindowNotFull", "w",
                    Map.of(), null));
            scaler.publish(new ScaleDecision(ScaleAction.HOLD, 1, 1, "threshold-window", "WindowNotFull", "w",
                    Map.of(), null));
            // the monitor's figures after the scaler's states are in (two publishers: no order between them)
            await().atMost(Duration.ofSeconds(10)).until(() -> scrape(metrics).containsKey(
                    "vmscale_replicas{group=\"vmscale\",state=\"POOLED\"}"));
            monitor.publish(new CpuSample("qemu:///system", "vmscale-0000", "RUNNING", 1, 0, 42.5, 1000));
            monitor.publish(new CpuSample("qemu:///system", "vmscale-0001", "RUNNING", 1, 0, 99.0, 1000));
            monitor.publish(new HostStatus("qemu:///system", true, "figures", 2, 61.0, 2, 24_000_000, 20_000_000));
            // 97 answers: 10 within 0.5 ms, 60 within 1 ms, 90 within 10 ms, all within 50 ms
            scaler.publish(new LbStats(100, 97, 2, 1, 95.5, 3.0, 7.0, 12.5,
                    Map.of(at.toString(), new LbStats.ServerStats(100, 97, 2, 1, 4, true, false)), "low", 1000, 0,
                    java.util.List.of(10L, 60L, 70L, 80L, 90L, 95L, 97L, 97L, 97L, 97L, 97L, 97L, 97L, 97L, 97L), 0.4));
            // a second group: its own replica, decisions and traffic driver's stats, labelled apart
            scaler.publish(new ScaleDecision(ScaleAction.UP, 0, 2, "threshold-window", "BelowMinReplicas", "min",
                    Map.of(), null, "web"));
            scaler.publish(new VmLifecycle("web-0000", "qemu:///system", new Endpoint("127.0.0.1", 21200),
                    ReplicaState.READY, "answered"));
            scaler.publish(new LbStats(7, 7, 0, 0, 1, 0, 0, 0, Map.of("127.0.0.1:21200",
                    new LbStats.ServerStats(7, 7, 0, 0, 3, false, false)), "haproxy", 1000).forGroup("web"));

            await().atMost(Duration.ofSeconds(10)).until(() -> scrape(metrics).containsKey("vmscale_balancer_sent_total{group=\"vmscale\"}")
                    && scrape(metrics).containsKey("vmscale_balancer_sent_total{group=\"web\"}")
                    && scrape(metrics).containsKey("vmscale_replicas{group=\"web\",state=\"READY\"}")
                    && scrape(metrics).containsKey("vmscale_host_up{host=\"qemu:///system\"}"));
            Map<String, Double> m = scrape(metrics);
            assertThat(m).containsEntry("vmscale_replica_cpu_ratio{domain=\"vmscale-0000\",group=\"vmscale\",host=\"qemu:///system\"}", 0.425)
                    .doesNotContainKey("vmscale_replica_cpu_ratio{domain=\"vmscale-0001\",group=\"vmscale\",host=\"qemu:///system\"}")
                    .containsEntry("vmscale_replica_state{domain=\"vmscale-0000\",group=\"vmscale\",state=\"READY\"}", 1.0)
                    .doesNotContainKey("vmscale_replica_state{domain=\"vmscale-0000\",group=\"vmscale\",state=\"STARTING\"}")
                    .containsEntry("vmscale_replicas{group=\"vmscale\",state=\"READY\"}", 1.0)
                    .containsEntry("vmscale_replicas{group=\"web\",state=\"READY\"}", 1.0)
                    .containsEntry("vmscale_replica_state{domain=\"web-0000\",group=\"web\",state=\"READY\"}", 1.0)
                    .containsEntry("vmscale_replicas{group=\"vmscale\",state=\"POOLED\"}", 1.0)
                    .containsEntry("vmscale_replicas_desired{group=\"vmscale\"}", 1.0)
                    .containsEntry("vmscale_replicas_desired{group=\"web\"}", 2.0)
                    .containsEntry("vmscale_decisions_total{action=\"UP\",group=\"vmscale\",reason=\"BelowMinReplicas\"}", 1.0)
                    .containsEntry("vmscale_decisions_total{action=\"HOLD\",group=\"vmscale\",reason=\"WindowNotFull\"}", 2.0)
                    .containsEntry("vmscale_decisions_total{action=\"UP\",group=\"web\",reason=\"BelowMinReplicas\"}", 1.0)
                    .containsEntry("vmscale_balancer_sent_total{group=\"vmscale\"}", 100.0)
                    .containsEntry("vmscale_balancer_sent_total{group=\"web\"}", 7.0)
                    .containsEntry("vmscale_balancer_answered_total{group=\"vmscale\"}", 97.0)
                    .containsEntry("vmscale_balancer_timed_out_total{group=\"vmscale\"}", 2.0)
                    .containsEntry("vmscale_balancer_wrong_total{group=\"vmscale\"}", 1.0)
                    .containsEntry("vmscale_balancer_request_duration_seconds_bucket{group=\"vmscale\",le=\"5.0E-4\"}", 10.0)
                    .containsEntry("vmscale_balancer_request_duration_seconds_bucket{group=\"vmscale\",le=\"0.001\"}", 60.0)
                    .containsEntry("vmscale_balancer_request_duration_seconds_bucket{group=\"vmscale\",le=\"0.01\"}", 90.0)
                    .containsEntry("vmscale_balancer_request_duration_seconds_bucket{group=\"vmscale\",le=\"+Inf\"}", 97.0)
                    .containsEntry("vmscale_balancer_request_duration_seconds_count{group=\"vmscale\"}", 97.0)
                    .containsEntry("vmscale_balancer_request_duration_seconds_sum{group=\"vmscale\"}", 0.4)
                    .containsEntry("vmscale_host_cpu_ratio{host=\"qemu:///system\"}", 0.61)
                    .containsEntry("vmscale_build_info{version=\"" + io.vmscale.cli.common.Version.NUMBER + "\"}", 1.0)
                    .containsKey("jvm_memory_used_bytes{area=\"heap\"}")
                    .containsKey("process_cpu_seconds_total")
                    .doesNotContainKeys("vmscale_balancer_answers_per_second", "vmscale_replica_cpu_percent")
                    .containsEntry("vmscale_balancer_replica_ejected{endpoint=\"127.0.0.1:21100\",group=\"vmscale\"}", 1.0)
                    .containsEntry("vmscale_balancer_replica_in_flight{endpoint=\"127.0.0.1:21200\",group=\"web\"}", 3.0)
                    .doesNotContainKey("vmscale_balancer_request_duration_seconds_count{group=\"web\"}")
                    .containsEntry("vmscale_host_up{host=\"qemu:///system\"}", 1.0)
                    .containsEntry("vmscale_host_active_vcpus{host=\"qemu:///system\"}", 2.0);

            // the Grafana dashboard reads these: each of its metrics is scraped, each panel but the hosts' by group
            com.fasterxml.jackson.databind.JsonNode dashboard = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(java.nio.file.Path.of("..", "docs", "grafana-dashboard.json").toFile());
            java.util.List<String> exprs = new java.util.ArrayList<>();
            dashboard.path("panels").forEach(panel -> panel.path("targets").forEach(t -> exprs.add(t.path("expr").asText())));
            assertThat(exprs).isNotEmpty();
            java.util.Set<String> scraped = new java.util.HashSet<>();
            m.keySet().forEach(k -> scraped.add(k.replaceAll("\\{.*", "")));
            for (String expr : exprs) {
                java.util.regex.Matcher names = Pattern.compile("vmscale_[a-z_]+").matcher(expr);
                while (names.find()) {
                    assertThat(scraped).as("the dashboard's %s", expr).contains(names.group());
                }
                if (!expr.contains("vmscale_host_")) {
                    assertThat(expr).as("a panel of groups' figures").contains("group=~\"$group\"");
                }
            }

            // a group made at run time is labelled from then on; a deleted one's figures go
            scaler.publish(new io.vmscale.broker.event.GroupChange("api", io.vmscale.broker.event.GroupChange.CREATED,
                    "{}", "created by an operator"));
            await().atMost(Duration.ofSeconds(10)).until(() -> scrape(metrics).containsKey(
                    "vmscale_replicas{group=\"api\",state=\"READY\"}"));
            scaler.publish(new io.vmscale.broker.event.GroupChange("web", io.vmscale.broker.event.GroupChange.DELETED,
                    "", "deleted by an operator"));
            await().atMost(Duration.ofSeconds(10)).until(() -> !scrape(metrics).containsKey(
                    "vmscale_balancer_sent_total{group=\"web\"}"));
            assertThat(scrape(metrics)).doesNotContainKeys("vmscale_replicas_desired{group=\"web\"}",
                            "vmscale_replicas{group=\"web\",state=\"READY\"}",
                            "vmscale_replica_state{domain=\"web-0000\",group=\"web\",state=\"READY\"}",
                            "vmscale_balancer_replica_in_flight{endpoint=\"127.0.0.1:21200\",group=\"web\"}")
                    .containsEntry("vmscale_replicas{group=\"vmscale\",state=\"READY\"}", 1.0)
                    .containsKey("vmscale_balancer_sent_total{group=\"vmscale\"}");

            scaler.publish(new VmLifecycle("vmscale-0000", "qemu:///system", at, ReplicaState.STOPPED, "scale down"));
            await().atMost(Duration.ofSeconds(10)).until(() -> !scrape(metrics).containsKey(
                    "vmscale_replica_state{domain=\"vmscale-0000\",group=\"vmscale\",state=\"READY\"}"));
            assertThat(scrape(metrics)).doesNotContainKey(
                    "vmscale_replica_cpu_ratio{domain=\"vmscale-0000\",group=\"vmscale\",host=\"qemu:///system\"}");
        }
    }

    /** GET /metrics, checked line by line against the text format; the samples by name and labels. */
    private static Map<String, Double> scrape(Metrics metrics) throws IOException, InterruptedException {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + metrics.port() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain; version=0.0.4");
        Map<String, Double> samples = new LinkedHashMap<>();
        java.util.Set<String> typed = new java.util.HashSet<>();
        for (String line : response.body().split("\n")) {
            if (line.isEmpty() || line.startsWith("# HELP ")) {
                continue;
            }
            Matcher type = TYPE.matcher(line);
            if (type.matches()) {
                typed.add(type.group(1));
                continue;
            }
            Matcher sample = SAMPLE.matcher(line);
            assertThat(sample.matches()).as("a sample line: %s", line).isTrue();
            String name = sample.group(1);
            assertThat(typed).as("TYPE announced before %s", name)
                    .anyMatch(t -> name.equals(t) || name.equals(t + "_total") || name.equals(t + "_created")
                            || name.equals(t + "_bucket") || name.equals(t + "_count") || name.equals(t + "_sum"));
            samples.put(name + (sample.group(2) == null ? "" : sample.group(2)), Double.parseDouble(sample.group(3)));
        }
        return samples;
    }
}
