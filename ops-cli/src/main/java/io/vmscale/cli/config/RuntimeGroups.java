package io.vmscale.cli.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vmscale.config.ConfigException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Groups created, changed and deleted at run time ({@code ops group create|change|delete}), over the configuration
 * file's: kept on the broker as the state {@value #STATE} (where the rest of vmscale's run-time state is), read back by
 * every component that starts. The file is the starting state; what was kept is laid over it:
 * <ul>
 *   <li>a group created at run time is added (as last changed), unless the file now has a group of its name: then the
 *       file's wins;</li>
 *   <li>a group of the file changed at run time is as it was changed while the file's element of it is what it was
 *       when it was changed; once the file changes that element, the file's wins;</li>
 *   <li>a group of the file deleted at run time stays deleted while the file's element of it is what it was when it
 *       was deleted; once the file changes that element, the file's wins and the group is back.</li>
 * </ul>
 */
public final class RuntimeGroups {
    /** The kept state's name on the broker ({@code vmscale.state.groups}). */
    public static final String STATE = "groups";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern ELEMENT = Pattern.compile("'groups\\[\\d+]\\.");

    private final Map<String, String> created = new LinkedHashMap<>();
    private final Map<String, String> deleted = new LinkedHashMap<>();
    /** A file's group changed at run time: its spec now, and the file's element of it then. */
    private final Map<String, Changed> changed = new LinkedHashMap<>();

    private record Changed(String spec, String file) {
    }

    /** Nothing changed at run time. */
    public RuntimeGroups() {
    }

    /** What was kept, or nothing when {@code json} is not what {@link #toJson} writes (logged by the caller). */
    public static Optional<RuntimeGroups> fromJson(String json) {
        try {
            JsonNode tree = JSON.readTree(json);
            RuntimeGroups kept = new RuntimeGroups();
            tree.path("created").fields().forEachRemaining(e -> kept.created.put(e.getKey(), e.getValue().asText()));
            tree.path("deleted").fields().forEachRemaining(e -> kept.deleted.put(e.getKey(), e.getValue().asText()));
            tree.path("changed").fields().forEachRemaining(e -> kept.changed.put(e.getKey(),
                    new Changed(e.getValue().path("spec").asText(), e.getValue().path("file").asText())));
            return Optional.of(kept);
        } catch (JsonProcessingException | RuntimeException e) {
            return Optional.empty();
        }
    }

    public synchronized String toJson() {
        ObjectNode tree = JSON.createObjectNode();
        ObjectNode c = tree.putObject("created");
        created.forEach(c::put);
        ObjectNode d = tree.putObject("deleted");
        deleted.forEach(d::put);
        ObjectNode ch = tree.putObject("changed");
        changed.forEach((name, each) -> ch.putObject(name).put("spec", each.spec()).put("file", each.file()));
        return tree.toString();
    }

    /** A group created at run time: its spec, as given. */
    public synchronized void created(String name, String spec) {
        created.put(name, spec);
        deleted.remove(name);
        changed.remove(name);
    }

    /**
     * A group's spec changed at run time: {@code spec} is its element now; {@code file} is the configuration file's (to
     * tell whether the file changed the group since).
     */
    public synchronized void changed(String name, String spec, VmscaleConfig file) {
        if (created.containsKey(name)) {
            created.put(name, spec);
            return;
        }
        changed.put(name, new Changed(spec, file.groups().stream().filter(g -> g.name().equals(name)).findFirst()
                .map(g -> element(g).toString()).orElse("")));
    }

    /**
     * A group deleted at run time; {@code file} is the configuration file's (to tell whether the file changed the
     * group since).
     */
    public synchronized void deleted(String name, VmscaleConfig file) {
        changed.remove(name);
        if (created.remove(name) == null) {
            deleted.put(name, file.groups().stream().filter(g -> g.name().equals(name)).findFirst()
                    .map(g -> element(g).toString()).orElse(""));
        }
    }

