package io.vmscale.broker;

import org.apache.activemq.artemis.api.core.ActiveMQException;
import org.apache.activemq.artemis.api.core.Message;
import org.apache.activemq.artemis.core.server.ServerSession;
import org.apache.activemq.artemis.core.server.plugin.ActiveMQServerMessagePlugin;
import org.apache.activemq.artemis.core.transaction.Transaction;
import org.apache.activemq.artemis.reader.MessageUtil;

/**
 * A message sent over STOMP (the web console's admin commands) says its event type in the standard
 * {@code type} header, which Artemis maps to {@code JMSType}; subscribers select events by the property
 * {@code type} ({@link BrokerConnection#TYPE_PROPERTY}), so it is copied there. Nothing else changes.
 */
final class StompEventType implements ActiveMQServerMessagePlugin {
    @Override
    public void beforeSend(ServerSession session, Transaction tx, Message message, boolean direct,
                           boolean noAutoCreateQueue) throws ActiveMQException {
        if (session == null || !"STOMP".equals(session.getRemotingConnection().getProtocolName())
                || message.getStringProperty(BrokerConnection.TYPE_PROPERTY) != null) {
            return;
        }
        Object type = message.getObjectProperty(MessageUtil.TYPE_HEADER_NAME);
        if (type != null) {
            message.putStringProperty(BrokerConnection.TYPE_PROPERTY, type.toString());
        }
    }
}
