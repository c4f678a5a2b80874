package io.vmscale.broker;

import io.vmscale.broker.event.Envelope;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The bounded queue between a component's threads and its publisher thread. {@link #offer} never
 * blocks. When the broker is away, periodic events are refused (and those waiting dropped);
 * when the outbox is full, a new periodic event is dropped, a new kept one makes room by dropping
 * the oldest periodic one waiting, else the oldest kept one. Every drop is counted. Order is kept.
 */
final class Outbox {
    /** One event to send. */
    record Entry(String address, Envelope<?> envelope, Delivery delivery) {
    }

    private final int capacity;
    private final ArrayDeque<Entry> entries = new ArrayDeque<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private final Condition empty = lock.newCondition();
    private boolean away;
    private boolean sending;
    private long periodicDropped;
    private long keptDropped;

    Outbox(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("outbox capacity must be >= 1, got " + capacity);
        }
        this.capacity = capacity;
    }

    /** Queues an entry; returns whether it was taken (a periodic one is refused while away or full). */
    boolean offer(Entry entry) {
        lock.lock();
        try {
            if (entry.delivery() == Delivery.PERIODIC && (away || entries.size() >= capacity)) {
                periodicDropped++;
                return false;
            }
            if (entries.size() >= capacity && !dropOldest(Delivery.PERIODIC)) {
                dropOldest(Delivery.KEPT);
            }
            entries.addLast(entry);
            notEmpty.signal();
            return true;
        } finally {
            lock.unlock();
        }
    }

    private boolean dropOldest(Delivery delivery) {
        for (Iterator<Entry> it = entries.iterator(); it.hasNext(); ) {
            if (it.next().delivery() == delivery) {
                it.remove();
                if (delivery == Delivery.PERIODIC) {
                    periodicDropped++;
                } else {
                    keptDropped++;
                }
                return true;
            }
        }
        return false;
    }

    /** The broker went away (drop the periodic events waiting, refuse new ones) or came back. */
    void away(boolean away) {
        lock.lock();
        try {
            this.away = away;
            if (away) {
                entries.removeIf(e -> {
                    if (e.delivery() == Delivery.PERIODIC) {
                        periodicDropped++;
                        return true;
                    }
                    return false;
                });
            }
        } finally {
            lock.unlock();
        }
    }

    boolean isAway() {
        lock.lock();
        try {
            return away;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The next entry, waiting at most the timeout; null if none. The caller owns it until it calls
     * {@link #done()}, which {@link #awaitEmpty} waits for.
     */
    Entry take(long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = unit.toNanos(timeout);
        lock.lock();
        try {
            while (entries.isEmpty()) {
                if (nanos <= 0) {
                    return null;
                }
                nanos = notEmpty.awaitNanos(nanos);
            }
            sending = true;
            return entries.pollFirst();
        } finally {
            lock.unlock();
        }
    }

    /** The entry last taken was sent, or given up. */
    void done() {
        lock.lock();
        try {
            sending = false;
            if (entries.isEmpty()) {
                empty.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Waits until everything queued has been sent or given up; false at the deadline. */
    boolean awaitEmpty(long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = unit.toNanos(timeout);
        lock.lock();
        try {
            while (!entries.isEmpty() || sending) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = empty.awaitNanos(nanos);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    int size() {
        lock.lock();
        try {
            return entries.size();
        } finally {
            lock.unlock();
        }
    }

    long periodicDropped() {
        lock.lock();
        try {
            return periodicDropped;
        } finally {
            lock.unlock();
        }
    }

    /** Kept events dropped to make room, while the outbox was full. */
    long keptDropped() {
        lock.lock();
        try {
            return keptDropped;
        } finally {
            lock.unlock();
        }
    }

    /** Counts a periodic event the publisher could not send. */
    void countPeriodicDropped() {
        lock.lock();
        try {
            periodicDropped++;
        } finally {
            lock.unlock();
        }
    }

    /** Counts a kept event given up by the publisher (refused by the broker, or still unsent at close). */
    void countKeptDropped() {
        lock.lock();
        try {
            keptDropped++;
        } finally {
            lock.unlock();
        }
    }
}
