package io.vmscale.broker.event;

/**
 * The multicast addresses on the broker. Replays publish under {@code vmscale.replay.*}. Whether an
 * event is persistent depends on its type, not its topic: see {@link Delivery}.
 */
public enum Topic {
    CPU("vmscale.cpu"),
    VM("vmscale.vm"),
    DECISION("vmscale.decision"),
    ADMIN("vmscale.admin"),
    LB("vmscale.lb");

    /** Every address of ours starts with this. */
    public static final String PREFIX = "vmscale.";
    /** Where a replay republishes a recorded topic, so live components never see it unless asked. */
    public static final String REPLAY_PREFIX = "vmscale.replay.";
    /** Reply-to addresses of admin commands start with this. */
    public static final String REPLY_PREFIX = "vmscale.reply.";

    private final String address;

    Topic(String address) {
        this.address = address;
    }

    public String address() {
        return address;
    }

    /** The same topic's address under {@link #REPLAY_PREFIX}. */
    public String replayAddress() {
        return REPLAY_PREFIX + address.substring(PREFIX.length());
    }
}
