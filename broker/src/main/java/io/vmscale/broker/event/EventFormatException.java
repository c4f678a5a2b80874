package io.vmscale.broker.event;

/** A message that is not a valid event envelope; the message says what is wrong with it. */
public class EventFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public EventFormatException(String message) {
        super(message);
    }

    public EventFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
