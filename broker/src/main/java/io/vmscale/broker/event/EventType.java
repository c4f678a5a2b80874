package io.vmscale.broker.event;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/** Every event type, its wire name, its body record and the topic it is published on by default. */
public enum EventType {
    CPU_SAMPLE("cpu.sample", CpuSample.class, Topic.CPU),
    VM_LIFECYCLE("vm.lifecycle", VmLifecycle.class, Topic.VM),
    SCALE_DECISION("scale.decision", ScaleDecision.class, Topic.DECISION),
    ADMIN_COMMAND("admin.command", AdminCommand.class, Topic.ADMIN),
    /** Sent to the reply-to address of the command it answers, never to a shared topic. */
    ADMIN_RESULT("admin.result", AdminResult.class, null),
    LB_STATS("lb.stats", LbStats.class, Topic.LB),
    HOST_STATUS("host.status", HostStatus.class, Topic.VM),
    /** A group created or deleted at run time. */
    GROUP_CHANGE("group.change", GroupChange.class, Topic.VM);

    private final String wireName;
    private final Class<? extends Event> bodyType;
    private final Topic topic;

    EventType(String wireName, Class<? extends Event> bodyType, Topic topic) {
        this.wireName = wireName;
        this.bodyType = bodyType;
        this.topic = topic;
    }

    public String wireName() {
        return wireName;
    }

    public Class<? extends Event> bodyType() {
        return bodyType;
    }

    /** The topic this type is published on, empty for replies that go to a reply-to address. */
    public Optional<Topic> topic() {
        return Optional.ofNullable(topic);
    }

    public static EventType of(Class<? extends Event> bodyType) {
        for (EventType type : values()) {
            if (type.bodyType == bodyType) {
                return type;
            }
        }
        throw new IllegalArgumentException("not an event body: " + bodyType.getName());
    }

    /** The type with this wire name, or an {@link UnknownEventTypeException} that lists the known ones. */
    public static EventType byWireName(String wireName) {
        for (EventType type : values()) {
            if (type.wireName.equals(wireName)) {
                return type;
            }
        }
        throw new UnknownEventTypeException(wireName, known());
    }

    static String known() {
        return Arrays.stream(values()).map(EventType::wireName).collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return wireName;
    }
}
