package io.vmscale.monitor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import io.vmscale.libvirt.TinyDomains;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;

/**
 * Tiny real QEMU domains ({@link TinyDomains}) for tests on qemu:///system, under software
 * emulation. Names carry a prefix unique to the run; {@link #close()} destroys and undefines every
 * domain of it, whatever the test did.
 */
public final class QemuDomains implements AutoCloseable {
    public static final String URI = "qemu:///system";
    /** Prefix reserved for test domains; leftovers of a killed run are swept at the next start. */
    public static final String TEST_PREFIX = "vmscale-test";

    private final String prefix;
    private final Path dir;
    private final Connect connect;
    private final List<String> names = new ArrayList<>();

    public QemuDomains() {
        this(URI);
    }

    /** The same on another libvirt host (a second one on this machine: {@code scripts/libvirt-host}). */
    public QemuDomains(String uri) {
        this(uri, TEST_PREFIX + UUID.randomUUID().toString().substring(0, 6));
    }

    /** The same with a given prefix (domains of one prefix on several hosts). */
    public QemuDomains(String uri, String prefix) {
        io.vmscale.libvirt.EventLoop.ensureRunning(); // before any connection of the process
        try {
            connect = new Connect(uri, false);
        } catch (LibvirtException e) {
            throw new IllegalStateException(uri + " does not answer (" + e.getMessage()
                    + "): run the tests with ./vmscale test, which installs libvirt and starts libvirtd", e);
        }
        sweepLeftovers();
        this.prefix = prefix;
        try {
            dir = Files.createTempDirectory("vmscale-test-");
            // QEMU runs as another user: it must reach the boot sectors
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The run's prefix; domains are named {@code PREFIX-NNNN}. */
    public String prefix() {
        return prefix;
    }

    public Connect connect() {
        return connect;
    }

    /** Defines and starts a domain whose one vCPU spins; returns its name. */
    public String startBusy(int number) {
        return start(number, TinyDomains.Program.SPIN);
    }

    /** Defines and starts a domain whose one vCPU halts; returns its name. */
    public String startIdle(int number) {
        return start(number, TinyDomains.Program.HALT);
    }

    /** Defines (without starting) a domain whose vCPU halts. */
    public String defineIdle(int number) {
        return define(number, TinyDomains.Program.HALT);
    }

    private String start(int number, TinyDomains.Program code) {
        String name = define(number, code);
        try {
            connect.domainLookupByName(name).create();
        } catch (LibvirtException e) {
            throw new IllegalStateException("cannot start " + name + ": " + e.getMessage(), e);
        }
        return name;
    }

    private String define(int number, TinyDomains.Program code) {
        String name = String.format("%s-%04d", prefix, number);
        Path image = dir.resolve(name + ".img");
        try {
            TinyDomains.writeBootSector(image, code);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String xml = TinyDomains.xml(name, image);
        try {
            connect.domainDefineXML(xml);
        } catch (LibvirtException e) {
            throw new IllegalStateException("cannot define " + name + ": " + e.getMessage(), e);
        }
        names.add(name);
        return name;
    }

    /** Runs virsh, as an operator would from outside; returns its exit code. */
    public static int virsh(String... args) {
        List<String> command = new ArrayList<>(List.of("virsh", "-q", "-c", URI));
        command.addAll(List.of(args));
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("virsh " + String.join(" ", args) + " did not finish in 60 s");
            }
            return process.exitValue();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private void sweepLeftovers() {
        try {
            for (Domain domain : connect.listAllDomains(0)) {
                if (domain.getName().startsWith(TEST_PREFIX)) {
                    remove(domain);
                }
            }
        } catch (LibvirtException e) {
            throw new IllegalStateException("cannot list domains on " + URI + ": " + e.getMessage(), e);
        }
    }

    private static void remove(Domain domain) {
        try {
            if (domain.isActive() == 1) {
                domain.destroy();
            }
        } catch (LibvirtException e) {
            // already stopped
        }
        try {
            domain.undefine();
        } catch (LibvirtException e) {
            // already gone
        }
    }

    @Override
    public void close() {
        try {
            connect.close();
        } catch (LibvirtException e) {
            // it may have died with a libvirtd restart
        }
        try {
            // a fresh connection: the first one may not have survived the test
            Connect fresh = new Connect(URI, false);
            try {
                for (Domain domain : fresh.listAllDomains(0)) {
                    if (domain.getName().startsWith(prefix)) {
                        remove(domain);
                    }
                }
            } finally {
                fresh.close();
            }
        } catch (LibvirtException e) {
            throw new IllegalStateException("could not remove the test domains " + prefix + "-*: " + e.getMessage(), e);
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                // a temp directory left behind
            }
        }
    }
}