    /**
     * The file's configuration with what was kept laid over it (see the class), each step said to {@code log}.
     * A created group that no longer fits with the file's (a prefix now taken, a key the file's defaults refuse) is
     * left out and said.
     */
    public synchronized VmscaleConfig over(VmscaleConfig file, Consumer<String> log) {
        VmscaleConfig c = file;
        for (Map.Entry<String, String> each : deleted.entrySet()) {
            Optional<VmscaleConfig> there = file.groups().stream().filter(g -> g.name().equals(each.getKey()))
                    .findFirst();
            if (there.isEmpty()) {
                continue;
            }
            if (element(there.get()).toString().equals(each.getValue())) {
                c = without(c, each.getKey());
                log.accept("group " + each.getKey() + ": deleted at run time, left out");
            } else {
                log.accept("group " + each.getKey() + ": deleted at run time, but the file changed it since: the "
                        + "file's wins");
            }
        }
        for (Map.Entry<String, Changed> each : changed.entrySet()) {
            Optional<VmscaleConfig> there = file.groups().stream().filter(g -> g.name().equals(each.getKey()))
                    .findFirst();
            if (there.isEmpty() || c.group(each.getKey()).isEmpty()) {
                continue;
            }
            if (!element(there.get()).toString().equals(each.getValue().file())) {
                log.accept("group " + each.getKey() + ": changed at run time, but the file changed it since: the "
                        + "file's wins");
                continue;
            }
            try {
                c = replaced(c, each.getKey(), each.getValue().spec());
                log.accept("group " + each.getKey() + ": changed at run time, taken back");
            } catch (IllegalArgumentException e) {
                log.accept("group " + each.getKey() + ": changed at run time, the file's kept: " + e.getMessage());
            }
        }
        for (Map.Entry<String, String> each : created.entrySet()) {
            if (file.group(each.getKey()).isPresent()) {
                log.accept("group " + each.getKey() + ": created at run time, but the file has a group of that name "
                        + "now: the file's wins");
                continue;
            }
            try {
                c = with(c, each.getKey(), each.getValue());
                log.accept("group " + each.getKey() + ": created at run time, taken back");
            } catch (IllegalArgumentException e) {
                log.accept("group " + each.getKey() + ": created at run time, left out: " + e.getMessage());
            }
        }
        return c;
    }

    /**
     * The configuration with one more group: {@code spec} (an element of {@code groups}: the keys it gives over the
     * top level) named {@code name}, checked with the others as if the file gave it. An
     * {@link IllegalArgumentException} names the key that is wrong.
     */
    public static VmscaleConfig with(VmscaleConfig c, String name, String spec) {
        JsonNode element = object(spec, "group " + name + "'s spec", "an element of the configuration's groups");
        JsonNode prefix = element.path("libvirt").path("prefix");
        if (!prefix.isMissingNode() && !prefix.asText().equals(name)) {
            throw new IllegalArgumentException("group " + name + "'s spec: key 'libvirt.prefix': expected the group's "
                    + "name " + name + " (or nothing), got \"" + prefix.asText() + "\"");
        }
        ObjectNode mine = ((ObjectNode) element).deepCopy();
        mine.withObject("/libvirt").put("prefix", name);
        ObjectNode top = tree(c.all().get(0));
        ArrayNode groups = top.putArray("groups");
        c.groups().forEach(g -> groups.add(element(g)));
        groups.add(mine);
        try {
            VmscaleConfig next = ConfigLoader.parse("group " + name + "'s spec", top.toString());
            if (next.group(name).isEmpty()) {
                throw new IllegalStateException("group " + name + " not in the configuration made with it");
            }
            return next;
        } catch (ConfigException e) {
            throw new IllegalArgumentException(ELEMENT.matcher(e.getMessage()).replaceAll("'"));
        }
    }

