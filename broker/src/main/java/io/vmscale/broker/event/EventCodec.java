package io.vmscale.broker.event;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * JSON for event envelopes. Tolerant where a later release may differ (unknown fields are ignored,
 * a higher schema version is read), strict where a message is unusable (no type, an unknown type,
 * a body that breaks its record's rules): then an {@link EventFormatException} says what is wrong.
 * Thread-safe.
 */
public final class EventCodec {
    private final ObjectMapper mapper = JsonMapper.builder()
            .addModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .build();

    public String encode(Envelope<?> envelope) {
        ObjectNode node = mapper.createObjectNode();
        node.put("type", envelope.type().wireName());
        node.put("v", envelope.version());
        node.put("ts", envelope.ts().toString());
        node.put("source", envelope.source());
        node.put("seq", envelope.seq());
        node.set("body", mapper.valueToTree(envelope.body()));
        try {
            return mapper.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + envelope.type() + ": " + e.getMessage(), e);
        }
    }

    public Envelope<? extends Event> decode(String json) {
        JsonNode node;
        try {
            node = mapper.readTree(json);
        } catch (JsonProcessingException e) {
            throw new EventFormatException("not JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw new EventFormatException("an event must be a JSON object");
        }
        EventType type = EventType.byWireName(text(node, "type"));
        int version = node.path("v").isInt() ? node.get("v").intValue() : -1;
        if (version < 1) {
            throw new EventFormatException(type + ": field 'v' must be an integer >= 1");
        }
        Instant ts;
        try {
            ts = Instant.parse(text(node, "ts"));
        } catch (DateTimeParseException e) {
            throw new EventFormatException(type + ": field 'ts' is not an ISO-8601 instant: " + node.get("ts"));
        }
        String source = text(node, "source");
        if (!node.path("seq").canConvertToLong()) {
            throw new EventFormatException(type + ": field 'seq' must be an integer");
        }
        long seq = node.get("seq").longValue();
        JsonNode bodyNode = node.get("body");
        if (bodyNode == null || !bodyNode.isObject()) {
            throw new EventFormatException(type + ": field 'body' must be a JSON object");
        }
        return envelope(type, version, ts, source, seq, bodyNode);
    }

    private <T extends Event> Envelope<T> envelope(EventType type, int version, Instant ts, String source, long seq,
                                                   JsonNode bodyNode) {
        @SuppressWarnings("unchecked")
        Class<T> bodyType = (Class<T>) type.bodyType();
        T body;
        try {
            body = mapper.treeToValue(bodyNode, bodyType);
        } catch (ValueInstantiationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new EventFormatException(type + " body: " + cause.getMessage(), e);
        } catch (JsonProcessingException e) {
            throw new EventFormatException(type + " body: " + e.getOriginalMessage(), e);
        }
        try {
            return new Envelope<>(type, version, ts, source, seq, body);
        } catch (IllegalArgumentException e) {
            throw new EventFormatException(type + ": " + e.getMessage(), e);
        }
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || !value.isTextual() || value.textValue().isBlank()) {
            throw new EventFormatException("field '" + field + "' is missing or not a string");
        }
        return value.textValue();
    }
}
