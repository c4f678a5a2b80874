package io.vmscale.config;

/**
 * Thrown by a configuration record, in whichever module it lives, for a value out of range; {@link ConfigBinder}
 * adds the file and the path.
 */
public final class InvalidValueException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    final String key;
    final String expected;
    final String actual;

    public InvalidValueException(String key, String expected, Object actual) {
        super("key '" + key + "': expected " + expected + ", got " + actual);
        this.key = key;
        this.expected = expected;
        this.actual = String.valueOf(actual);
    }

    public static int range(String key, int value, int min, int max) {
        if (value < min || value > max) {
            throw new InvalidValueException(key, "an integer from " + min + " to " + max, value);
        }
        return value;
    }

    public static String text(String key, String value) {
        if (value == null || value.isBlank()) {
            throw new InvalidValueException(key, "a non-empty string", value == null ? "null" : "\"" + value + "\"");
        }
        return value;
    }

    public static String oneOf(String key, String value, java.util.List<String> allowed) {
        text(key, value);
        if (!allowed.contains(value)) {
            throw new InvalidValueException(key, "one of " + String.join(", ", allowed), "\"" + value + "\"");
        }
        return value;
    }
}
