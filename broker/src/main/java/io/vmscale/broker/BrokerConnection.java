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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
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
import org.apache.activemq.artemis.api.core.client.FailoverEventType;
import org.apache.activemq.artemis.jms.client.ActiveMQConnection;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A component's connection to the broker: publish events, subscribe to event types. The only
 * class that touches JMS.
 *
 * <p>Publishing never waits on the broker: {@link #publish} stamps the envelope and hands it to a
 * bounded {@link Outbox} that this connection's own publisher thread drains, confirmed by the broker
 * one event at a time, in order. What happens to an event while the broker is away is decided by its
 * type ({@link Delivery}): periodic figures are dropped and counted, facts are kept (bounded) and
 * sent once the broker is back; operators' commands are sent and confirmed on the caller's thread.
 * A lost connection is re-established by Artemis (every subscription with it, on the same
 * connection); closing takes a few seconds at most, broker or not.
 *
 * <p>Each subscription delivers its events one at a time on a client thread. A malformed message is
 * counted and dropped; an exception thrown by a handler is logged and counted; neither ends the
 * subscription.
 */
public final class BrokerConnection implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BrokerConnection.class);
    /** The JMS property that carries the event type, so that the broker filters subscriptions. */
    static final String TYPE_PROPERTY = "type";
    /** CPU samples and balancer stats older than this are worthless: expire them instead of queueing. */
    private static final Duration NON_PERSISTENT_TTL = Duration.ofSeconds(60);
    /** Bytes of sends the broker may leave unconfirmed before it confirms them. */
    private static final int CONFIRMATION_WINDOW = 256 * 1024;
    /** Events waiting for the publisher thread at most; see {@link Outbox} for what is dropped first. */
    public static final int OUTBOX_CAPACITY = 10_000;
    /** How long a blocking call to the broker (a confirmed send, a subscription) waits at most. */
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
    /** At close: how long queued events may take to go out, then how long the connection may take to close. */
    static final Duration CLOSE_FLUSH = Duration.ofSeconds(2);
    static final Duration CLOSE_CONNECTION = Duration.ofSeconds(2);

    private final EventCodec codec = new EventCodec();
    private final String url;
    private final String user;
    private final String source;
    private final Clock clock;
    private final Connection connection;
    /** Used by the publisher thread only. */
    private final Session outboxSession;
    private final MessageProducer outboxProducer;
    private final OutboxPublisher publisher;
    /** Confirmed sends and republished envelopes, on the caller's thread, under {@link #confirmedLock}. */
    private final Session confirmedSession;
    private final MessageProducer confirmedProducer;
    private final ReentrantLock confirmedLock = new ReentrantLock();
    private final ReentrantLock sequenceLock = new ReentrantLock();
    private final Outbox outbox = new Outbox(OUTBOX_CAPACITY);
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile long awaySince;
    private final Map<String, Topic> topics = new ConcurrentHashMap<>();
    private final AtomicLong seq = new AtomicLong();
    private final LongAdder malformed = new LongAdder();
    private final LongAdder handlerFailures = new LongAdder();
    private final LongAdder refused = new LongAdder();
    private final LongAdder outages = new LongAdder();
    private final List<Runnable> reconnectListeners = new CopyOnWriteArrayList<>();

    private BrokerConnection(String url, String user, String source, Clock clock, Connection connection)
            throws JMSException {
        this.url = url;
        this.user = user;
        this.source = source;
        this.clock = clock;
        this.connection = connection;
        this.outboxSession = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        this.outboxProducer = outboxSession.createProducer(null);
        this.confirmedSession = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        this.confirmedProducer = confirmedSession.createProducer(null);
        this.publisher = new OutboxPublisher(outbox, new OutboxPublisher.Send() {
            @Override
            public void send(String address, Envelope<?> envelope) throws JMSException {
                BrokerConnection.this.send(outboxSession, outboxProducer, address, envelope);
            }

            @Override
            public void sendAsync(String address, Envelope<?> envelope, javax.jms.CompletionListener done)
                    throws JMSException {
                outboxProducer.send(topic(outboxSession, address), message(outboxSession, envelope),
                        DeliveryMode.NON_PERSISTENT, Message.DEFAULT_PRIORITY, NON_PERSISTENT_TTL.toMillis(), done);
            }
        }, url, user, source, refused);
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
        return open(url, user, password, source, clock, Duration.ofMillis(100));
    }

    /**
     * The same, retrying a lost connection first after {@code retry} (then twice as long each time, up to
     * {@code max(retry, 1 s)}): a test that must act while a connection is still away widens that window.
     */
    public static BrokerConnection open(String url, String user, String password, String source, Clock clock,
                                        Duration retry) {
        Connection connection = null;
        try {
            ActiveMQConnectionFactory factory = new ActiveMQConnectionFactory(url, user, password);
            // every send waits for the broker's answer, so that a refusal is seen; only the publisher
            // thread (or an operator's command) ever waits, never a data path
            factory.setBlockOnDurableSend(true);
            factory.setBlockOnNonDurableSend(true);
            // periodic figures go out asynchronously, the broker confirming them in batches within this window:
            // one round trip per sample would hold a monitor of a thousand replicas to a few hundred a second
            factory.setConfirmationWindowSize(CONFIRMATION_WINDOW);
            factory.setCallTimeout(CALL_TIMEOUT.toMillis());
            factory.setCallFailoverTimeout(CALL_TIMEOUT.toMillis());
            // reconnect for ever, soon after the broker is back: Artemis re-creates the sessions,
            // consumers and subscriptions of this very connection
            factory.setReconnectAttempts(-1);
            factory.setRetryInterval(retry.toMillis());
            factory.setRetryIntervalMultiplier(2.0);
            factory.setMaxRetryInterval(Math.max(1000, retry.toMillis()));
            // a broker that vanished without closing its sockets is noticed within seconds
            factory.setClientFailureCheckPeriod(2000);
            factory.setConnectionTTL(10_000);
            connection = factory.createConnection();
            connection.setExceptionListener(e -> log.warn("broker connection {}: {}", url, e.toString()));
            BrokerConnection opened = new BrokerConnection(url, user, source, clock, connection);
            ((ActiveMQConnection) connection).setFailoverListener(opened::onFailoverEvent);
            connection.start();
            opened.publisher.start();
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

    private void onFailoverEvent(FailoverEventType event) {
        switch (event) {
            case FAILURE_DETECTED -> {
                awaySince = System.nanoTime();
                outages.increment();
                outbox.away(true);
                log.warn("broker {} is away: periodic events are dropped, {} kept event(s) wait for it", url,
                        outbox.size());
            }
            case FAILOVER_COMPLETED -> {
                outbox.away(false);
                log.info("broker {} is back after {} ms: {} event(s) to send, {} periodic dropped so far", url,
                        (System.nanoTime() - awaySince) / 1_000_000, outbox.size(), outbox.periodicDropped());
                if (!reconnectListeners.isEmpty()) {
                    Thread resync = new Thread(() -> reconnectListeners.forEach(BrokerConnection::runQuietly),
                            "broker-reconnected-" + source);
                    resync.setDaemon(true);
                    resync.start();
                }
            }
            case FAILOVER_FAILED -> log.error("broker {}: reconnection given up", url);
        }
    }

    /**
     * Runs the action (on a thread of its own) each time the connection is back after the broker was
     * away: where a component catches up with what a non-durable subscription may have missed while
     * it was reconnecting (the balancer's membership, say), as a resync.
     */
    public void onReconnected(Runnable action) {
        reconnectListeners.add(action);
    }

    private static void runQuietly(Runnable action) {
        try {
            action.run();
        } catch (RuntimeException e) {
            log.error("a reconnection action failed", e);
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

    /** Publishes on the event type's own topic; see {@link #publish(String, Event)}. */
    public <T extends Event> Envelope<T> publish(T event) {
        EventType type = event.type();
        io.vmscale.broker.event.Topic topic = type.topic().orElseThrow(() -> new IllegalArgumentException(
                type + " has no topic of its own: publish it to an address"));
        return publish(topic.address(), event);
    }

    /**
     * Publishes on an explicit address (a reply-to address, a replay topic). Returns at once for
     * periodic and kept events (see {@link Delivery}): they go out through the outbox, and a refusal
     * by the broker is logged and counted ({@link #refused()}); an operator's command is sent and
     * confirmed here.
     *
     * @throws BrokerException only for a confirmed send: refused, or the broker away
     */
    public <T extends Event> Envelope<T> publish(String address, T event) {
        Delivery delivery = Delivery.of(event.type());
        if (delivery == Delivery.CONFIRMED) {
            confirmedLock.lock(); // the sequence numbers go out in order
            try {
                Envelope<T> envelope = Envelope.of(event, clock.instant(), source, seq.incrementAndGet());
                sendConfirmed(address, envelope);
                return envelope;
            } finally {
                confirmedLock.unlock();
            }
        }
        sequenceLock.lock(); // the outbox holds them in the order of their sequence numbers
        try {
            Envelope<T> envelope = Envelope.of(event, clock.instant(), source, seq.incrementAndGet());
            if (closed.get()) {
                log.debug("closed: not publishing {}", envelope.type());
            } else {
                outbox.offer(new Outbox.Entry(address, envelope, delivery));
            }
            return envelope;
        } finally {
            sequenceLock.unlock();
        }
    }

    /**
     * Sends an envelope as it is (its type, timestamp, source and sequence number unchanged) and waits
     * for the broker's confirmation: how a replay republishes an event log.
     *
     * @throws BrokerException refused, or the broker away
     */
    public void republish(String address, Envelope<?> envelope) {
        confirmedLock.lock();
        try {
            sendConfirmed(address, envelope);
        } finally {
            confirmedLock.unlock();
        }
    }

    private void sendConfirmed(String address, Envelope<?> envelope) {
        if (outbox.isAway()) {
            throw new BrokerException("cannot publish " + envelope.type() + " to " + address + ": broker " + url
                    + " is away (reconnecting)");
        }
        try {
            TextMessage message = message(confirmedSession, envelope);
            int limit = MessageSizeLimit.limit(address);
            if (message.getText().length() > limit) {
                throw new BrokerException(envelope.type() + " of " + message.getText().length()
                        + " characters not sent: the limit on " + address + " is " + limit + " bytes");
            }
            send(confirmedProducer, confirmedSession, address, envelope, message);
        } catch (JMSSecurityException e) {
            refused.increment();
            throw new BrokerException(refusal(address, envelope, e), e);
        } catch (BrokerException e) {
            throw e;
        } catch (JMSException | RuntimeException e) {
            throw new BrokerException("cannot publish " + envelope.type() + " to " + address + " on " + url + ": "
                    + e.getMessage(), e);
        }
    }

    private String refusal(String address, Envelope<?> envelope, JMSSecurityException e) {
        return "user '" + user + "' may not publish " + envelope.type() + " to " + address + ": " + e.getMessage();
    }

    /** Persistence by {@link Delivery}: lifecycle, decisions and commands are persistent; figures are not, and expire. */
    private void send(Session session, MessageProducer producer, String address, Envelope<?> envelope)
            throws JMSException {
        send(producer, session, address, envelope, message(session, envelope));
    }

    private TextMessage message(Session session, Envelope<?> envelope) throws JMSException {
        TextMessage message = session.createTextMessage(codec.encode(envelope));
        message.setStringProperty(TYPE_PROPERTY, envelope.type().wireName());
        return message;
    }

    private void send(MessageProducer producer, Session session, String address, Envelope<?> envelope,
                      TextMessage message) throws JMSException {
        boolean persistent = Delivery.of(envelope.type()).persistent();
        producer.send(topic(session, address), message,
                persistent ? DeliveryMode.PERSISTENT : DeliveryMode.NON_PERSISTENT,
                Message.DEFAULT_PRIORITY, persistent ? Message.DEFAULT_TIME_TO_LIVE : NON_PERSISTENT_TTL.toMillis());
    }

    private Topic topic(Session session, String address) {
        return topics.computeIfAbsent(address, a -> {
            try {
                return session.createTopic(a);
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
            // while the broker is away the session's close cannot be confirmed: the connection's close ends it
            return () -> closeWithin(opened, outbox.isAway() ? Duration.ofMillis(100) : CLOSE_CONNECTION,
                    "subscription to " + address);
        } catch (JMSSecurityException e) {
            closeQuietly(session);
            throw new BrokerException("user '" + user + "' may not subscribe to " + address + ": " + e.getMessage(), e);
        } catch (JMSException e) {
            closeQuietly(session);
            throw new BrokerException("cannot subscribe to " + address + " on " + url + ": " + e.getMessage(), e);
        }
    }

    /**
     * Asks for the lease {@code name} (under {@code vmscale.lease.}): held by one connection at a time among all that
     * ask for it on this broker. It is a queue the broker keeps exclusive (one consumer gets its messages), not
     * destructive (a delivered message stays) and last-value (one token stays however many ask): the connection the
     * broker gives the token to holds the lease, and {@code acquired} runs then, on a client thread. The broker hands
     * the token to the next one as soon as the holder's connection is gone (closed, or its process killed: the socket
     * closes). The holder learns of a loss only through the connection: while the broker is away it must take the
     * lease as lost ({@link #brokerAway()}), since another may get it meanwhile.
     */
    public Subscription lease(String name, Runnable acquired) {
        String address = LEASE_PREFIX + name;
        Session session = null;
        try {
            session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            javax.jms.Queue queue = session.createQueue(address);
            javax.jms.TextMessage token = session.createTextMessage(source);
            token.setStringProperty(LEASE_KEY, name);
            try (MessageProducer producer = session.createProducer(queue)) {
                producer.send(token);
            }
            MessageConsumer consumer = session.createConsumer(queue);
            // each newcomer's token replaces the last one and reaches the holder again: the first is the one that counts
            AtomicBoolean held = new AtomicBoolean();
            consumer.setMessageListener(message -> {
                if (held.compareAndSet(false, true)) {
                    acquired.run();
                }
            });
            Session opened = session;
            return () -> closeWithin(opened, outbox.isAway() ? Duration.ofMillis(100) : CLOSE_CONNECTION,
                    "lease " + address);
        } catch (JMSSecurityException e) {
            closeQuietly(session);
            throw new BrokerException("user '" + user + "' may not ask for the lease " + address + ": "
                    + e.getMessage(), e);
        } catch (JMSException e) {
            closeQuietly(session);
            throw new BrokerException("cannot ask for the lease " + address + " on " + url + ": " + e.getMessage(), e);
        }
    }

    /**
     * Keeps {@code text} on the broker as the state {@code name} (under {@code vmscale.state.}): a durable queue that
     * holds one message, the last kept (last-value, non-destructive), so that whoever reads it next, another process
     * or this one restarted, gets the latest. Waits for the broker's confirmation; a {@link BrokerException} when the
     * broker is away or refuses.
     */
    public void keep(String name, String text) {
        String address = STATE_PREFIX + name;
        Session session = null;
        try {
            session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            javax.jms.TextMessage message = session.createTextMessage(text);
            message.setStringProperty(STATE_KEY, name);
            try (MessageProducer producer = session.createProducer(session.createQueue(address))) {
                producer.setDeliveryMode(javax.jms.DeliveryMode.PERSISTENT);
                producer.send(message);
            }
        } catch (JMSSecurityException e) {
            throw new BrokerException("user '" + user + "' may not keep the state " + address + ": " + e.getMessage(), e);
        } catch (JMSException e) {
            throw new BrokerException("cannot keep the state " + address + " on " + url + ": " + e.getMessage(), e);
        } finally {
            closeQuietly(session);
        }
    }

    /** The state {@code name} last {@link #keep kept}, or empty when none was. */
    public Optional<String> kept(String name) {
        String address = STATE_PREFIX + name;
        Session session = null;
        try {
            session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            String last = null;
            try (javax.jms.QueueBrowser browser = session.createBrowser(session.createQueue(address))) {
                java.util.Enumeration<?> messages = browser.getEnumeration();
                while (messages.hasMoreElements()) {
                    if (messages.nextElement() instanceof javax.jms.TextMessage text) {
                        last = text.getText();
                    }
                }
            }
            return Optional.ofNullable(last);
        } catch (JMSSecurityException e) {
            throw new BrokerException("user '" + user + "' may not read the state " + address + ": " + e.getMessage(), e);
        } catch (JMSException e) {
            throw new BrokerException("cannot read the state " + address + " on " + url + ": " + e.getMessage(), e);
        } finally {
            closeQuietly(session);
        }
    }

    /** Where kept states live: a durable queue each, non-destructive, last-value on {@link #STATE_KEY}. */
    public static final String STATE_PREFIX = "vmscale.state.";
    /** The last-value key of a kept state. */
    public static final String STATE_KEY = "state";

    /** Where leases live: a queue each, exclusive, non-destructive, last-value on {@link #LEASE_KEY}. */
    public static final String LEASE_PREFIX = "vmscale.lease.";
    /** The last-value key of a lease's token. */
    public static final String LEASE_KEY = "lease";

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

    /** Events the broker refused (this account may not publish them there). */
    public long refused() {
        return refused.sum();
    }

    /** Sends of kept events retried after the broker did not confirm them (they may arrive twice). */
    public long resent() {
        return publisher.resent();
    }

    /** Events sent from the outbox and confirmed by the broker. */
    public long sent() {
        return publisher.sent();
    }

    /** Periodic events dropped: the broker away, or the outbox full. */
    public long periodicDropped() {
        return outbox.periodicDropped();
    }

    /** Kept events dropped: the outbox full for long (the oldest go first), or still unsent at close. */
    public long keptDropped() {
        return outbox.keptDropped();
    }

    /** Events waiting in the outbox. */
    public int pending() {
        return outbox.size();
    }

    /** Whether the broker is away now (the connection is being re-established). */
    public boolean brokerAway() {
        return outbox.isAway();
    }

    /** Times the broker went away since this connection opened. */
    public long outages() {
        return outages.sum();
    }

    /**
     * Sends what the outbox holds if the broker is here (at most {@link #CLOSE_FLUSH}), then closes;
     * returns within a few seconds whether or not the broker answers (about half a second when it is
     * away).
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        int unsent = publisher.stop(CLOSE_FLUSH, CLOSE_CONNECTION);
        if (unsent > 0) {
            log.warn("broker {}: closing with {} event(s) unsent", url, unsent);
        }
        // a broker that is away cannot confirm the close: Artemis ends its reconnection loop meanwhile
        closeWithin(connection, outbox.isAway() ? Duration.ofMillis(500) : CLOSE_CONNECTION, "connection to " + url);
    }

    /** Closes on a helper thread and waits at most the timeout: a broker that does not answer cannot hold us. */
    private static void closeWithin(AutoCloseable closeable, Duration timeout, String what) {
        Thread closer = new Thread(() -> closeQuietly(closeable), "broker-close");
        closer.setDaemon(true);
        closer.start();
        try {
            closer.join(timeout.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (closer.isAlive()) {
            log.info("{} did not close within {} ms: left behind", what, timeout.toMillis());
        }
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
