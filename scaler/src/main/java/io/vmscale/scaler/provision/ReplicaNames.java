package io.vmscale.scaler.provision;

import java.util.OptionalInt;

/** {@code PREFIX-NNNN}: the naming convention of the original assignment, numbers from 0. */
public record ReplicaNames(String prefix, int digits) {
    public String name(int number) {
        String n = Integer.toString(number);
        return prefix + "-" + "0".repeat(Math.max(0, digits - n.length())) + n;
    }

    /** The number of a name of ours, or empty for any other name. */
    public OptionalInt number(String name) {
        if (!name.startsWith(prefix + "-")) {
            return OptionalInt.empty();
        }
        String digitsPart = name.substring(prefix.length() + 1);
        if (digitsPart.isEmpty() || digitsPart.length() > 9 || !digitsPart.chars().allMatch(Character::isDigit)) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(Integer.parseInt(digitsPart));
    }
}
