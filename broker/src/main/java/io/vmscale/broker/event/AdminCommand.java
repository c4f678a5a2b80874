package io.vmscale.broker.event;

import java.util.List;

/**
 * {@code admin.command}: an operator's request to a component; answered by one {@link AdminResult}
 * per component that handles it, sent to {@code replyTo}.
 *
 * @param requestId unique per request, echoed in the result
 * @param replyTo   the address the result goes to
 * @param target    the component it is for ({@code balancer}, {@code scaler}) or {@code all}
 * @param command   the command's name ({@code load}, {@code add}, {@code pause}, ...)
 * @param args      its arguments, as typed
 * @param group     the group it is for ({@code libvirt.prefix} of one of the configuration's groups); empty: the
 *                  first group (the configuration's top level), as before there were groups
 */
public record AdminCommand(String requestId, String replyTo, String target, String command, List<String> args,
                           String group) implements Event {
    /** For the first group. */
    public AdminCommand(String requestId, String replyTo, String target, String command, List<String> args) {
        this(requestId, replyTo, target, command, args, "");
    }

    public AdminCommand {
        group = group == null ? "" : group; // a sender of an earlier release names none
        Fields.text("requestId", requestId);
        Fields.text("replyTo", replyTo);
        Fields.text("target", target);
        Fields.text("command", command);
        args = Fields.list("args", args);
    }
}
