package io.vmscale.broker.event;

import java.util.List;
import java.util.Optional;

/**
 * The admin vocabulary on the wire: which {@code admin.command} names each component answers, with their
 * arguments and a line of help. The components route by it, and the CLI's commands, the shell's help and its
 * completion words are made from it, so none of them can drift from another.
 */
public final class AdminVerbs {
    /** The {@code target} of commands for the scaler. */
    public static final String SCALER = "scaler";
    /** The {@code target} of commands for the balancer. */
    public static final String BALANCER = "balancer";
    /** The {@code target} of a command every component that knows it answers ({@code status}). */
    public static final String ALL = "all";
    /**
     * The longest command line an operator's tool sends (the shell refuses a longer one itself, saying so): every
     * command fits in far less, and the balancer takes at most 8 arguments of 200 characters.
     */
    public static final int MAX_LINE = 1024;

    /**
     * One command.
     *
     * @param component  who answers it: {@link #SCALER} or {@link #BALANCER}
     * @param name       the command's name on the wire
     * @param arguments  its arguments as a usage line shows them ("" for none)
     * @param help       what it does, in a sentence
     * @param shortForms words of the original one-line syntax that stand for it ({@code +} for {@code add},
     *                   {@code low} for {@code load low})
     * @param words      the fixed words its arguments take, for completion ({@code on}, {@code off})
     */
    public record Verb(String component, String name, String arguments, String help, List<String> shortForms,
                       List<String> words) {
        public Verb {
            Fields.text("component", component);
            Fields.text("name", name);
            arguments = arguments == null ? "" : arguments;
            Fields.text("help", help);
            shortForms = Fields.list("shortForms", shortForms);
            words = Fields.list("words", words);
        }

        /** Its usage: the name and its arguments. */
        public String usage() {
            return arguments.isEmpty() ? name : name + " " + arguments;
        }
    }

    private static final List<Verb> VERBS = List.of(
            new Verb(BALANCER, "add", "IP PORT", "Balance over one more server (the original '+ IP PORT').",
                    List.of("+"), List.of()),
            new Verb(BALANCER, "remove", "IP PORT", "Stop balancing over a server (the original '- IP PORT').",
                    List.of("-"), List.of()),
            new Verb(BALANCER, "clear", "", "Empty the balancer's server list (the original 'clear_servers').",
                    List.of("clear_servers"), List.of()),
            new Verb(BALANCER, "line", "WORDS...", "A command in the original one-line syntax, as typed "
                    + "('+ 10.0.0.5 21001', 'clear_servers', 'custom 0.3').", List.of(), List.of()),
            new Verb(BALANCER, "refresh", "", "Replace the balancer's server list with the replicas the scaler lists "
                    + "READY (libvirt's running ones when no scaler answers).", List.of(), List.of()),
            new Verb(BALANCER, "load", "MODE [R]", "Set the offered load: low, mid, high, off, or custom R (R "
                    + "replicas' worth).", List.of("low", "mid", "high", "off", "custom"),
                    List.of("low", "mid", "high", "off", "custom")),
            new Verb(SCALER, "pause", "", "The scaler still decides and publishes, but acts on nothing.", List.of(),
                    List.of()),
            new Verb(SCALER, "resume", "", "The scaler acts on its decisions again.", List.of(), List.of()),
            new Verb(SCALER, "scale", "N", "Go to N replicas now, one at a time (within min..max); then the policy "
                    + "decides again.", List.of(), List.of()),
            new Verb(SCALER, "min", "N", "Set the fewest replicas.", List.of(), List.of()),
            new Verb(SCALER, "max", "N", "Set the most replicas.", List.of(), List.of()),
            new Verb(SCALER, "policy", "NAME", "Choose the scaling policy: threshold-window or target-tracking.",
                    List.of(), List.of("threshold-window", "target-tracking")),
            new Verb(SCALER, "dry-run", "on|off", "on: decisions are published, none is acted on; off: acted on "
                    + "again.", List.of(), List.of("on", "off")),
            new Verb(SCALER, "pool", "N [paused|saved]", "Size the warm pool: N replicas kept booted, warmed and "
                    + "paused (or saved); a scale-up takes one first. 0 removes it.", List.of(),
                    List.of("paused", "saved")),
            new Verb(SCALER, "migrate", "DOMAIN HOST", "Live-migrate a READY replica to another host of "
                    + "libvirt.uris; it keeps serving, and answers at its new endpoint once there.", List.of(),
                    List.of()),
            new Verb(SCALER, "drain", "DOMAIN", "Drain a READY replica and stop it: one replica fewer (not below "
                    + "min); the policy decides again after it.", List.of(), List.of()),
            new Verb(SCALER, "replace", "DOMAIN", "Drain a READY replica and stop it, with a new one started in its "
                    + "place (never kept for the warm pool).", List.of(), List.of()),
            new Verb(SCALER, "protect", "DOMAIN on|off", "Protect a replica from scale-in (on): the policy's "
                    + "scale-ins drain another, or hold while every READY one is protected; off: it may go again. "
                    + "An operator's drain or replace still takes it.", List.of(), List.of("on", "off")),
            new Verb(SCALER, "image", "POOL/VOLUME", "Boot new replicas from another base image of the group's "
                    + "storage pool, and replace the others in a rolling update.", List.of(),
                    List.of()),
            new Verb(SCALER, "rollout", "status|start|cancel|resume|rollback", "The rolling update: its progress; "
                    + "start one for replicas booting another image than the group's; stop it where it is; go on from "
                    + "a checkpoint; or return to the image before.", List.of(),
                    List.of("status", "start", "cancel", "resume", "rollback")),
            new Verb(SCALER, "hosts", "", "The hosts: reachable or not, the group's replicas on each, their CPU, each "
                    + "host's figures and the room left.", List.of(), List.of()),
            new Verb(SCALER, "status", "", "The scaler's replicas, settings and last decisions.", List.of(), List.of()),
            new Verb(SCALER, "groups", "", "The groups the scaler reconciles: each one's replicas, limits, policy and "
                    + "image.", List.of(), List.of()),
            new Verb(SCALER, "group", "create NAME SPEC|change NAME PATCH|delete NAME", "Create a group of replicas "
                    + "from SPEC (its configuration element, JSON, as an element of the configuration's groups; 'ops "
                    + "group create NAME --file FILE' reads it from a file); change one (PATCH: the keys to change, a "
                    + "JSON merge patch over its element; its scaler starts again with it and takes its replicas back, "
                    + "a new application.image is rolled out); or delete one: its replicas drained, its domains and "
                    + "volumes removed. Kept over restarts.", List.of(), List.of("create", "change", "delete")),
            new Verb(BALANCER, "status", "", "The balancer's members, load mode and figures.", List.of(), List.of()));

    private AdminVerbs() {
    }

    /** Every command of every component. */
    public static List<Verb> all() {
        return VERBS;
    }

    /** The commands one component answers, in the table's order. */
    public static List<Verb> of(String component) {
        return VERBS.stream().filter(v -> v.component().equals(component)).toList();
    }

    /** The names of the commands one component answers. */
    public static List<String> names(String component) {
        return of(component).stream().map(Verb::name).toList();
    }

    /** The component's command with this name, or empty. */
    public static Optional<Verb> find(String component, String name) {
        return VERBS.stream().filter(v -> v.component().equals(component) && v.name().equals(name)).findFirst();
    }

    /** True when a command with this target and name is for the component ({@code all}: when it knows the name). */
    public static boolean isFor(String component, String target, String name) {
        return target.equals(component) || target.equals(ALL) && find(component, name).isPresent();
    }
}
