package io.vmscale.balancer.traffic;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HAProxy through its Runtime API: one server per replica, named after its domain, in a backend of the group's
 * (declared in HAProxy's configuration, with a dynamic balance algorithm and no servers of the group). READY:
 * {@code add server} then {@code set server ... state ready}; DRAINING: {@code state drain}, drained once HAProxy
 * reports no session and nothing queued for it; gone: {@code state maint} then {@code del server} (tried again
 * while sessions hold it). Every sync compares with {@code show servers state}, so an HAProxy restarted with an
 * empty backend gets its servers back at the next sync, and a server of the group that should not be there is
 * removed. Servers whose names are not the group's are never touched.
 */
public final class HaproxyDriver implements TrafficDriver {
    private static final Logger log = LoggerFactory.getLogger(HaproxyDriver.class);

    private final HaproxyRuntime runtime;
    private final String backend;
    private final String serverOptions;
    private final Predicate<String> ours;
    /** Servers set to drain by us, and whether the last look found them empty. */
    private final Map<String, Seen> seen = new HashMap<>();

    /**
     * @param serverOptions appended to {@code add server} (e.g. {@code check inter 2s}); empty for none
     * @param ours          the group's server names ({@code PREFIX-NNNN})
     */
    public HaproxyDriver(HaproxyRuntime runtime, String backend, String serverOptions, Predicate<String> ours) {
        this.runtime = runtime;
        this.backend = backend;
        this.serverOptions = serverOptions.strip();
        this.ours = ours;
    }

    @Override
    public String name() {
        return "haproxy";
    }

    @Override
    public void sync(Map<String, Target> targets, Predicate<String> removable) {
        Map<String, HaproxyRuntime.Server> present = new HashMap<>();
        for (HaproxyRuntime.Server server : runtime.servers(backend)) {
            present.put(server.name(), server);
        }
        for (Target target : targets.values()) {
            String server = backend + "/" + target.domain();
            HaproxyRuntime.Server now = present.get(target.domain());
            if (now == null) {
                runtime.change("add server " + server + " " + address(target) + (serverOptions.isEmpty() ? ""
                        : " " + serverOptions));
                if (serverOptions.contains("check")) {
                    runtime.change("enable health " + server);
                }
                runtime.change("set server " + server + " state " + (target.draining() ? "drain" : "ready"));
                log.info("haproxy: {} {} at {}", target.draining() ? "added (draining)" : "added and enabled", server,
                        address(target));
                continue;
            }
            if (!now.address().equals(target.endpoint().ip()) || now.port() != target.endpoint().port()) {
                runtime.change("set server " + server + " addr " + target.endpoint().ip() + " port "
                        + target.endpoint().port());
                log.info("haproxy: {} moved to {}", server, address(target));
            }
            if (target.draining() && !now.draining()) {
                runtime.change("set server " + server + " state drain");
                log.info("haproxy: {} set to drain", server);
            } else if (!target.draining() && (now.draining() || now.maintenance())) {
                runtime.change("set server " + server + " state ready");
                log.info("haproxy: {} back in rotation", server);
            }
        }
        Set<String> remove = new HashSet<>();
        for (String name : present.keySet()) {
            if (ours.test(name) && !targets.containsKey(name) && removable.test(name)) {
                remove.add(name);
            }
        }
        for (String name : remove) {
            String server = backend + "/" + name;
            if (!present.get(name).maintenance()) {
                runtime.change("set server " + server + " state maint");
            }
            try {
                runtime.change("del server " + server);
                log.info("haproxy: {} removed", server);
            } catch (HaproxyRuntime.HaproxyException e) {
                log.info("haproxy: {} in maintenance, not removed yet: {}", server, e.getMessage());
            }
        }
        look(targets);
    }

    /** Reads each server's sessions; a draining one with none in progress or queued is drained. */
    private void look(Map<String, Target> targets) {
        Map<String, Map<String, String>> stats = runtime.stats(backend);
        seen.clear();
        for (Target target : targets.values()) {
            Map<String, String> row = stats.get(target.domain());
            if (row == null) {
                continue;
            }
            int inFlight = number(row.get("scur")) + number(row.get("qcur"));
            boolean drainingThere = row.getOrDefault("status", "").startsWith("DRAIN")
                    || row.getOrDefault("status", "").startsWith("MAINT");
            seen.put(target.domain(), new Seen(number(row.get("stot")), inFlight,
                    target.draining() && drainingThere && inFlight == 0));
        }
    }

    @Override
    public Map<String, Seen> seen() {
        return Map.copyOf(seen);
    }

    private static String address(Target target) {
        String ip = target.endpoint().ip();
        return (ip.contains(":") ? "[" + ip + "]" : ip) + ":" + target.endpoint().port();
    }

    private static int number(String value) {
        try {
            return value == null || value.isEmpty() ? 0 : Integer.parseInt(value);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
