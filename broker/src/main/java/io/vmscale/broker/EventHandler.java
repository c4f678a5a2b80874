package io.vmscale.broker;

import io.vmscale.broker.event.Envelope;
import io.vmscale.broker.event.Event;

/** Receives the events of one subscription, one at a time, on a broker client thread: do not block long. */
@FunctionalInterface
public interface EventHandler<T extends Event> {
    void handle(Envelope<T> envelope) throws Exception;
}
