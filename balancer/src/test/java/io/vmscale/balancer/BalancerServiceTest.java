package io.vmscale.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.EmbeddedBroker;
import io.vmscale.broker.Role;
import io.vmscale.broker.TestBrokers;
import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.Topic;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.guest.GuestServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The balancer through a real embedded broker: lifecycle in, commands and replies, stats out. */
class BalancerServiceTest {
    @TempDir
    Path dataDir;

    @Test
    void joinsOnReadyAnswersOperatorCommandsAndPublishesStats() throws Exception {
        BlockingQueue<AdminResult> replies = new LinkedBlockingQueue<>();
        BlockingQueue<LbStats> stats = new LinkedBlockingQueue<>();
        try (EmbeddedBroker broker = EmbeddedBroker.start(TestBrokers.config(dataDir));
             GuestServer guest = GuestServer.start(GuestServer.Options.defaults(
                     new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)));
             BrokerConnection component = broker.connect(Role.COMPONENT, "balancer@test");
             BrokerConnection scaler = broker.connect(Role.COMPONENT, "scaler@test");
             BrokerConnection operator = broker.connect(Role.OPERATOR, "ops@test")) {
            Balancer.Settings settings = new Balancer.Settings(0, 1000, Map.of("low", 0.3, "mid", 0.5, "high", 0.85),
                    LoadMode.OFF, "least-outstanding", 8, Duration.ofSeconds(1), 3, Duration.ofSeconds(2),
                    Duration.ofMillis(200));
            try (BalancerService service = BalancerService.start(component, settings, List::of, null)) {
                operator.subscribe(Topic.REPLY_PREFIX + "op1", AdminResult.class, e -> replies.add(e.body()));
                operator.subscribe(LbStats.class, e -> stats.add(e.body()));
                Endpoint endpoint = new Endpoint("127.0.0.1", guest.address().getPort());
                scaler.publish(new VmLifecycle("vmscale-0000", "qemu:///system", endpoint, ReplicaState.READY, "probe"));
                operator.publish(new AdminCommand("c1", Topic.REPLY_PREFIX + "op1", "balancer", "line", List.of("low")));
                AdminResult result = replies.poll(10, TimeUnit.SECONDS);
                assertThat(result).isNotNull();
                assertThat(result.ok()).isTrue();
                assertThat(result.message()).isEqualTo("load low: 300.0 requests/s");
                operator.publish(new AdminCommand("c2", Topic.REPLY_PREFIX + "op1", "balancer", "line",
                        List.of("custom abc")));
                AdminResult refused = replies.poll(10, TimeUnit.SECONDS);
                assertThat(refused.ok()).isFalse();
                assertThat(refused.requestId()).isEqualTo("c2");
                // the READY went out on another connection than the commands: no order between them
                await().atMost(Duration.ofSeconds(10)).until(() -> service.balancer().members().equals(List.of(endpoint)));
                LbStats seen;
                do {
                    seen = stats.poll(10, TimeUnit.SECONDS);
                    assertThat(seen).as("lb.stats within 10 s").isNotNull();
                } while (seen.answered() < 20);
                assertThat(seen.mode()).isEqualTo("low");
                assertThat(seen.servers()).containsKey(endpoint.toString());
            }
        }
    }
}
