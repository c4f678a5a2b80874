package io.vmscale.monitor;

import io.vmscale.broker.event.Event;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** What a monitor under test published, in order, waited for one matching event at a time. */
final class EventQueue {
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();

    /** Where the monitor publishes. */
    void add(Event event) {
        events.add(event);
    }

    void clear() {
        events.clear();
    }

    /** The next event that matches, waiting up to the deadline; events before it are dropped. */
    @SuppressWarnings("unchecked")
    <T extends Event> T next(Class<T> type, Predicate<T> match, Duration deadline) throws InterruptedException {
        long end = System.nanoTime() + deadline.toNanos();
        while (true) {
            long left = end - System.nanoTime();
            Event event = left > 0 ? events.poll(left, TimeUnit.NANOSECONDS) : null;
            if (event == null) {
                throw new AssertionError("no matching " + type.getSimpleName() + " within " + deadline);
            }
            if (type.isInstance(event) && match.test((T) event)) {
                return (T) event;
            }
        }
    }
}
