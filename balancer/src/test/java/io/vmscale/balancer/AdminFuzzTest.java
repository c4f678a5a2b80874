package io.vmscale.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.Account;
import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.EmbeddedBroker;
import io.vmscale.broker.Role;
import io.vmscale.broker.TestBrokers;
import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.Envelope;
import io.vmscale.broker.event.EventCodec;
import io.vmscale.broker.event.Topic;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.MessageProducer;
import javax.jms.Session;
import javax.jms.TextMessage;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 10,000 bad admin messages through a real embedded broker to a running balancer: not JSON, deeply
 * nested, null bodies and arguments, oversized, deeply repeated words, too many arguments, unknown
 * commands, addresses outside the allowed networks, loads above the cap, foreign reply-to addresses.
 * Each one is answered with an error or counted and dropped; none changes anything; the balancer
 * answers {@code status} afterwards, and the heap after a GC is within 10 % of what it was before.
 */
class AdminFuzzTest {
    private static final int MESSAGES = 10_000;
    private static final String REPLY = Topic.REPLY_PREFIX + "fuzz";

    @TempDir
    Path dataDir;

    private final EventCodec codec = new EventCodec();
    private final Random random = new Random(13);
    private long seq;

    /** A valid envelope around a command, as JSON. */
    private String envelope(String replyTo, String command, List<String> args) {
        return codec.encode(Envelope.of(new AdminCommand("f" + seq, replyTo, "balancer", command, args),
                Instant.now(), "fuzz@test", ++seq));
    }

    private String randomText(int maxLength) {
        StringBuilder text = new StringBuilder();
        int length = random.nextInt(maxLength + 1);
        for (int i = 0; i < length; i++) {
            text.append((char) random.nextInt(i % 7 == 0 ? 0x3000 : 0x80));
        }
        return text.toString();
    }

    /** One bad message; says whether it must be answered (else: counted and dropped). */
    private record Bad(String text, boolean answered) {
    }

    private Bad next(int i) {
        String valid = envelope(REPLY, "status", List.of());
        return switch (i % 14) {
            case 0 -> new Bad(randomText(300), false); // not JSON
            case 1 -> new Bad(i % 28 == 1 ? "" : "   \n\t", false);
            case 2 -> new Bad("[".repeat(2_000 + random.nextInt(20_000)), false); // nested deeper than any parser's guard
            case 3 -> new Bad(valid.replaceFirst("\"body\":\\{.*}}$", "\"body\":null}"), false);
            case 4 -> new Bad(valid.replace("\"args\":[]", "\"args\":[null,\"low\"]"), false);
            case 5 -> new Bad(envelope(REPLY, "line", List.of("load ".repeat(2_000 + random.nextInt(8_000)) + "low")),
                    true); // `load load ... low`: once a StackOverflowError
            case 6 -> new Bad(envelope(REPLY, "load", Collections.nCopies(2_000 + random.nextInt(8_000), "load")), true);
            case 7 -> new Bad(envelope(REPLY, "x" + randomText(20), List.of(randomText(20), randomText(20))), true);
            case 8 -> new Bad(envelope(REPLY, "line", List.of("+ 127.0.0.1 " + "9".repeat(20_000 + random.nextInt(50_000)))),
                    true); // oversized
            case 9 -> new Bad(valid.replace("\"admin.command\"", "\"cpu.sample\""), false); // labelled as another type
            case 10 -> new Bad(envelope("vmscale.cpu", "line", List.of("high")), false); // reply-to not a reply address
            case 11 -> new Bad(envelope(REPLY, "add", List.of(random.nextInt(100) + ".8.8.8", "53")), true);
            case 12 -> new Bad(envelope(REPLY, "line", List.of("custom " + (9 + random.nextInt(990)))), true);
            default -> new Bad(envelope(REPLY, "line", List.of("+ 127.0.0.1 " + (70_000 + random.nextInt(10_000)))),
                    true); // port out of range
        };
    }

