package io.vmscale.balancer.traffic;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * HAProxy's Runtime API on its stats socket ({@code stats socket PATH mode 600 level admin}): one command per
 * connection, its answer read to the end. Refusals HAProxy answers in words ("No such backend.", "Unknown
 * command", "Permission denied") become a {@link HaproxyException} with that answer. Thread-safe.
 */
public final class HaproxyRuntime {
    /** What HAProxy answers when a change was done; anything else but silence is a refusal in words. */
    private static final List<String> DONE = List.of("new server registered", "server deleted", " changed from ",
            "no need to change");

    private final Path socket;

    public HaproxyRuntime(Path socket) {
        this.socket = socket;
    }

    public Path socket() {
        return socket;
    }

    /** One server of the backend as {@code show servers state} lists it. */
    public record Server(String name, String address, int port, int operationalState, int adminState) {
        /** Put in maintenance by an operator or by us (forced, inherited or from a resolver). */
        public boolean maintenance() {
            return (adminState & 0x07) != 0 || (adminState & 0x20) != 0;
        }

        /** Set to drain: keeps its sessions, gets no new ones. */
        public boolean draining() {
            return (adminState & 0x18) != 0;
        }
    }

    /** Sends one command; returns HAProxy's answer. */
    public String command(String command) {
        if (command.indexOf('\n') >= 0 || command.indexOf(';') >= 0) {
            throw new IllegalArgumentException("one command, no ';' or newline: " + command);
        }
        if (!Files.exists(socket)) {
            throw new HaproxyException("no HAProxy Runtime API at " + socket + ": no such socket (is haproxy running "
                    + "with 'stats socket " + socket + " level admin' in its global section?)");
        }
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.UTF_8)));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteBuffer buffer = ByteBuffer.allocate(16 * 1024);
            while (channel.read(buffer) >= 0) {
                out.write(buffer.array(), 0, buffer.position());
                buffer.clear();
            }
            return out.toString(StandardCharsets.UTF_8);
        } catch (SocketException e) {
            throw new HaproxyException("HAProxy's Runtime API at " + socket + " refused the connection ("
                    + e.getMessage() + "): is haproxy running?", e);
        } catch (IOException e) {
            throw new HaproxyException("HAProxy's Runtime API at " + socket + ": " + e.getMessage(), e);
        }
    }

    /** Sends a command that changes something; an answer saying it was not done throws, naming the command. */
    public String change(String command) {
        String answer = command(command).strip();
        String lower = answer.toLowerCase(Locale.ROOT);
        if (!answer.isEmpty() && DONE.stream().noneMatch(lower::contains)) {
            throw new HaproxyException("HAProxy refused '" + command + "': " + firstLine(answer));
        }
        return answer;
    }

    /** The servers of a backend ({@code show servers state BACKEND}). */
    public List<Server> servers(String backend) {
        String answer = command("show servers state " + backend);
        List<Server> servers = new ArrayList<>();
        List<String> header = null;
        for (String line : answer.split("\n")) {
            if (line.startsWith("# ")) {
                header = List.of(line.substring(2).trim().split(" "));
                continue;
            }
            if (line.isBlank() || line.equals("1")) {
                continue;
            }
            if (header == null) {
                throw new HaproxyException("HAProxy refused 'show servers state " + backend + "': " + firstLine(answer));
            }
            String[] f = line.trim().split(" ");
            Map<String, String> row = new HashMap<>();
            for (int i = 0; i < Math.min(f.length, header.size()); i++) {
                row.put(header.get(i), f[i]);
            }
            servers.add(new Server(row.get("srv_name"), row.get("srv_addr"), parse(row.get("srv_port")),
                    parse(row.get("srv_op_state")), parse(row.get("srv_admin_state"))));
        }
        return servers;
    }

    /** Each server of a backend's row of {@code show stat}, by server name, with the CSV's column names. */
    public Map<String, Map<String, String>> stats(String backend) {
        String answer = command("show stat");
        Map<String, Map<String, String>> rows = new LinkedHashMap<>();
        String[] header = null;
        for (String line : answer.split("\n")) {
            if (line.startsWith("# ")) {
                header = line.substring(2).split(",", -1);
                continue;
            }
            if (header == null || line.isBlank()) {
                continue;
            }
            String[] f = line.split(",", -1);
            if (f.length < 2 || !f[0].equals(backend) || f[1].equals("BACKEND") || f[1].equals("FRONTEND")) {
                continue;
            }
            Map<String, String> row = new HashMap<>();
            for (int i = 0; i < Math.min(f.length, header.length); i++) {
                row.put(header[i], f[i]);
            }
            rows.put(f[1], row);
        }
        if (header == null) {
            throw new HaproxyException("HAProxy answered 'show stat' without its CSV header: " + firstLine(answer));
        }
        return rows;
    }

    private static int parse(String value) {
        try {
            return value == null ? 0 : Integer.parseInt(value);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    static String firstLine(String text) {
        String line = text.strip().lines().findFirst().orElse("(nothing)");
        return line.length() > 200 ? line.substring(0, 200) + "..." : line;
    }

    /** HAProxy could not be reached or refused a command: the message says which and why, in one line. */
    public static final class HaproxyException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public HaproxyException(String message) {
            super(message);
        }

        public HaproxyException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
