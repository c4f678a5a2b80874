package io.vmscale.broker.event;

/** An envelope whose {@code type} this release does not know. */
public final class UnknownEventTypeException extends EventFormatException {
    private static final long serialVersionUID = 1L;
    private final String typeName;

    UnknownEventTypeException(String typeName, String known) {
        super("unknown event type '" + typeName + "' (known types: " + known + ")");
        this.typeName = typeName;
    }

    public String typeName() {
        return typeName;
    }
}