    /** Heap in use after a full collection (System.gc() is a full GC on HotSpot's G1 unless disabled). */
    private static long heapAfterGc() {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            used = Math.min(used, java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    @Test
    void tenThousandBadMessagesAreEachAnsweredWithAnErrorOrCountedAndDroppedAndStatusStillWorks() throws Exception {
        BlockingQueue<AdminResult> replies = new LinkedBlockingQueue<>();
        AtomicLong answered = new AtomicLong();
        AtomicLong answeredOk = new AtomicLong();
        try (EmbeddedBroker broker = EmbeddedBroker.start(TestBrokers.config(dataDir));
             BrokerConnection component = broker.connect(Role.COMPONENT, "balancer@test");
             BrokerConnection operator = broker.connect(Role.OPERATOR, "ops@test")) {
            Balancer.Settings settings = new Balancer.Settings(0, 1000, Map.of("low", 0.3, "mid", 0.5, "high", 0.85),
                    LoadMode.OFF, "least-outstanding", 8, Duration.ofSeconds(1), 3, Duration.ofSeconds(2),
                    Duration.ofMillis(200));
            try (BalancerService service = BalancerService.start(component, settings, List::of, null)) {
                operator.subscribe(REPLY, AdminResult.class, e -> {
                    if (e.body().requestId().startsWith("s")) { // the status commands around the fuzz
                        replies.add(e.body());
                        return;
                    }
                    answered.incrementAndGet();
                    if (e.body().ok()) {
                        answeredOk.incrementAndGet();
                    }
                });
                operator.publish(new AdminCommand("s0", REPLY, "balancer", "status", List.of()));
                assertThat(replies.poll(10, TimeUnit.SECONDS)).as("status before the fuzz").isNotNull();
                long heapBefore = heapAfterGc();
                Account account = broker.credentials().forRole(Role.OPERATOR).orElseThrow();
                long mustAnswer = 0;
                long mustDrop = 0;
                long large = 0; // may be refused by the broker for its size (8 KiB on the admin topic)
                try (ActiveMQConnectionFactory factory = new ActiveMQConnectionFactory(broker.inVmUrl(), account.user(),
                        account.password());
                     Connection raw = factory.createConnection()) {
                    Session session = raw.createSession(false, Session.AUTO_ACKNOWLEDGE);
                    MessageProducer producer = session.createProducer(session.createTopic(Topic.ADMIN.address()));
                    producer.setDeliveryMode(DeliveryMode.NON_PERSISTENT);
                    for (int i = 0; i < MESSAGES; i++) {
                        Bad bad = next(i);
                        TextMessage message = session.createTextMessage(bad.text());
                        // labelled as a command, so the broker hands it to the balancer's subscription (which
                        // selects on this property); unlabelled garbage never reaches the balancer at all
                        message.setStringProperty("type", "admin.command");
                        producer.send(message);
                        if (bad.text().length() > 3_500) {
                            large++;
                        }
                        if (bad.answered()) {
                            mustAnswer++;
                        } else {
                            mustDrop++;
                        }
                    }
                }
                long expectAnswered = mustAnswer;
                long expectDropped = mustDrop;
                // every message is accounted for once: answered, dropped or ignored by the balancer, or refused
                // for its size by the broker (a non-persistent send does not wait to hear it)
                try {
                    await().atMost(Duration.ofSeconds(60)).until(() -> answered.get() + component.malformedDropped()
                            + service.ignored() + broker.oversizedRefused() >= MESSAGES);
                } catch (org.awaitility.core.ConditionTimeoutException e) {
                    throw new AssertionError("answered " + answered + " of " + expectAnswered + ", dropped "
                            + component.malformedDropped() + " + ignored " + service.ignored() + " of " + expectDropped
                            + ", refused by the broker " + broker.oversizedRefused() + ", handler failures "
                            + component.handlerFailures(), e);
                }
                assertThat(answeredOk.get()).as("bad commands answered ok").isZero();
                assertThat(answered.get() + component.malformedDropped() + service.ignored() + broker.oversizedRefused())
                        .isEqualTo(MESSAGES);
                assertThat(answered.get()).isBetween(expectAnswered - broker.oversizedRefused(), expectAnswered);
                assertThat(component.malformedDropped() + service.ignored())
                        .isBetween(expectDropped - broker.oversizedRefused(), expectDropped);
                assertThat(broker.oversizedRefused()).as("only large messages are refused for their size")
                        .isLessThanOrEqualTo(large);
                assertThat(service.balancer().refusedCommands()).as("counted").isEqualTo(answered.get());
                assertThat(component.handlerFailures()).as("handler failures (a StackOverflowError was one)").isZero();
                assertThat(service.balancer().members()).as("nothing was added").isEmpty();

                operator.publish(new AdminCommand("s1", REPLY, "balancer", "status", List.of()));
                AdminResult status = replies.poll(10, TimeUnit.SECONDS);
                assertThat(status).as("status after the fuzz").isNotNull();
                assertThat(status.ok()).isTrue();
                assertThat(status.message()).startsWith("0 replica(s) in use, load off");
                assertThat(service.balancer().lastStats().mode()).isEqualTo("off");
                long heapAfter = heapAfterGc();
                assertThat((double) heapAfter).as("heap after a GC: %d bytes before, %d after", heapBefore, heapAfter)
                        .isLessThan(heapBefore * 1.1);
            }
        }
    }
}
