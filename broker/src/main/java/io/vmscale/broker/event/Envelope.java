package io.vmscale.broker.event;

import java.time.Instant;

/**
 * What travels on the broker: {@code {"type", "v", "ts", "source", "seq", "body"}}.
 *
 * @param type    the body's type
 * @param version the schema version the sender wrote ({@link #SCHEMA_VERSION} for this release)
 * @param ts      when the sender published it
 * @param source  who published it, {@code component@host}
 * @param seq     the sender's sequence number, increasing by one per event it publishes
 * @param body    the event itself
 */
public record Envelope<T extends Event>(EventType type, int version, Instant ts, String source, long seq, T body) {
    /** The schema version this release writes. A later version is still read, its unknown fields ignored. */
    public static final int SCHEMA_VERSION = 1;

    public Envelope {
        Fields.present("type", type);
        Fields.present("body", body);
        if (body.type() != type) {
            throw new IllegalArgumentException("type " + type + " does not match a body of type " + body.type());
        }
        if (version < 1) {
            throw new IllegalArgumentException("v must be >= 1, got " + version);
        }
        Fields.present("ts", ts);
        Fields.text("source", source);
        Fields.notNegative("seq", seq);
    }

    public static <T extends Event> Envelope<T> of(T body, Instant ts, String source, long seq) {
        return new Envelope<>(body.type(), SCHEMA_VERSION, ts, source, seq, body);
    }
}
