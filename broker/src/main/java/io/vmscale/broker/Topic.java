package io.vmscale.broker;

/** The multicast addresses on the broker. Replays publish under {@code vmscale.replay.*}. */
public enum Topic {
    CPU("vmscale.cpu", false),
    VM("vmscale.vm", true),
    DECISION("vmscale.decision", true),
    ADMIN("vmscale.admin", true),
    LB("vmscale.lb", false);

    /** Every address of ours starts with this. */
    public static final String PREFIX = "vmscale.";
    /** Where a replay republishes a recorded topic, so live components never see it unless asked. */
    public static final String REPLAY_PREFIX = "vmscale.replay.";
    /** Reply-to addresses of admin commands start with this. */
    public static final String REPLY_PREFIX = "vmscale.reply.";

    private final String address;
    private final boolean persistent;

    Topic(String address, boolean persistent) {
        this.address = address;
        this.persistent = persistent;
    }

    public String address() {
        return address;
    }

    /** The same topic's address under {@link #REPLAY_PREFIX}. */
    public String replayAddress() {
        return REPLAY_PREFIX + address.substring(PREFIX.length());
    }

    /**
     * Whether messages are persistent: lifecycle, decisions and commands must survive a broker restart;
     * CPU samples and balancer stats are superseded within a second and are sent non-persistent.
     */
    public boolean persistent() {
        return persistent;
    }
}
