package io.vmscale.scaler.provision;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The guest image: the kernel and initramfs that {@code guest-server/image/build-image} makes
 * (cached there: it rebuilds only when an input changed).
 */
public record GuestImage(Path kernel, Path initrd) {

    /**
     * Builds the image when missing or out of date and returns it.
     *
     * @param home     the installation (repository) directory
     * @param imageDir where the image goes
     * @param log      receives the builder's output, line by line
     */
    public static GuestImage ensure(Path home, Path imageDir, java.util.function.Consumer<String> log) {
        Path script = home.resolve("guest-server/image/build-image");
        Path jar = guestJar(home);
        ProcessBuilder builder = new ProcessBuilder("bash", script.toString(), jar.toString(), imageDir.toString())
                .redirectErrorStream(true);
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
                throw new ProvisioningException("building the guest image took more than 15 minutes");
            }
            exit = process.exitValue();
        } catch (IOException e) {
            throw new ProvisioningException("cannot run " + script + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProvisioningException("interrupted while building the guest image");
        }
        if (exit != 0 || lines.size() < 2) {
            throw new ProvisioningException("building the guest image failed (exit " + exit + "): "
                    + String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size())));
        }
        String kernel = lines.get(lines.size() - 2);
        String initrd = lines.get(lines.size() - 1);
        if (!kernel.startsWith("kernel: ") || !initrd.startsWith("initrd: ")) {
            throw new ProvisioningException("unexpected output of " + script + ": " + kernel + " | " + initrd);
        }
        return new GuestImage(Path.of(kernel.substring(8)), Path.of(initrd.substring(8)));
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
