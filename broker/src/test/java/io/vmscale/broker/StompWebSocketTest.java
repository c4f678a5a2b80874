package io.vmscale.broker;

import io.vmscale.broker.event.Topic;
import static org.assertj.core.api.Assertions.assertThat;

import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.EventCodec;
import io.vmscale.broker.event.Envelope;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.VmLifecycle;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web console's way in: STOMP over WebSocket on the broker's TCP acceptor, with the broker's
 * accounts and the same least privilege (a viewer reads, an operator sends admin commands and gets the
 * answers on a reply address of its own). A JDK WebSocket client speaks the frames a browser would.
 */
class StompWebSocketTest {
    @TempDir
    Path dataDir;
    private EmbeddedBroker broker;
    private String url;

    @BeforeEach
    void start() {
        var config = TestBrokers.config(dataDir, TestBrokers.USERS);
        broker = EmbeddedBroker.start(config);
        url = EmbeddedBroker.webSocketUrl(config);
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    @Test
    void theUrlIsTheTcpAcceptorsPortAndWssBeyondLoopback() {
        assertThat(url).isEqualTo(broker.tcpUrl().replace("tcp://", "ws://"));
        assertThat(EmbeddedBroker.webSocketUrl(new BrokerConfig("10.1.2.3", 61616, "/tmp/x",
                List.of()))).isEqualTo("wss://10.1.2.3:61616");
    }

    @Test
    void aViewerReadsEventsAndMaySendNothing() throws Exception {
        try (Stomp viewer = Stomp.connect(url, "bob", "bob-secret-1");
             BrokerConnection scaler = broker.connect(Role.COMPONENT, "scaler@test")) {
            assertThat(viewer.next()).startsWith("CONNECTED");
            viewer.send("SUBSCRIBE\nid:all\ndestination:vmscale.*\nsubscription-type:MULTICAST\nack:auto\nreceipt:subscribed\n\n");
            assertThat(viewer.next()).startsWith("RECEIPT\nreceipt-id:subscribed");
            scaler.publish(new VmLifecycle("vmscale-0000", "test:///default", new Endpoint("127.0.0.1", 21100),
                    ReplicaState.READY, "answered"));
            String message = viewer.next();
            assertThat(message).startsWith("MESSAGE").contains("\ntype:vm.lifecycle\n")
                    .contains("\"domain\":\"vmscale-0000\"", "\"state\":\"READY\"");

            viewer.send("SEND\ndestination:vmscale.admin\ntype:admin.command\nreceipt:sent\n\n{}");
            // refused, and the refusal names the send it answers (then the broker ends the connection, as
            // STOMP 1.2 wants after an ERROR: the console logs in again)
            assertThat(viewer.next()).startsWith("ERROR").contains("receipt-id:sent").contains("address=vmscale.admin");
        }
    }

    @Test
    void anOperatorsCommandReachesAComponentAndTheAnswerComesBack() throws Exception {
        BlockingQueue<AdminCommand> commands = new LinkedBlockingQueue<>();
        try (BrokerConnection component = broker.connect(Role.COMPONENT, "scaler@test");
             Subscription ignored = component.subscribe(AdminCommand.class, e -> {
                 commands.add(e.body());
                 component.publish(e.body().replyTo(), new AdminResult(e.body().requestId(), "scaler@test", true,
                         "paused", Map.of()));
             });
             Stomp operator = Stomp.connect(url, "alice", "alice-secret")) {
            assertThat(operator.next()).startsWith("CONNECTED");
            String replyTo = Topic.REPLY_PREFIX + "console-test";
            operator.send("SUBSCRIBE\nid:replies\ndestination:" + replyTo + "\nsubscription-type:MULTICAST\n"
                    + "receipt:subscribed\n\n");
            assertThat(operator.next()).startsWith("RECEIPT");
            String command = new EventCodec().encode(Envelope.of(new AdminCommand("r1", replyTo, "scaler", "pause",
                    List.of()), Instant.now(), "console@test", 1));
            // no content-length: the broker then makes it a text message, as the components read them
            operator.send("SEND\ndestination:vmscale.admin\ntype:admin.command\npersistent:true\nreceipt:sent\n\n"
                    + command);
            assertThat(operator.next()).startsWith("RECEIPT\nreceipt-id:sent");
            assertThat(commands.poll(10, TimeUnit.SECONDS)).extracting(AdminCommand::command).isEqualTo("pause");
            assertThat(operator.next()).startsWith("MESSAGE").contains("\"requestId\":\"r1\"", "\"ok\":true");
        }
    }

    @Test
    void aWrongPasswordIsRefusedWithAMessage() throws Exception {
        try (Stomp wrong = Stomp.connect(url, "alice", "not-her-password")) {
            assertThat(wrong.next()).startsWith("ERROR").contains("User name [alice] or password is invalid");
        }
    }

    /** A STOMP 1.2 client over the JDK's WebSocket: one frame a message, as a browser's client sends them. */
    private static final class Stomp implements WebSocket.Listener, AutoCloseable {
        private final BlockingQueue<String> frames = new LinkedBlockingQueue<>();
        private final StringBuilder partial = new StringBuilder();
        private WebSocket socket;

        static Stomp connect(String url, String user, String password) throws Exception {
            Stomp stomp = new Stomp();
            stomp.socket = HttpClient.newHttpClient().newWebSocketBuilder().subprotocols("v12.stomp")
                    .connectTimeout(Duration.ofSeconds(5)).buildAsync(URI.create(url), stomp).get(10, TimeUnit.SECONDS);
            stomp.send("CONNECT\naccept-version:1.2\nhost:localhost\nlogin:" + user + "\npasscode:" + password
                    + "\nheart-beat:0,0\n\n");
            return stomp;
        }

        void send(String frame) throws Exception {
            socket.sendText(frame + "\0", true).get(5, TimeUnit.SECONDS);
        }

        /** The next frame from the broker, within 10 s. */
        String next() throws InterruptedException {
            String frame = frames.poll(10, TimeUnit.SECONDS);
            assertThat(frame).as("a frame from the broker within 10 s").isNotNull();
            return frame;
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            return received(webSocket, data, last);
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, java.nio.ByteBuffer data, boolean last) {
            return received(webSocket, java.nio.charset.StandardCharsets.UTF_8.decode(data), last);
        }

        private CompletionStage<?> received(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                for (String frame : partial.toString().split("\0")) {
                    if (!frame.isBlank()) {
                        frames.add(frame.stripLeading());
                    }
                }
                partial.setLength(0);
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public void close() {
            socket.abort();
        }
    }
}
