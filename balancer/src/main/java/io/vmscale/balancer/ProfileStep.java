package io.vmscale.balancer;

import io.vmscale.config.InvalidValueException;
import java.util.regex.Pattern;

/**
 * One step of a scheduled load profile.
 *
 * @param mode    off, low, mid, high or "custom R"
 * @param seconds how long it lasts
 */
public record ProfileStep(String mode, double seconds) {
    private static final Pattern MODE = Pattern.compile("off|low|mid|high|custom \\d+(\\.\\d+)?");

    public ProfileStep {
        InvalidValueException.text("mode", mode);
        if (!MODE.matcher(mode).matches()) {
            throw new InvalidValueException("mode", "off, low, mid, high or \"custom R\"", "\"" + mode + "\"");
        }
        if (!(seconds > 0 && seconds <= 86_400)) {
            throw new InvalidValueException("seconds", "more than 0, at most 86400", seconds);
        }
    }
}
