package io.vmscale.broker.event;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Checks shared by the event records: nulls refused, collections copied, messages naming the field. */
final class Fields {
    private Fields() {
    }

    static String text(String field, String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(field + " is required");
        }
        return value;
    }

    static <T> T present(String field, T value) {
        if (value == null) {
            throw new IllegalArgumentException(field + " is required");
        }
        return value;
    }

    static long notNegative(String field, long value) {
        if (value < 0) {
            throw new IllegalArgumentException(field + " must be >= 0, got " + value);
        }
        return value;
    }

    /** At least 0, or -1 for a figure not known. */
    static long notNegativeOrUnknown(String field, long value) {
        if (value < -1) {
            throw new IllegalArgumentException(field + " must be >= 0 or -1 (unknown), got " + value);
        }
        return value;
    }

    static double finiteNotNegative(String field, double value) {
        if (!Double.isFinite(value) || value < 0) {
            throw new IllegalArgumentException(field + " must be a finite number >= 0, got " + value);
        }
        return value;
    }

    static <T> List<T> list(String field, List<T> value) {
        return value == null ? List.of() : List.copyOf(value);
    }

    /** A copy that keeps the order of the keys (operators read these) and refuses null keys and values. */
    static <V> Map<String, V> map(String field, Map<String, V> value) {
        if (value == null) {
            return Map.of();
        }
        Map<String, V> copy = new LinkedHashMap<>();
        value.forEach((k, v) -> {
            if (k == null || v == null) {
                throw new IllegalArgumentException(field + " may not hold null keys or values");
            }
            copy.put(k, v);
        });
        return Collections.unmodifiableMap(copy);
    }
}
