package io.vmscale.cli.ops;

import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.Subscription;
import io.vmscale.broker.event.AdminCommand;
import io.vmscale.broker.event.AdminResult;
import io.vmscale.broker.event.Topic;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An operator's side of admin commands: sends {@code admin.command} with a reply-to address of its own
 * and collects the {@code admin.result}s within a timeout.
 */
final class OpsClient implements AutoCloseable {
    /** What came back for one command: the answers, and the components that did not answer in time. */
    record Answers(List<AdminResult> results, List<String> missing) {
        boolean ok() {
            return missing.isEmpty() && results.stream().allMatch(AdminResult::ok);
        }

        /** 0 done, 1 refused or failed, {@link OpsCommand#NO_ANSWER} when a component did not answer. */
        int exitCode() {
            return !missing.isEmpty() ? OpsCommand.NO_ANSWER : ok() ? 0 : 1;
        }
    }

    private final BrokerConnection connection;
    private final String group;
    private final String replyTo;
    private final Subscription replies;
    private final Map<String, BlockingQueue<AdminResult>> waiting = new ConcurrentHashMap<>();
    private final Duration timeout;

    OpsClient(BrokerConnection connection, Duration timeout) {
        this(connection, timeout, "");
    }

    /** @param group the group every command is for (its prefix; empty: the first) */
    OpsClient(BrokerConnection connection, Duration timeout, String group) {
        this.connection = connection;
        this.group = group == null ? "" : group;
        this.timeout = timeout;
        this.replyTo = Topic.REPLY_PREFIX + UUID.randomUUID();
        this.replies = connection.subscribe(replyTo, AdminResult.class, e -> {
            BlockingQueue<AdminResult> queue = waiting.get(e.body().requestId());
            if (queue != null) {
                queue.add(e.body());
            }
        });
    }

    /**
     * Sends a command and waits for one answer from each of the components named in {@code expected}
     * (the prefix of the responder, {@code scaler} or {@code balancer}), at most the timeout.
     */
    Answers send(String target, String command, List<String> args, List<String> expected) throws InterruptedException {
        String requestId = UUID.randomUUID().toString();
        BlockingQueue<AdminResult> queue = new LinkedBlockingQueue<>();
        waiting.put(requestId, queue);
        try {
            connection.publish(new AdminCommand(requestId, replyTo, target, command, args, group));
            List<AdminResult> results = new ArrayList<>();
            List<String> missing = new ArrayList<>(expected);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!missing.isEmpty()) {
                long left = deadline - System.nanoTime();
                AdminResult result = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : null;
                if (result == null) {
                    break;
                }
                results.add(result);
                missing.removeIf(name -> result.responder().startsWith(name + "@"));
            }
            return new Answers(results, missing);
        } finally {
            waiting.remove(requestId);
        }
    }

    Duration timeout() {
        return timeout;
    }

    /** What to say about a component that did not answer. */
    String noAnswer(String component) {
        return component + ": no answer within " + timeout.toMillis() / 1000.0 + " s: is it running (./vmscale up)?";
    }

    @Override
    public void close() {
        replies.close();
        connection.close();
    }
}
