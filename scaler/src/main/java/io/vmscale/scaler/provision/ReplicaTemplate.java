package io.vmscale.scaler.provision;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A domain XML template with {@code ${placeholder}}s, checked when loaded. */
public final class ReplicaTemplate {
    /** What a template may use. */
    public static final Set<String> PLACEHOLDERS = Set.of("name", "uuid", "mac", "type", "kernel", "initrd",
            "guestPort", "hostPort", "hostAddress", "cmdline", "vcpus", "memoryMiB", "protocol", "disk", "seed");
    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([^}]*)}");

    private final Path file;
    private final String text;

    private ReplicaTemplate(Path file, String text) {
        this.file = file;
        this.text = text;
    }

    public static ReplicaTemplate load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ProvisioningException("replica template " + file + ": no such file");
        } catch (IOException e) {
            throw new ProvisioningException("replica template " + file + ": " + e.getMessage(), e);
        }
        Set<String> unknown = new TreeSet<>();
        Matcher m = PLACEHOLDER.matcher(text);
        while (m.find()) {
            if (!PLACEHOLDERS.contains(m.group(1))) {
                unknown.add(m.group(1));
            }
        }
        if (!unknown.isEmpty()) {
            throw new ProvisioningException("replica template " + file + ": unknown placeholder(s) " + unknown
                    + " (known: " + new TreeSet<>(PLACEHOLDERS) + ")");
        }
        if (!text.contains("${name}")) {
            throw new ProvisioningException("replica template " + file + ": <name> must be ${name}");
        }
        return new ReplicaTemplate(file, text);
    }

    public Path file() {
        return file;
    }

    public boolean uses(String placeholder) {
        return text.contains("${" + placeholder + "}");
    }

    /** The XML with every placeholder replaced; values are XML-escaped. */
    public String render(Map<String, String> values) {
        Matcher m = PLACEHOLDER.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = values.get(m.group(1));
            if (value == null) {
                throw new ProvisioningException("replica template " + file + ": no value for ${" + m.group(1) + "}");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(escape(value)));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static String escape(String value) {
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&apos;")
                .replace("\"", "&quot;");
    }
}