    /**
     * The configuration with the group {@code name} (not the first) given by {@code spec} instead, in its place among
     * the others, checked as {@link #with} checks.
     */
    public static VmscaleConfig replaced(VmscaleConfig c, String name, String spec) {
        VmscaleConfig next = with(without(c, name), name, spec);
        List<VmscaleConfig> groups = new ArrayList<>();
        for (VmscaleConfig g : c.groups()) {
            groups.add(g.name().equals(name) ? next.group(name).orElseThrow() : g);
        }
        VmscaleConfig top = next.all().get(0);
        return new VmscaleConfig(top.broker(), top.libvirt(), top.monitor(), top.provisioning(), top.scaler(),
                top.balancer(), top.guest(), top.application(), top.traffic(), groups);
    }

    /**
     * A group's element, all of its keys (as {@link #with} takes it), with {@code patch} laid over it as a JSON merge
     * patch (RFC 7386): an object's keys are merged into the element's, a {@code null} removes one (its default
     * then), anything else replaces it.
     */
    public static String patched(VmscaleConfig group, String name, String patch) {
        JsonNode over = object(patch, "group " + name + "'s change", "the keys to change, as in the group's element");
        return merge(element(group), over).toString();
    }

    /** {@code text} read as a JSON object; refused, saying {@code what} and {@code expected}, otherwise. */
    private static JsonNode object(String text, String what, String expected) {
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(what + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException(what + ": expected a JSON object (" + expected + "), got "
                    + (node == null ? "nothing" : node.getNodeType()));
        }
        return node;
    }

    private static JsonNode merge(JsonNode target, JsonNode patch) {
        if (!patch.isObject()) {
            return patch;
        }
        ObjectNode result = target != null && target.isObject() ? ((ObjectNode) target).deepCopy()
                : JSON.createObjectNode();
        patch.fields().forEachRemaining(e -> {
            if (e.getValue().isNull()) {
                result.remove(e.getKey());
            } else {
                result.set(e.getKey(), merge(result.get(e.getKey()), e.getValue()));
            }
        });
        return result;
    }

    /** The keys whose values differ between two groups (dotted, e.g. {@code scaler.maxReplicas}), in order. */
    public static List<String> differences(VmscaleConfig before, VmscaleConfig after) {
        List<String> keys = new ArrayList<>();
        differences("", element(before), element(after), keys);
        return keys;
    }

    private static void differences(String at, JsonNode a, JsonNode b, List<String> keys) {
        if (a != null && b != null && a.isObject() && b.isObject()) {
            java.util.Set<String> names = new java.util.LinkedHashSet<>();
            a.fieldNames().forEachRemaining(names::add);
            b.fieldNames().forEachRemaining(names::add);
            for (String name : names) {
                differences(at.isEmpty() ? name : at + "." + name, a.get(name), b.get(name), keys);
            }
        } else if (a == null ? b != null : !a.equals(b)) {
            keys.add(at);
        }
    }

    /** The configuration without the group {@code name} (not the first). */
    public static VmscaleConfig without(VmscaleConfig c, String name) {
        List<VmscaleConfig> others = new ArrayList<>(c.groups());
        others.removeIf(g -> g.name().equals(name));
        VmscaleConfig top = c.all().get(0);
        return new VmscaleConfig(top.broker(), top.libvirt(), top.monitor(), top.provisioning(), top.scaler(),
                top.balancer(), top.guest(), top.application(), top.traffic(), others);
    }

    /** One group's keys, all of them, as the configuration file would give them (no {@code groups}). */
    private static ObjectNode tree(VmscaleConfig g) {
        ObjectNode tree = JSON.valueToTree(g);
        tree.remove("groups");
        return tree;
    }

    /**
     * One group's own keys, all of them, as an element of {@code groups} (what {@link #with} takes): without the
     * deployment's sections (the broker with its users' passwords, the monitor, the hosts), which every group shares:
     * of {@code libvirt}, its prefix only.
     */
    private static ObjectNode element(VmscaleConfig g) {
        ObjectNode tree = tree(g);
        tree.remove(List.of("broker", "monitor"));
        tree.putObject("libvirt").put("prefix", g.name());
        return tree;
    }
}
