package io.vmscale.balancer.traffic;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vmscale.hook.ExecHook;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An executable of the operator's told of every change (for DNS, keepalived, a webhook): called once per change
 * with one JSON document on its standard input,
 * <pre>{"action": "add|drain|remove|move", "domain": "web-0003", "ip": "127.0.0.1", "port": 21103,
 *  "group": "web", "replicas": [{"domain": ..., "ip": ..., "port": ..., "draining": false}, ...]}</pre>
 * where {@code replicas} is the whole list after the change (so a program may simply rewrite its file from it).
 * Exit 0 is done; anything else, or the timeout, is logged with its output and the change is tried again after
 * {@link #RETRY}. A {@code drain} done (exit 0) is the drain's acknowledgement. At start every replica is an
 * {@code add}: the program must take a change it has seen before.
 */
public final class ExecDriver implements TrafficDriver {
    private static final Logger log = LoggerFactory.getLogger(ExecDriver.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A change the program refused is tried again after this long. */
    static final Duration RETRY = Duration.ofSeconds(5);

    private final ExecHook hook;
    private final String group;
    /** What the program was told and acknowledged, by domain. */
    private final Map<String, Target> applied = new LinkedHashMap<>();
    /** When a refused change of a domain may be tried again. */
    private final Map<String, Instant> retryAt = new HashMap<>();
    private int runs;
    private int refused;

    public ExecDriver(ExecHook hook, String group) {
        this.hook = hook;
        this.group = group;
    }

    @Override
    public String name() {
        return "exec";
    }

    @Override
    public void sync(Map<String, Target> targets, java.util.function.Predicate<String> removable) {
        Instant now = Instant.now();
        for (Target target : targets.values()) {
            Target was = applied.get(target.domain());
            String action = was == null ? (target.draining() ? "drain" : "add")
                    : !was.endpoint().equals(target.endpoint()) ? "move"
                    : was.draining() != target.draining() ? (target.draining() ? "drain" : "add") : null;
            if (action != null && due(target.domain(), now)) {
                tell(action, target, targets);
            }
        }
        for (String domain : List.copyOf(applied.keySet())) {
            if (!targets.containsKey(domain) && removable.test(domain) && due(domain, now)) {
                tell("remove", applied.get(domain), targets);
            }
        }
    }

    private boolean due(String domain, Instant now) {
        Instant at = retryAt.get(domain);
        return at == null || !now.isBefore(at);
    }

    private void tell(String action, Target target, Map<String, Target> targets) {
        Map<String, Object> change = new LinkedHashMap<>();
        change.put("action", action);
        change.put("domain", target.domain());
        change.put("ip", target.endpoint().ip());
        change.put("port", target.endpoint().port());
        change.put("group", group);
        List<Map<String, Object>> all = new ArrayList<>();
        for (Target t : targets.values()) {
            Map<String, Object> replica = new LinkedHashMap<>();
            replica.put("domain", t.domain());
            replica.put("ip", t.endpoint().ip());
            replica.put("port", t.endpoint().port());
            replica.put("draining", t.draining());
            all.add(replica);
        }
        change.put("replicas", all);
        String json;
        try {
            json = JSON.writeValueAsString(change);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        runs++;
        ExecHook.Result result = hook.run(json);
        if (result.ok()) {
            log.info("exec: {} {}: {}", action, target.domain(), result.describe());
            retryAt.remove(target.domain());
            if (action.equals("remove")) {
                applied.remove(target.domain());
            } else {
                applied.put(target.domain(), target);
            }
        } else {
            refused++;
            log.warn("exec: {} {} by {} not done ({}), tried again in {} s", action, target.domain(), hook.program(),
                    result.describe(), RETRY.toSeconds());
            retryAt.put(target.domain(), Instant.now().plus(RETRY));
        }
    }

    @Override
    public Map<String, Seen> seen() {
        Map<String, Seen> seen = new HashMap<>();
        applied.forEach((domain, target) -> seen.put(domain, new Seen(0, 0, target.draining())));
        return seen;
    }

    /** Runs of the program so far, and those that did not end in exit 0. */
    public int runs() {
        return runs;
    }

    public int refused() {
        return refused;
    }
}
