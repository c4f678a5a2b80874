package io.vmscale.balancer;

import io.vmscale.broker.event.Endpoint;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The balancer's commands, in the original one-line syntax ({@code + 10.0.0.5 21001},
 * {@code - 10.0.0.5 21001}, {@code clear_servers}, {@code refresh}, {@code low}, {@code mid},
 * {@code high}, {@code custom 0.3}) or as a command name with arguments ({@code add 10.0.0.5 21001},
 * {@code remove ...}, {@code clear}, {@code refresh}, {@code load low}, {@code load custom 0.3}).
 * Parsing is pure, bounded (at most {@link #MAX_ARGS} arguments of {@link #MAX_LENGTH} characters)
 * and never recursive; a malformed command gets a message saying what is wrong and changes nothing.
 */
public final class AdminSyntax {
    /** The longest command line, command name or argument, in characters. */
    static final int MAX_LENGTH = 200;
    /** The most arguments a command may have (the longest, {@code load custom R}, has two). */
    static final int MAX_ARGS = 8;
    private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]+");

    /** A parsed command. */
    public sealed interface Command permits Add, Remove, Clear, Refresh, Load, Status {
    }

    public record Add(Endpoint endpoint) implements Command {
    }

    public record Remove(Endpoint endpoint) implements Command {
    }

    public record Clear() implements Command {
    }

    public record Refresh() implements Command {
    }

    /** The balancer's members, mode and figures. */
    public record Status() implements Command {
    }

    /** {@code mode} is low, mid, high, off or custom; {@code replicas} is set for custom only. */
    public record Load(String mode, double replicas) implements Command {
    }

    /** A command that cannot be carried out, and why. */
    public static final class Malformed extends Exception {
        private static final long serialVersionUID = 1L;

        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    private AdminSyntax() {
    }

    /** Parses one line of the original syntax (or the named form). */
    public static Command parseLine(String line) throws Malformed {
        if (line == null || line.isBlank()) {
            throw new Malformed("empty command; try '+ IP PORT', '- IP PORT', 'clear_servers', 'refresh', "
                    + "'low', 'mid', 'high' or 'custom R'");
        }
        if (line.length() > MAX_LENGTH) {
            throw new Malformed("command too long (" + line.length() + " characters, at most " + MAX_LENGTH + ")");
        }
        List<String> words = List.of(line.strip().split("\\s+"));
        return parse(words.get(0), words.subList(1, words.size()));
    }

    /** Parses a command name and its arguments. */
    public static Command parse(String name, List<String> args) throws Malformed {
        if (name == null || name.isBlank()) {
            throw new Malformed("empty command");
        }
        if (name.length() > MAX_LENGTH) {
            throw new Malformed("command too long (" + name.length() + " characters, at most " + MAX_LENGTH + ")");
        }
        if (args == null) {
            args = List.of();
        }
        if (args.size() > MAX_ARGS) {
            throw new Malformed("too many arguments (" + args.size() + ", at most " + MAX_ARGS + ")");
        }
        for (String arg : args) {
            if (arg == null) {
                throw new Malformed("an argument is missing (null)");
            }
            if (arg.length() > MAX_LENGTH) {
                throw new Malformed("argument too long (" + arg.length() + " characters, at most " + MAX_LENGTH + ")");
            }
        }
        String word = name.toLowerCase(Locale.ROOT);
        if (word.equals("load")) { // 'load MODE ...' is MODE ...: one level, never again
            if (args.isEmpty()) {
                throw new Malformed("'load' needs low, mid, high, off or custom R");
            }
            String mode = args.get(0).toLowerCase(Locale.ROOT);
            if (!LOAD_MODES.contains(mode)) {
                throw new Malformed("unknown command '" + shorten(args.get(0)) + "' after 'load': it needs low, mid, "
                        + "high, off or custom R");
            }
            return load(mode, args.get(0), args.subList(1, args.size()));
        }
        switch (word) {
            case "+", "add" -> {
                return new Add(endpoint(name, args));
            }
            case "-", "remove" -> {
                return new Remove(endpoint(name, args));
            }
            case "clear_servers", "clear" -> {
                none(name, args);
                return new Clear();
            }
            case "refresh" -> {
                none(name, args);
                return new Refresh();
            }
            case "status" -> {
                none(name, args);
                return new Status();
            }
            default -> {
                if (LOAD_MODES.contains(word)) {
                    return load(word, name, args);
                }
                throw new Malformed("unknown command '" + shorten(name) + "'; known: + IP PORT, - IP PORT, "
                        + "clear_servers, refresh, low, mid, high, off, custom R, status");
            }
        }
    }

    private static final List<String> LOAD_MODES = List.of("low", "mid", "high", "off", "custom");

    private static Load load(String mode, String name, List<String> args) throws Malformed {
        return switch (mode) {
            case "custom" -> custom(args);
            case "off" -> {
                none(name, args);
                yield new Load("off", 0);
            }
            default -> {
                none(name, args);
                yield new Load(mode, Double.NaN);
            }
        };
    }

    private static Load custom(List<String> args) throws Malformed {
        if (args.size() != 1) {
            throw new Malformed("'custom' needs one number, the load in replicas' worth, as in 'custom 0.3'");
        }
        double replicas;
        try {
            replicas = Double.parseDouble(args.get(0));
        } catch (NumberFormatException e) {
            throw new Malformed("'custom' needs a number, as in 'custom 0.3'; got '" + shorten(args.get(0)) + "'");
        }
        if (!Double.isFinite(replicas) || replicas < 0 || replicas > 1000) {
            throw new Malformed("'custom' load must be from 0 to 1000 replicas' worth; got " + args.get(0));
        }
        return new Load("custom", replicas);
    }

    private static void none(String name, List<String> args) throws Malformed {
        if (!args.isEmpty()) {
            throw new Malformed("'" + name + "' takes no arguments");
        }
    }

    private static Endpoint endpoint(String name, List<String> args) throws Malformed {
        if (args.size() != 2) {
            throw new Malformed("'" + name + "' needs an IP address and a port, as in '" + name + " 10.0.0.5 21001'");
        }
        String ip = args.get(0);
        if (!validIp(ip)) {
            throw new Malformed("'" + shorten(ip) + "' is not an IP address");
        }
        int port;
        try {
            port = Integer.parseInt(args.get(1));
        } catch (NumberFormatException e) {
            throw new Malformed("'" + shorten(args.get(1)) + "' is not a port number");
        }
        if (port < 1 || port > 65535) {
            throw new Malformed("port must be 1..65535; got " + port);
        }
        return new Endpoint(ip, port);
    }

    static boolean validIp(String ip) {
        var v4 = IPV4.matcher(ip);
        if (v4.matches()) {
            for (int i = 1; i <= 4; i++) {
                if (Integer.parseInt(v4.group(i)) > 255) {
                    return false;
                }
            }
            return true;
        }
        if (ip.indexOf(':') >= 0 && IPV6.matcher(ip).matches()) {
            try {
                return java.net.InetAddress.getByName(ip) instanceof java.net.Inet6Address; // a literal: no DNS
            } catch (java.net.UnknownHostException e) {
                return false;
            }
        }
        return false;
    }

    private static String shorten(String text) {
        String printable = text.replaceAll("\\p{Cntrl}", "?");
        return printable.length() <= 40 ? printable : printable.substring(0, 37) + "...";
    }

    /** The fraction of one replica that a named mode means, from the configured ones. */
    static double replicas(Load load, Map<String, Double> modes) {
        return load.mode().equals("custom") || load.mode().equals("off") ? load.replicas() : modes.get(load.mode());
    }
}
