package io.vmscale.broker;

import io.vmscale.broker.event.Envelope;
import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.EventCodec;
import io.vmscale.broker.event.EventFormatException;
import io.vmscale.broker.event.EventType;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.JMSException;
import javax.jms.JMSSecurityException;
import javax.jms.Message;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Session;
import javax.jms.TextMessage;
import javax.jms.Topic;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A component's connection to the broker: publish events, subscribe to event types. The only
 * class that touches JMS. Publishing is thread-safe; each subscription delivers its events one
 * at a time on a client thread. A malformed message is counted and dropped; an exception thrown
 * by a handler is logged and counted; neither ends the subscription.
 */
public final class BrokerConnection implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BrokerConnection.class);
    /** The JMS property that carries the event type, so that the broker filters subscriptions. */
    static final String TYPE_PROPERTY = "type";
    /** CPU samples and balancer stats older than this are worthless: expire them instead of queueing. */
    private static final Duration NON_PERSISTENT_TTL = Duration.ofSeconds(60);

    private final EventCodec codec = new EventCodec();
    private final String url;
    private final String user;
    private final String source;
    private final Clock clock;
    private final Connection connection;
    private final Session publishSession;
    private final MessageProducer producer;
    private final ReentrantLock publishLock = new ReentrantLock();
    private final Map<String, Topic> topics = new ConcurrentHashMap<>();
    private final AtomicLong seq = new AtomicLong();
    private final LongAdder malformed = new LongAdder();
    private final LongAdder handlerFailures = new LongAdder();

    private BrokerConnection(String url, String user, String source, Clock clock, Connection connection)
            throws JMSException {
        this.url = url;
        this.user = user;
        this.source = source;
        this.clock = clock;
        this.connection = connection;
        this.publishSession = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        this.producer = publishSession.createProducer(null);
    }

    /**
     * Connects and logs in.
     *
     * @param url      {@code vm://N} in the broker's JVM, {@code tcp://host:port} elsewhere
     * @param source   how this component signs its events, {@code component@host} (see {@link #source(String)})
     * @throws BrokerException when the broker cannot be reached or refuses the login
     */
    public static BrokerConnection open(String url, String user, String password, String source) {
        return open(url, user, password, source, Clock.systemUTC());
    }

    public static BrokerConnection open(String url, String user, String password, String source, Clock clock) {
        Connection connection = null;
        try {
            ActiveMQConnectionFactory factory = new ActiveMQConnectionFactory(url, user, password);
            // block on every send so that a refused send is an exception here, not a log line elsewhere
            factory.setBlockOnDurableSend(true);
            factory.setBlockOnNonDurableSend(true);
            factory.setReconnectAttempts(-1);
            factory.setRetryInterval(500);
            factory.setRetryIntervalMultiplier(2.0);
            factory.setMaxRetryInterval(10_000);
            connection = factory.createConnection();
            connection.setExceptionListener(e -> log.warn("broker connection {}: {}", url, e.toString()));
            BrokerConnection opened = new BrokerConnection(url, user, source, clock, connection);
            connection.start();
            return opened;
        } catch (JMSSecurityException e) {
            closeQuietly(connection);
            throw new BrokerException("broker " + url + " refused the login of user '" + user
                    + "': wrong user name or password", e);
        } catch (JMSException e) {
            closeQuietly(connection);
            throw new BrokerException("cannot connect to broker " + url + ": " + e.getMessage(), e);
        }
    }

    /** {@code component@host} for this host. */
    public static String source(String component) {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = System.getenv().getOrDefault("HOSTNAME", "localhost");
        }
        return component + "@" + host;
    }

    public String source() {
        return source;
    }

    /** Publishes on the event type's own topic. */
    public <T extends Event> Envelope<T> publish(T event) {
        EventType type = event.type();
        io.vmscale.broker.Topic topic = type.topic().orElseThrow(() -> new IllegalArgumentException(
                type + " has no topic of its own: publish it to an address"));
        return publish(topic.address(), event);
    }

    /** Publishes on an explicit address (a reply-to address, a replay topic). */
    public <T extends Event> Envelope<T> publish(String address, T event) {
        publishLock.lock(); // the sequence numbers go out in order
        try {
            Envelope<T> envelope = Envelope.of(event, clock.instant(), source, seq.incrementAndGet());
            republish(address, envelope);
            return envelope;
        } finally {
            publishLock.unlock();
        }
    }

    /**
     * Sends an envelope as it is (its type, timestamp, source and sequence number unchanged): how a
     * replay republishes an event log, and the one place that sends. Lifecycle, decisions and commands
     * are persistent; samples and stats are not, and expire.
     */
    public void republish(String address, Envelope<?> envelope) {
        boolean persistent = envelope.type().topic().map(io.vmscale.broker.Topic::persistent).orElse(true);
        publishLock.lock();
        try {
            TextMessage message = publishSession.createTextMessage(codec.encode(envelope));
            message.setStringProperty(TYPE_PROPERTY, envelope.type().wireName());
            producer.send(topic(address), message,
                    persistent ? DeliveryMode.PERSISTENT : DeliveryMode.NON_PERSISTENT,
                    Message.DEFAULT_PRIORITY, persistent ? Message.DEFAULT_TIME_TO_LIVE : NON_PERSISTENT_TTL.toMillis());
        } catch (JMSSecurityException e) {
            throw new BrokerException("user '" + user + "' may not publish " + envelope.type() + " to " + address
                    + ": " + e.getMessage(), e);
        } catch (JMSException e) {
            throw new BrokerException("cannot publish " + envelope.type() + " to " + address + " on " + url + ": "
                    + e.getMessage(), e);
        } finally {
            publishLock.unlock();
        }
    }

    private Topic topic(String address) {
        return topics.computeIfAbsent(address, a -> {
            try {
                return publishSession.createTopic(a);
            } catch (JMSException e) {
                throw new BrokerException("bad address " + a + ": " + e.getMessage(), e);
            }
        });
    }

    /** Subscribes to a type on its own topic; events published while not subscribed are not seen. */
    public <T extends Event> Subscription subscribe(Class<T> type, EventHandler<T> handler) {
        return subscribe(defaultAddress(type), type, handler);
    }

    /** Subscribes to a type on an explicit address. */
    public <T extends Event> Subscription subscribe(String address, Class<T> type, EventHandler<T> handler) {
        return listen(address, type, null, handler);
    }

    /**
     * A durable subscription: the broker keeps the events published while this component is away and
     * delivers them when it subscribes again with the same name.
     */
    public <T extends Event> Subscription subscribeDurable(String name, Class<T> type, EventHandler<T> handler) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a durable subscription needs a name");
        }
        return listen(defaultAddress(type), type, name, handler);
    }

    private static String defaultAddress(Class<? extends Event> type) {
        EventType eventType = EventType.of(type);
        return eventType.topic().orElseThrow(() -> new IllegalArgumentException(
                eventType + " has no topic of its own: subscribe to an address")).address();
    }

    /**
     * Every event on the addresses a wildcard matches ({@code vmscale.*}: the live topics;
     * {@code vmscale.replay.*}: a replay), through one queue, so in the order the broker routed them.
     */
    public Subscription subscribeAll(String wildcard, EventHandler<Event> handler) {
        return listen(wildcard, Event.class, null, handler);
    }

    private <T extends Event> Subscription listen(String address, Class<T> type, String durableName,
                                                  EventHandler<T> handler) {
        Session session = null;
        try {
            session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Topic topic = session.createTopic(address);
            String selector = type == Event.class ? null
                    : TYPE_PROPERTY + " = '" + EventType.of(type).wireName() + "'";
            MessageConsumer consumer = durableName == null
                    ? session.createConsumer(topic, selector)
                    : session.createSharedDurableConsumer(topic, durableName, selector);
            consumer.setMessageListener(message -> deliver(address, type, handler, message));
            Session opened = session;
            return () -> closeQuietly(opened);
        } catch (JMSSecurityException e) {
            closeQuietly(session);
            throw new BrokerException("user '" + user + "' may not subscribe to " + address + ": " + e.getMessage(), e);
        } catch (JMSException e) {
            closeQuietly(session);
            throw new BrokerException("cannot subscribe to " + address + " on " + url + ": " + e.getMessage(), e);
        }
    }

    private <T extends Event> void deliver(String address, Class<T> type, EventHandler<T> handler, Message message) {
        Envelope<? extends Event> envelope;
        try {
            envelope = codec.decode(message.getBody(String.class));
        } catch (EventFormatException | JMSException e) {
            malformed.increment();
            log.warn("dropped a malformed message on {}: {}", address, e.getMessage());
            return;
        }
        if (!type.isInstance(envelope.body())) {
            malformed.increment();
            log.warn("dropped a {} on {} labelled as {}", envelope.type(), address, type.getSimpleName());
            return;
        }
        @SuppressWarnings("unchecked")
        Envelope<T> typed = (Envelope<T>) envelope;
        try {
            handler.handle(typed);
        } catch (Exception e) {
            handlerFailures.increment();
            log.error("handler of {} on {} failed on seq {} from {}", typed.type(), address, typed.seq(),
                    typed.source(), e);
        }
    }

    /** Messages dropped because they were not valid events. */
    public long malformedDropped() {
        return malformed.sum();
    }

    /** Events whose handler threw. */
    public long handlerFailures() {
        return handlerFailures.sum();
    }

    @Override
    public void close() {
        closeQuietly(connection);
    }

    private static void closeQuietly(AutoCloseable closeable) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (Exception e) {
            log.debug("close failed: {}", e.toString());
        }
    }
}
