package io.vmscale.broker;

import dev.failsafe.Failsafe;
import dev.failsafe.FailsafeException;
import dev.failsafe.RetryPolicy;
import io.vmscale.broker.event.Envelope;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import javax.jms.JMSException;
import javax.jms.JMSSecurityException;
import org.apache.activemq.artemis.api.core.ActiveMQAddressFullException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A connection's publisher thread: sends what its {@link Outbox} holds, in order, each send
 * confirmed by the broker. A periodic event that cannot go out is dropped and counted; a kept one is
 * retried with back-off (Failsafe) until the broker confirms it, refuses it for good (counted and
 * logged), or the connection closes.
 */
final class OutboxPublisher {
    /** Sends one envelope on the publisher's own session. */
    interface Send {
        /** Waits for the broker's confirmation; throws what the broker answered. */
        void send(String address, Envelope<?> envelope) throws JMSException;

        /** A periodic (non-persistent) one, without waiting: {@code done} hears what the broker answered. */
        void sendAsync(String address, Envelope<?> envelope, javax.jms.CompletionListener done) throws JMSException;
    }

    private static final Logger log = LoggerFactory.getLogger(OutboxPublisher.class);

    private final Outbox outbox;
    private final Send send;
    private final String url;
    private final String user;
    private final Thread thread;
    private final RetryPolicy<Object> keptRetry;
    private final LongAdder sent = new LongAdder();
    private final LongAdder resent = new LongAdder();
    private final LongAdder refused;
    private volatile boolean stopping;

    /** @param refused where refusals are counted (shared with the connection's confirmed sends) */
    OutboxPublisher(Outbox outbox, Send send, String url, String user, String source, LongAdder refused) {
        this.outbox = outbox;
        this.send = send;
        this.url = url;
        this.user = user;
        this.refused = refused;
        this.keptRetry = RetryPolicy.builder()
                .abortOn(OutboxPublisher::refusedForGood)
                .abortIf((result, failure) -> stopping)
                .withBackoff(Duration.ofMillis(50), Duration.ofSeconds(2))
                .withMaxRetries(-1)
                .onRetry(e -> {
                    resent.increment();
                    if (e.getAttemptCount() == 1) {
                        log.warn("broker {}: a kept event was not confirmed ({}); retrying until it is",
                                url, e.getLastException() == null ? "?" : e.getLastException().toString());
                    }
                })
                .build();
        this.thread = new Thread(this::drain, "broker-publish-" + source);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /**
     * Sends what is queued while the broker is here (at most {@code flush}), then stops the thread
     * (at most {@code stop}); returns how many events are left unsent.
     */
    int stop(Duration flush, Duration stop) {
        try {
            if (!outbox.isAway() && !outbox.awaitEmpty(flush.toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("broker {}: {} event(s) still unsent after {} ms at close", url, outbox.size(),
                        flush.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stopping = true;
        thread.interrupt();
        try {
            thread.join(stop.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return outbox.size();
    }

    long sent() {
        return sent.sum();
    }

    /** Sends of a kept event retried after the broker did not confirm them. */
    long resent() {
        return resent.sum();
    }

    private void drain() {
        while (!stopping) {
            Outbox.Entry entry;
            try {
                entry = outbox.take(1, TimeUnit.SECONDS); // stop() interrupts the wait
            } catch (InterruptedException e) {
                break;
            }
            if (entry == null) {
                continue;
            }
            try {
                if (entry.delivery() == Delivery.PERIODIC) {
                    sendPeriodic(entry);
                } else {
                    sendKept(entry);
                }
            } finally {
                outbox.done();
            }
        }
    }

    private void sendPeriodic(Outbox.Entry entry) {
        if (outbox.isAway()) {
            outbox.countPeriodicDropped();
            return;
        }
        try {
            send.sendAsync(entry.address(), entry.envelope(), new javax.jms.CompletionListener() {
                @Override
                public void onCompletion(javax.jms.Message message) {
                    sent.increment();
                }

                @Override
                public void onException(javax.jms.Message message, Exception e) {
                    periodicFailed(entry, e);
                }
            });
        } catch (JMSException | RuntimeException e) {
            periodicFailed(entry, e);
        }
    }

    /** A periodic event the broker refused (logged) or that did not go out (counted). */
    private void periodicFailed(Outbox.Entry entry, Exception e) {
        if (e instanceof JMSSecurityException refusal) {
            logRefusal(entry, refusal);
        } else {
            outbox.countPeriodicDropped();
            log.debug("dropped {} to {}: {}", entry.envelope().type(), entry.address(), e.toString());
        }
    }

    private void sendKept(Outbox.Entry entry) {
        Envelope<?> envelope = entry.envelope();
        try {
            Failsafe.with(keptRetry).run(() -> send.send(entry.address(), envelope));
            sent.increment();
        } catch (RuntimeException e) {
            Throwable cause = e instanceof FailsafeException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof JMSSecurityException refusal) {
                logRefusal(entry, refusal);
            } else if (refusedForGood(cause)) {
                outbox.countKeptDropped();
                log.error("the broker refused {} seq {} to {}: {}", envelope.type(), envelope.seq(), entry.address(),
                        cause.getMessage());
            } else {
                outbox.countKeptDropped();
                log.warn("gave up {} seq {} to {} at close: {}", envelope.type(), envelope.seq(), entry.address(),
                        cause.toString());
            }
        }
    }

    /**
     * A send the broker will refuse again however often it is retried: not allowed, its address full
     * (a subscriber that stopped reading), too large.
     */
    static boolean refusedForGood(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof JMSSecurityException || t instanceof ActiveMQAddressFullException
                    || String.valueOf(t.getMessage()).contains(MessageSizeLimit.REFUSED)) {
                return true;
            }
            if (t instanceof JMSException jms && jms.getLinkedException() != null && jms.getLinkedException() != t
                    && refusedForGood(jms.getLinkedException())) {
                return true;
            }
        }
        return false;
    }

    private void logRefusal(Outbox.Entry entry, JMSSecurityException e) {
        refused.increment();
        log.warn("user '{}' may not publish {} to {}: {}", user, entry.envelope().type(), entry.address(),
                e.getMessage());
    }
}
