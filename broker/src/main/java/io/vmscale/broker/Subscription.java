package io.vmscale.broker;

/** An open subscription; closing it stops delivery (a durable one keeps collecting on the broker). */
public interface Subscription extends AutoCloseable {
    @Override
    void close();
}
