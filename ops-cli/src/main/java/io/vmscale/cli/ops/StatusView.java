package io.vmscale.cli.ops;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vmscale.broker.event.AdminResult;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** What {@code ops status} shows, put together from the scaler's and the balancer's answers. */
record StatusView(List<Object> replicas, List<Object> decisions, Map<String, Object> balancer,
                  Map<String, Object> scaler, Map<String, Object> broker, List<Object> hosts,
                  Map<String, Object> traffic, String trafficSaid) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Without a traffic driver's answer. */
    StatusView(List<Object> replicas, List<Object> decisions, Map<String, Object> balancer, Map<String, Object> scaler,
               Map<String, Object> broker, List<Object> hosts) {
        this(replicas, decisions, balancer, scaler, broker, hosts, Map.of(), "");
    }

    @SuppressWarnings("unchecked")
    static StatusView of(OpsClient.Answers answers) {
        List<Object> replicas = List.of();
        List<Object> decisions = List.of();
        Map<String, Object> balancer = Map.of();
        Map<String, Object> scaler = Map.of();
        Map<String, Object> broker = Map.of();
        List<Object> hosts = List.of();
        Map<String, Object> traffic = Map.of();
        String trafficSaid = "";
        for (AdminResult result : answers.results()) {
            Map<String, Object> data = result.data();
            if (result.responder().startsWith("scaler@")) {
                replicas = (List<Object>) data.getOrDefault("replicas", List.of());
                decisions = (List<Object>) data.getOrDefault("decisions", List.of());
                scaler = (Map<String, Object>) data.getOrDefault("scaler", Map.of());
                hosts = (List<Object>) data.getOrDefault("hosts", List.of());
            } else if (result.responder().startsWith("balancer@") && data.containsKey("traffic")) {
                traffic = (Map<String, Object>) data.get("traffic"); // a traffic driver's, for its group
                trafficSaid = result.message();
            } else if (result.responder().startsWith("balancer@") && data.containsKey("balancer")) {
                balancer = (Map<String, Object>) data.get("balancer");
            } else if (result.responder().startsWith("broker@")) {
                broker = (Map<String, Object>) data.getOrDefault("broker", Map.of());
            }
        }
        return new StatusView(replicas, decisions, balancer, scaler, broker, hosts, traffic, trafficSaid);
    }

    /** {@code {"replicas": [...], "decisions": [...], "balancer": {...}, "scaler": {...}, "broker": {...}}} */
    String json() {
        Map<String, Object> all = new LinkedHashMap<>();
        all.put("replicas", replicas);
        all.put("decisions", decisions);
        all.put("balancer", balancer);
        all.put("scaler", scaler);
        all.put("broker", broker);
        all.put("hosts", hosts);
        all.put("traffic", traffic);
        try {
            return JSON.writeValueAsString(all);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    String text() {
        StringBuilder b = new StringBuilder();
        boolean manyHosts = hosts.size() > 1;
        b.append(manyHosts ? String.format(Locale.ROOT, "%-16s %-9s %6s  %-21s %s%n", "REPLICA", "STATE", "CPU %",
                "ENDPOINT", "HOST") : String.format(Locale.ROOT, "%-16s %-9s %6s  %s%n", "REPLICA", "STATE", "CPU %",
                "ENDPOINT"));
        for (Object o : replicas) {
            Map<?, ?> r = (Map<?, ?>) o;
            Object cpu = r.get("cpu");
            boolean warming = "READY".equals(r.get("state")) && Boolean.FALSE.equals(r.get("warm"));
            String note = warming ? "  (warming up: not load yet)"
                    : "POOLED".equals(r.get("state")) ? "  (warm pool" + (r.get("power") == null ? ""
                    : ", " + r.get("power").toString().toLowerCase(Locale.ROOT)) + ")"
                    : "WARMING".equals(r.get("state")) ? "  (warm pool: booting and warming)" : "";
            if (Boolean.TRUE.equals(r.get("protected"))) {
                note += "  (protected from scale-in)";
            }
            if (scaler.get("rollout") instanceof Map<?, ?> rollout && rollout.get("outdated") instanceof List<?> old
                    && old.contains(r.get("domain"))) {
                note += "  (boots " + (r.get("image") == null ? "an unmarked image" : r.get("image")) + ", not "
                        + rollout.get("image") + ")";
            }
            if (r.get("check") != null) {
                note += "  check " + r.get("check");
            }
            boolean pool = "POOLED".equals(r.get("state")) || "WARMING".equals(r.get("state"));
            String endpoint = String.valueOf(r.get("endpoint") == null ? "-" : r.get("endpoint"));
            b.append(String.format(Locale.ROOT, "%-16s %-9s %6s  %s%s%n", r.get("domain"), r.get("state"),
                    cpu instanceof Number n && !pool ? String.format(Locale.ROOT, "%.1f", n.doubleValue()) : "-",
                    manyHosts ? String.format(Locale.ROOT, "%-21s %s", endpoint, r.get("host")) : endpoint, note));
        }
        if (replicas.isEmpty()) {
            b.append("(no replicas)\n");
        }
        if (!scaler.isEmpty()) {
            b.append(String.format(Locale.ROOT, "scaler: %s, replicas %s..%s%s%s%s%s%s%n", scaler.get("policy"),
                    scaler.get("minReplicas"), scaler.get("maxReplicas"),
                    scaler.get("wanted") != null ? ", wants " + scaler.get("wanted") : "",
                    scaler.get("acting") != null ? ", " + scaler.get("acting") : "",
                    Boolean.TRUE.equals(scaler.get("paused")) ? ", PAUSED" : "",
                    Boolean.TRUE.equals(scaler.get("dryRun")) ? ", DRY RUN" : "",
                    scaler.get("desired") != null ? ", scaling to " + scaler.get("desired") : ""));
            if (scaler.get("warmPool") instanceof Map<?, ?> pool && pool.get("size") instanceof Number size
                    && size.intValue() > 0) {
                b.append(String.format(Locale.ROOT, "warm pool: %s of %s %s ready%s%s%s%n", pool.get("ready"),
                        pool.get("target"), pool.get("tier"),
                        pool.get("warming") instanceof Number w && w.intValue() > 0 ? ", " + w + " warming" : "",
                        pool.get("acting") != null ? ", " + pool.get("acting") : "",
                        pool.get("held") != null ? ", not refilled: " + pool.get("held") : ""));
            }
            if (scaler.get("schedules") instanceof List<?> schedules) {
                for (Object o : schedules) {
                    Map<?, ?> schedule = (Map<?, ?>) o;
                    b.append(String.format(Locale.ROOT, "schedule %s (%s, %s): %s, next %s%n", schedule.get("name"),
                            schedule.get("cron"), schedule.get("timeZone"), schedule.get("sets"),
                            schedule.get("next") == null ? "never" : schedule.get("next")));
                }
            }
            if (scaler.get("rollout") instanceof Map<?, ?> rollout && rollout.get("to") != null) {
                b.append(String.format(Locale.ROOT, "%s to %s: %s of %s replaced, %s%n",
                        Boolean.TRUE.equals(rollout.get("rollback")) ? "rollback" : "rolling update", rollout.get("to"),
                        rollout.get("replaced"), rollout.get("total"), rollout.get("doing")));
            } else if (scaler.get("rollout") instanceof Map<?, ?> rollout && rollout.get("image") instanceof String image
                    && !image.isEmpty()) {
                b.append("image: ").append(image).append('\n');
            }
            hosts(hosts).lines().forEach(line -> b.append(hosts.size() > 1 ? "host " : "host: ").append(line).append('\n'));
            if (scaler.get("migrations") instanceof Number moved && moved.intValue() > 0) {
                b.append("live migrations: ").append(moved).append('\n');
            }
        }
        if (!decisions.isEmpty()) {
            b.append("last decisions:\n");
            for (Object o : decisions) {
                Map<?, ?> d = (Map<?, ?>) o;
                b.append(String.format(Locale.ROOT, "  %s %-7s %s->%s %s %s: %s%n", d.get("at"), d.get("action"),
                        d.get("fromReplicas"), d.get("toReplicas"), d.get("policy"), d.get("reasonCode"), d.get("reason")));
            }
        }
        if (!balancer.isEmpty()) {
            Map<?, ?> stats = balancer.get("stats") instanceof Map<?, ?> m ? m : Map.of();
            Map<?, ?> totals = balancer.get("totals") instanceof Map<?, ?> m ? m : Map.of();
            b.append(String.format(Locale.ROOT, "balancer: load %s, %s in use, %s answers/s, p99 %s ms; "
                            + "sent %s, answered %s, wrong %s, timed out %s; one replica's capacity %s requests/s "
                            + "(%s calibration(s))%n",
                    balancer.get("mode"), balancer.get("members"), number(stats.get("throughput"), "%.0f"),
                    number(stats.get("p99Ms"), "%.2f"), totals.get("sent"), totals.get("answered"), totals.get("wrong"),
                    totals.get("timedOut"), number(balancer.get("capacity"), "%.0f"),
                    balancer.get("calibrations") == null ? "-" : balancer.get("calibrations")));
        }
        if (!trafficSaid.isEmpty()) {
            b.append(trafficSaid).append('\n');
        }
        if (!broker.isEmpty()) {
            b.append(String.format(Locale.ROOT, "broker: journal %s, paging %s (disk guard at %s %%) in %s%n",
                    bytes(broker.get("journalBytes")), bytes(broker.get("pagingBytes")), broker.get("maxDiskUsage"),
                    broker.get("dataDir")));
        }
        return b.toString();
    }

    /** One line per host: reachable or not, the group's replicas on it, their CPU, its figures and the room left. */
    static String hosts(List<Object> hosts) {
        StringBuilder b = new StringBuilder();
        for (Object o : hosts) {
            Map<?, ?> h = (Map<?, ?>) o;
            List<?> replicas = h.get("replicas") instanceof List<?> l ? l : List.of();
            Object max = h.get("maxReplicas");
            String count = replicas.size() + (max instanceof Number m && m.intValue() >= 0 ? "/" + m : "") + " replica(s)";
            if (Boolean.TRUE.equals(h.get("reachable"))) {
                b.append(String.format(Locale.ROOT, "%s: %s%s, CPU %s %%, room for %s more; %s vCPU(s) on %s CPU(s), %s MiB free, "
                                + "replicas answer on %s%n", h.get("uri"), count,
                        replicas.isEmpty() ? "" : " " + replicas, number(h.get("cpu"), "%.0f"), h.get("room"),
                        h.get("activeVcpus"), h.get("cpus"), h.get("freeMemoryMiB") == null ? "-" : h.get("freeMemoryMiB"),
                        h.get("address")));
            } else {
                b.append(String.format(Locale.ROOT, "%s: UNREACHABLE%s (%s), %s%s%n", h.get("uri"),
                        h.get("unreachableSeconds") == null ? "" : " for " + h.get("unreachableSeconds") + " s", h.get("error"),
                        count, replicas.isEmpty() ? "" : " " + replicas));
            }
        }
        return b.toString();
    }

    private static String bytes(Object value) {
        if (!(value instanceof Number n)) {
            return "-";
        }
        long bytes = n.longValue();
        return bytes < 1024 * 1024 ? String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0)
                : String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
    }

    private static String number(Object value, String format) {
        return value instanceof Number n ? String.format(Locale.ROOT, format, n.doubleValue()) : "-";
    }

    /** {@code ops groups}: a line per group. */
    static String groups(List<Object> groups) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-16s %5s %8s %9s  %-17s %s%n", "GROUP", "READY",
                "REPLICAS", "MIN..MAX", "POLICY", "IMAGE"));
        for (Object o : groups) {
            Map<?, ?> g = (Map<?, ?>) o;
            b.append(String.format(Locale.ROOT, "%-16s %5s %8s %9s  %-17s %s%s%n", g.get("name"), g.get("ready"),
                    g.get("replicas"), g.get("minReplicas") + ".." + g.get("maxReplicas"), g.get("policy"),
                    g.get("image") == null || "".equals(g.get("image")) ? "the built-in guest" : g.get("image"),
                    Boolean.TRUE.equals(g.get("deleting")) ? "  BEING DELETED"
                            + (g.get("deletionWaits") == null ? "" : " (waits: " + g.get("deletionWaits") + ")")
                            : Boolean.TRUE.equals(g.get("changing")) ? "  BEING CHANGED"
                            : Boolean.TRUE.equals(g.get("paused")) ? "  PAUSED" : ""));
        }
        return b.toString();
    }
}
