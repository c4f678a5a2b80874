package io.vmscale.broker;

import io.vmscale.broker.event.Topic;
import java.util.concurrent.atomic.LongAdder;
import org.apache.activemq.artemis.api.core.ActiveMQException;
import org.apache.activemq.artemis.api.core.ActiveMQExceptionType;
import org.apache.activemq.artemis.api.core.Message;
import org.apache.activemq.artemis.core.server.ServerSession;
import org.apache.activemq.artemis.core.server.plugin.ActiveMQServerMessagePlugin;
import org.apache.activemq.artemis.core.transaction.Transaction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker refuses a message above a size: {@link #ADMIN_MAX_BYTES} on the admin topic (a command
 * is a verb and a few words), {@link #MAX_BYTES} anywhere else. The sender gets the refusal as an
 * error of its send; the broker counts it and logs the user and address.
 */
final class MessageSizeLimit implements ActiveMQServerMessagePlugin {
    /** An admin command, envelope and headers included. */
    static final int ADMIN_MAX_BYTES = 8 * 1024;
    /** Any other message: the largest event (lb.stats with many replicas) is a few kilobytes. */
    static final int MAX_BYTES = 1024 * 1024;
    /** In the refusal's message: how a client tells it from a failure worth retrying. */
    static final String REFUSED = "bytes refused: the limit on";
    private static final Logger log = LoggerFactory.getLogger(MessageSizeLimit.class);

    private final LongAdder refused = new LongAdder();

    static int limit(String address) {
        return Topic.ADMIN.address().equals(address) || Topic.ADMIN.replayAddress().equals(address)
                ? ADMIN_MAX_BYTES : MAX_BYTES;
    }

    @Override
    public void beforeSend(ServerSession session, Transaction tx, Message message, boolean direct,
                           boolean noAutoCreateQueue) throws ActiveMQException {
        String address = message.getAddress();
        int size = message.getEncodeSize();
        int limit = limit(address);
        if (size > limit) {
            refused.increment();
            String user = session == null ? "?" : session.getUsername();
            log.warn("refused a message of {} bytes from user '{}' to {}: the limit there is {} bytes", size, user,
                    address, limit);
            throw new ActiveMQException(ActiveMQExceptionType.ILLEGAL_STATE, "message of " + size
                    + " " + REFUSED + " " + address + " is " + limit + " bytes");
        }
    }

    long refused() {
        return refused.sum();
    }
}
