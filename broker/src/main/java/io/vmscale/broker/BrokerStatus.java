package io.vmscale.broker;

import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.Topic;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker answers {@code status} (target {@code all} or {@code broker}) itself, over an in-VM
 * connection of its own: the size of its store, its disk guard and what it refused, so that
 * {@code ops status} shows them wherever it runs.
 */
final class BrokerStatus implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BrokerStatus.class);
    private static final Set<String> TARGETS = Set.of("all", "broker");

    private final BrokerConnection connection;

    private BrokerStatus(BrokerConnection connection) {
        this.connection = connection;
    }

    /** Starts answering; null (and a warning) when the broker has no component account to answer with. */
    static BrokerStatus start(EmbeddedBroker broker, int maxDiskUsage) {
        if (broker.credentials().forRole(Role.COMPONENT).isEmpty()) {
            log.warn("no component account: the broker will not answer status");
            return null;
        }
        BrokerConnection connection = broker.connect(Role.COMPONENT, BrokerConnection.source("broker"));
        connection.subscribe(AdminCommand.class, e -> {
            AdminCommand command = e.body();
            if (!TARGETS.contains(command.target()) || !command.command().equals("status")
                    || !command.replyTo().startsWith(Topic.REPLY_PREFIX)) {
                return;
            }
            StoreSize size = broker.storeSize();
            Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("journalBytes", size.journalBytes());
            figures.put("pagingBytes", size.pagingBytes());
            figures.put("storeBytes", size.totalBytes());
            figures.put("dataDir", broker.dataDir().toString());
            figures.put("maxDiskUsage", maxDiskUsage);
            figures.put("oversizedRefused", broker.oversizedRefused());
            connection.publish(command.replyTo(), new AdminResult(command.requestId(), connection.source(), true,
                    String.format(Locale.ROOT, "journal %s, paging %s", human(size.journalBytes()),
                            human(size.pagingBytes())), Map.of("broker", figures)));
        });
        log.debug("broker answers status on {}", Topic.ADMIN.address());
        return new BrokerStatus(connection);
    }

    /** {@code 1.5 MiB}. */
    static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        double value = bytes;
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        int unit = -1;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }

    @Override
    public void close() {
        connection.close();
    }
}
