package io.vmscale.scaler.provision;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The guest image: the kernel and initramfs that {@code guest-server/image/build-image} makes
 * (cached there: it rebuilds only when an input changed).
 */
public record GuestImage(Path kernel, Path initrd) {

    /** Where an installed vmscale (its Debian package, its tarball) holds the image built with it. */
    public static final String PREBUILT = "guest-image";

    /**
     * Builds the image when missing or out of date and returns it. An installed vmscale never builds: it copies
     * the image its package carries ({@code home/guest-image}) into {@code imageDir} when that one differs.
     *
     * @param home     the installation (repository) directory
     * @param imageDir where the image goes
     * @param log      receives the builder's output, line by line
     */
    public static GuestImage ensure(Path home, Path imageDir, java.util.function.Consumer<String> log) {
        Path prebuilt = home.resolve(PREBUILT);
        if (Files.isRegularFile(prebuilt.resolve("initrd.img"))) {
            return installed(prebuilt, imageDir, log);
        }
        Path script = home.resolve("guest-server/image/build-image");
        Map<String, String> out = run(script, List.of(guestJar(home).toString(), imageDir.toString()), home, log,
                "the guest image", "kernel", "initrd");
        return new GuestImage(Path.of(out.get("kernel")), Path.of(out.get("initrd")));
    }

    /**
     * Runs an image build script ({@code bash SCRIPT ARGS}, with {@code VMSCALE_HOME}), its output line by line to
     * {@code log}, at most 15 minutes; its last lines are {@code KEY: VALUE}, one per key asked, in that order.
     */
    public static Map<String, String> run(Path script, List<String> args, Path home,
                                          java.util.function.Consumer<String> log, String what, String... keys) {
        List<String> command = new java.util.ArrayList<>(List.of("bash", script.toString()));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("VMSCALE_HOME", home.toString());
        List<String> lines;
        int exit;
        try {
            Process process = builder.start();
            lines = new java.util.ArrayList<>();
            try (var reader = process.inputReader(StandardCharsets.UTF_8)) {
                String line;
                while ((line = reader.readLine()) != null) {
                    lines.add(line);
                    log.accept(line);
                }
            }
            if (!process.waitFor(15, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new ProvisioningException("building " + what + " took more than 15 minutes");
            }
            exit = process.exitValue();
        } catch (IOException e) {
            throw new ProvisioningException("cannot run " + script + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProvisioningException("interrupted while building " + what);
        }
        if (exit != 0 || lines.size() < keys.length) {
            throw new ProvisioningException("building " + what + " failed (exit " + exit + "): "
                    + String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size())));
        }
        Map<String, String> values = new java.util.LinkedHashMap<>();
        List<String> last = lines.subList(lines.size() - keys.length, lines.size());
        for (int i = 0; i < keys.length; i++) {
            if (!last.get(i).startsWith(keys[i] + ": ")) {
                throw new ProvisioningException("unexpected output of " + script + ": " + String.join(" | ", last));
            }
            values.put(keys[i], last.get(i).substring(keys[i].length() + 2));
        }
        return values;
    }

    /** The packaged image, copied into {@code imageDir} (where QEMU reads it) unless the copy there is the same. */
    private static GuestImage installed(Path prebuilt, Path imageDir, java.util.function.Consumer<String> log) {
        Path stamp = prebuilt.resolve("inputs.sha256");
        Path copied = imageDir.resolve("inputs.sha256");
        try {
            String inputs = Files.readString(stamp);
            boolean same = Files.isRegularFile(copied) && Files.readString(copied).equals(inputs)
                    && Files.isRegularFile(imageDir.resolve("vmlinuz")) && Files.isRegularFile(imageDir.resolve("initrd.img"));
            if (!same) {
                Files.createDirectories(imageDir);
                Files.setPosixFilePermissions(imageDir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
                for (String file : List.of("vmlinuz", "initrd.img")) {
                    Path part = imageDir.resolve(file + ".part");
                    Files.copy(prebuilt.resolve(file), part, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    // readable by QEMU, which runs as another user, whatever the umask of the service
                    Files.setPosixFilePermissions(part, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
                    Files.move(part, imageDir.resolve(file), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                            java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                }
                Files.writeString(copied, inputs);
                log.accept("image: installed the packaged image into " + imageDir);
            } else {
                log.accept("image: up to date (" + imageDir + ")");
            }
        } catch (IOException e) {
            throw new ProvisioningException("cannot install the packaged guest image from " + prebuilt + " into "
                    + imageDir + ": " + e.getMessage(), e);
        }
        return new GuestImage(imageDir.resolve("vmlinuz"), imageDir.resolve("initrd.img"));
    }

    private static Path guestJar(Path home) {
        Path target = home.resolve("guest-server/target");
        try (DirectoryStream<Path> jars = Files.newDirectoryStream(target, "vmscale-guest-server-*.jar")) {
            for (Path jar : jars) {
                if (!jar.getFileName().toString().endsWith("-tests.jar")) {
                    return jar;
                }
            }
        } catch (IOException e) {
            // reported below
        }
        throw new ProvisioningException("no guest server jar in " + target + ": build the project first");
    }
}
