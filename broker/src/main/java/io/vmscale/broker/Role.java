package io.vmscale.broker;

import java.util.Locale;

/** What an account may do on the broker. */
public enum Role {
    /** monitor, scaler, balancer: publish and consume every topic. */
    COMPONENT,
    /** the ops CLI: read every topic, send admin commands, publish replays. */
    OPERATOR,
    /** charts and dashboards: read only. */
    VIEWER;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Role of(String id) {
        return valueOf(id.toUpperCase(Locale.ROOT));
    }
}
