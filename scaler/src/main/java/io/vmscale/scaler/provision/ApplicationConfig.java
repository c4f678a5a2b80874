package io.vmscale.scaler.provision;

import io.vmscale.config.InvalidValueException;
import io.vmscale.scaler.health.HealthCheckConfig;
import java.time.Duration;
import java.util.List;

/**
 * What runs in the replicas and how it is looked after, like a launch template with its target group's health
 * check and its lifecycle hook: the built-in UDP service by default.
 *
 * @param image                         {@code POOL/VOLUME}: the base disk image (qcow2) in a libvirt storage pool;
 *                                      each replica boots its own copy-on-write overlay of it. "": the built-in
 *                                      guest (kernel and initramfs, no disk)
 * @param kernel                        direct kernel boot: the kernel on the host ("" with an image: its boot
 *                                      loader boots it; with none: the built-in guest's)
 * @param initrd                        direct kernel boot: the initramfs on the host
 * @param cmdline                       direct kernel boot: the kernel command line ({@code ${cmdline}})
 * @param vcpus                         vCPUs of a replica ({@code ${vcpus}})
 * @param memoryMiB                     memory of a replica ({@code ${memoryMiB}})
 * @param userData                      a cloud-init user-data file, given to each replica as-is in its NoCloud seed
 *                                      (with meta-data naming it); "": an empty cloud-config. Image only
 * @param port                          the port the application serves in the guest; 0: {@code guest.port}
 * @param protocol                      {@code udp} or {@code tcp}: what a port forward forwards
 *
 * @param healthCheck                   how a replica's application is checked, before it is READY and all the time
 *                                      after
 * @param stopTimeoutSeconds            a scale-in asks the guest to shut down (ACPI power button) and destroys it
 *                                      if it still runs after this long; 0: destroyed at once (the built-in guest
 *                                      does not act on the power button)
 * @param terminationHook               a program run between the drain and the shutdown, with the replica as JSON
 *                                      on its standard input (like an Auto Scaling lifecycle hook); "": none
 * @param terminationHookTimeoutSeconds the hook is killed after this long and its default result applies
 * @param terminationHookDefault        the result when the hook fails or times out: {@code continue} (the graceful
 *                                      shutdown goes on) or {@code abandon} (destroyed at once)
 * @param warmUpPath                    a warm-pool replica answers {@code GET warmUpPath} on its port
 *                                      {@code scaler.warmPool.warmRequests} times before it is parked (caches,
 *                                      JIT, connection pools); "": it is parked once its health check passes.
 *                                      TCP only (the built-in UDP service is warmed with its own work)
 */
public record ApplicationConfig(String image, String kernel, String initrd, String cmdline, int vcpus, int memoryMiB,
                                String userData, int port, String protocol, HealthCheckConfig healthCheck,
                                int stopTimeoutSeconds, String terminationHook, int terminationHookTimeoutSeconds,
                                String terminationHookDefault, String warmUpPath) {
    public static final List<String> HOOK_RESULTS = List.of("continue", "abandon");
    public static final List<String> PROTOCOLS = List.of("udp", "tcp");
    /** The built-in service. */
    public static final ApplicationConfig BUILTIN = new ApplicationConfig(HealthCheckConfig.UDP_WIRE, 0, "", 30,
            "continue");

    /** The built-in guest with these checks and this way of stopping. */
    public ApplicationConfig(HealthCheckConfig healthCheck, int stopTimeoutSeconds, String terminationHook,
                             int terminationHookTimeoutSeconds, String terminationHookDefault) {
        this("", "", "", "", 1, 256, "", 0, "udp", healthCheck, stopTimeoutSeconds, terminationHook,
                terminationHookTimeoutSeconds, terminationHookDefault, "");
    }

    public ApplicationConfig {
        for (String[] text : new String[][] {{"image", image}, {"kernel", kernel}, {"initrd", initrd},
                {"cmdline", cmdline}, {"userData", userData}}) {
            if (text[1] == null) {
                throw new InvalidValueException(text[0], "a string", "null");
            }
        }
        if (!image.isEmpty() && !image.matches("[A-Za-z0-9_.+-]+/[A-Za-z0-9_.+-]+")) {
            throw new InvalidValueException("image", "POOL/VOLUME, a base image in a libvirt storage pool",
                    "\"" + image + "\"");
        }
        if (kernel.isEmpty() != initrd.isEmpty()) {
            throw new InvalidValueException(kernel.isEmpty() ? "kernel" : "initrd",
                    "both kernel and initrd for direct kernel boot, or neither", "\"\"");
        }
        if (!userData.isEmpty() && image.isEmpty()) {
            throw new InvalidValueException("userData", "\"\" without an image (the built-in guest has no "
                    + "cloud-init)", "\"" + userData + "\"");
        }
        InvalidValueException.range("vcpus", vcpus, 1, 64);
        InvalidValueException.range("memoryMiB", memoryMiB, 64, 1_048_576);
        InvalidValueException.range("port", port, 0, 65535);
        InvalidValueException.oneOf("protocol", protocol, PROTOCOLS);
        if (healthCheck == null) {
            throw new InvalidValueException("healthCheck", "an object", "null");
        }
        InvalidValueException.range("stopTimeoutSeconds", stopTimeoutSeconds, 0, 3600);
        if (terminationHook == null) {
            throw new InvalidValueException("terminationHook", "a string (a program's path, or \"\")", "null");
        }
        InvalidValueException.range("terminationHookTimeoutSeconds", terminationHookTimeoutSeconds, 1, 3600);
        InvalidValueException.oneOf("terminationHookDefault", terminationHookDefault, HOOK_RESULTS);
        if (warmUpPath == null || !warmUpPath.isEmpty() && !warmUpPath.startsWith("/")) {
            throw new InvalidValueException("warmUpPath", "\"\" or an HTTP path starting with /",
                    warmUpPath == null ? "null" : "\"" + warmUpPath + "\"");
        }
        if (!warmUpPath.isEmpty() && !protocol.equals("tcp")) {
            throw new InvalidValueException("warmUpPath", "\"\" unless protocol is tcp (an HTTP warm-up)",
                    "\"" + warmUpPath + "\"");
        }
    }

    /** A disk image of the user's rather than the built-in guest. */
    public boolean ownImage() {
        return !image.isEmpty();
    }

    /** The storage pool of the base image. */
    public String pool() {
        return image.substring(0, image.indexOf('/'));
    }

    /** The base image's volume name in its pool. */
    public String baseVolume() {
        return image.substring(image.indexOf('/') + 1);
    }

    /** The same booting another base image. */
    public ApplicationConfig withImage(String other) {
        return new ApplicationConfig(other, kernel, initrd, cmdline, vcpus, memoryMiB, userData, port, protocol,
                healthCheck, stopTimeoutSeconds, terminationHook, terminationHookTimeoutSeconds, terminationHookDefault,
                warmUpPath);
    }

    /** The same with other checks. */
    public ApplicationConfig withHealthCheck(HealthCheckConfig check) {
        return new ApplicationConfig(image, kernel, initrd, cmdline, vcpus, memoryMiB, userData, port, protocol, check,
                stopTimeoutSeconds, terminationHook, terminationHookTimeoutSeconds, terminationHookDefault, warmUpPath);
    }

    public Duration stopTimeout() {
        return Duration.ofSeconds(stopTimeoutSeconds);
    }

    public Duration terminationHookTimeout() {
        return Duration.ofSeconds(terminationHookTimeoutSeconds);
    }
}
