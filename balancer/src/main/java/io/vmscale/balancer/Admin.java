package io.vmscale.balancer;

import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.Endpoint;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The balancer's admin commands: parsed by {@link AdminSyntax}, carried out through a {@link Target}
 * (the balancer, on its own thread), answered with what happened. A malformed command changes
 * nothing and gets a message saying what is wrong.
 */
final class Admin {
    /** What the commands act on. Each call runs on the balancer's thread and says what it did. */
    interface Target {
        Reply add(Endpoint endpoint);

        Reply remove(Endpoint endpoint);

        /** Makes the list exactly {@code endpoints}. */
        Reply replaceAll(List<Endpoint> endpoints);

        Reply load(AdminSyntax.Load load);

        String status();

        Map<String, Object> statusData();
    }

    /** What a command did. */
    record Reply(boolean ok, String message) {
        static Reply ok(String message) {
            return new Reply(true, message);
        }

        static Reply error(String message) {
            return new Reply(false, message);
        }
    }

    private final String source;
    private final Target target;
    private final Supplier<List<Endpoint>> refreshSource;
    private final Networks allowed;
    private final double maxLoad;
    private final java.util.concurrent.atomic.LongAdder refused = new java.util.concurrent.atomic.LongAdder();

    /**
     * @param allowed the networks {@code add} accepts addresses from
     * @param maxLoad the most {@code custom R} may ask for, replicas' worth
     */
    Admin(String source, Target target, Supplier<List<Endpoint>> refreshSource, Networks allowed, double maxLoad) {
        this.source = source;
        this.target = target;
        this.refreshSource = refreshSource;
        this.allowed = allowed;
        this.maxLoad = maxLoad;
    }

    /** Commands answered with an error since start. */
    long refused() {
        return refused.sum();
    }

    AdminResult handle(AdminCommand command) {
        AdminResult result = carryOut(command);
        if (!result.ok()) {
            refused.increment();
        }
        return result;
    }

    private AdminResult carryOut(AdminCommand command) {
        if (command.args().size() > AdminSyntax.MAX_ARGS) { // before anything is joined or copied
            return result(command, Reply.error("too many arguments (" + command.args().size() + ", at most "
                    + AdminSyntax.MAX_ARGS + ")"));
        }
        for (String arg : command.args()) {
            if (arg == null || arg.length() > AdminSyntax.MAX_LENGTH) {
                return result(command, Reply.error(arg == null ? "an argument is missing (null)"
                        : "argument too long (" + arg.length() + " characters, at most " + AdminSyntax.MAX_LENGTH + ")"));
            }
        }
        AdminSyntax.Command parsed;
        try {
            parsed = command.command().equals("line")
                    ? AdminSyntax.parseLine(command.args().isEmpty() ? "" : String.join(" ", command.args()))
                    : AdminSyntax.parse(command.command(), command.args());
        } catch (AdminSyntax.Malformed e) {
            return result(command, Reply.error(e.getMessage()));
        }
        if (parsed instanceof AdminSyntax.Status) {
            return new AdminResult(command.requestId(), source, true, target.status(),
                    Map.of("balancer", target.statusData()));
        }
        return result(command, apply(parsed));
    }

    private Reply apply(AdminSyntax.Command command) {
        if (command instanceof AdminSyntax.Add add) {
            if (!allowed.contains(add.endpoint().ip())) {
                return Reply.error("refused: " + add.endpoint().ip() + " is outside the networks replicas may be added "
                        + "from (" + allowed + ")");
            }
            return target.add(add.endpoint());
        }
        if (command instanceof AdminSyntax.Remove remove) {
            return target.remove(remove.endpoint());
        }
        if (command instanceof AdminSyntax.Clear) {
            return target.replaceAll(List.of());
        }
        if (command instanceof AdminSyntax.Refresh) {
            List<Endpoint> running;
            try {
                running = refreshSource.get();
            } catch (RuntimeException e) {
                return Reply.error("refresh failed: " + e.getMessage());
            }
            return target.replaceAll(running);
        }
        AdminSyntax.Load load = (AdminSyntax.Load) command;
        if (load.mode().equals("custom") && load.replicas() > maxLoad) {
            return Reply.error("refused: custom " + load.replicas() + " is above the most this balancer offers, "
                    + maxLoad + " replicas' worth");
        }
        return target.load(load);
    }

    private AdminResult result(AdminCommand command, Reply reply) {
        return new AdminResult(command.requestId(), source, reply.ok(), reply.message(), Map.of());
    }
}
