package io.vmscale.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The Debian package as an operator gets it: installed with dpkg into a clean Debian 12 root (made by mmdebstrap
 * with what the package depends on, cached), then its program run there, from another directory, through a chroot:
 * {@code --version}, {@code config check}, {@code ops --help}; it never builds nor calls apt (shims that would record
 * it stand first on the PATH); an upgrade keeps an edited conffile and the state; purge removes both; the systemd
 * units pass {@code systemd-analyze verify}, and their exposure is read with {@code systemd-analyze security}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PackageIT {
    private static final Path TARGET = Path.of(System.getProperty("vmscale.home", ".."), "dist", "target").toAbsolutePath();

    private static Path deb;
    private static Path root;
    private static String version;

    @BeforeAll
    static void installIntoACleanRoot() throws Exception {
        deb = only(TARGET, "vmscale_*_amd64.deb");
        version = run(List.of("dpkg-deb", "-f", deb.toString(), "Version")).out.strip();
        Path base = baseRoot();
        root = Files.createTempDirectory(Path.of("/var/tmp"), "vmscale-package-root");
        exec(List.of("tar", "-C", root.toString(), "-xf", base.toString()));
        // apt-get, apt and mvn that only record being called: the installed program must call none of them
        for (String tool : List.of("apt-get", "apt", "mvn")) {
            Path shim = root.resolve("usr/local/bin").resolve(tool);
            Files.writeString(shim, "#!/bin/sh\necho \"" + tool + " $*\" >> /called-tools\nexit 1\n");
            shim.toFile().setExecutable(true);
        }
        Files.copy(deb, root.resolve("tmp/vmscale.deb"));
        Result install = chroot("dpkg -i /tmp/vmscale.deb");
        assertThat(install.exit).as("dpkg -i: %s", install).isZero();
    }

    @AfterAll
    static void removeRoot() throws Exception {
        if (root != null) {
            exec(List.of("rm", "-rf", "--one-file-system", root.toString()));
        }
    }

    @Test
    @Order(1)
    void declaresWhatItNeedsInsteadOfInstallingIt() throws Exception {
        String depends = field("Depends");
        assertThat(depends).contains("java17-runtime-headless").contains("libvirt0");
        assertThat(field("Recommends")).contains("libvirt-daemon-system").contains("qemu-system-x86");
        String conffiles = Files.readString(root.resolve("var/lib/dpkg/info/vmscale.conffiles"));
        assertThat(conffiles.lines()).contains("/etc/vmscale/vmscale.json", "/etc/vmscale/replica-port-forward.xml");
    }

    @Test
    @Order(2)
    void theInstalledProgramRunsFromAnyDirectory() throws Exception {
        Result v = chroot("cd /tmp && vmscale --version");
        assertThat(v.out.strip()).as("%s", v).isEqualTo("vmscale " + version);

        Result check = chroot("cd / && vmscale config check");
        assertThat(check.exit).as("%s", check).isZero();
        assertThat(check.err).contains("/etc/vmscale/vmscale.json: valid");
        assertThat(check.out).contains("\"dataDir\" : \"/var/lib/vmscale/broker\"");

        Result help = chroot("cd /var && vmscale ops --help");
        assertThat(help.exit).as("%s", help).isZero();
        assertThat(help.out).startsWith("Usage: vmscale ops").contains("scale").contains("drain");

        Result bad = chroot("cd /tmp && echo '{\"scaler\": {\"minReplicas\": \"two\"}}' > bad.json && vmscale config check bad.json");
        assertThat(bad.exit).isNotZero();
        assertThat(bad.err).contains("bad.json").contains("scaler.minReplicas");
    }

    @Test
    @Order(3)
    void neverBuildsNorCallsApt() throws Exception {
        Result image = chroot("cd /tmp && vmscale image");
        assertThat(image.exit).as("%s", image).isZero();
        assertThat(image.err).contains("installed the packaged image into /var/lib/vmscale/image");
        assertThat(image.out).contains("kernel: /var/lib/vmscale/image/vmlinuz", "initrd: /var/lib/vmscale/image/initrd.img");
        // the example application's image needs mmdebstrap, which is not installed: named, not installed
        Result http = chroot("VMSCALE_PACKAGED=1 bash /usr/lib/vmscale/apps/http/build-image /tmp/pool");
        assertThat(http.exit).isNotZero();
        assertThat(http.err).contains("needs the Debian packages mmdebstrap");
        assertThat(root.resolve("called-tools")).doesNotExist();
        assertThat(root.resolve("usr/lib/vmscale/pom.xml")).doesNotExist();
    }

    @Test
    @Order(4)
    void aSystemUserOwnsTheState() throws Exception {
        Result id = chroot("id -un vmscale && stat -c '%U %a' /var/lib/vmscale");
        assertThat(id.out.lines()).containsExactly("vmscale", "vmscale 755");
    }

    @Test
    @Order(5)
    void theUnitsVerifyAndTheirExposureIsLow() throws Exception {
        List<String> units = List.of("vmscale", "vmscale-broker", "vmscale-monitor", "vmscale-scaler", "vmscale-balancer");
        for (String unit : units) {
            Path file = root.resolve("lib/systemd/system").resolve(unit + ".service");
            assertThat(Files.readString(file)).contains("Type=notify", "User=vmscale", "Restart=on-failure");
            Result verify = run(List.of("systemd-analyze", "verify", "--root=" + root, unit + ".service"));
            assertThat(verify.exit).as("systemd-analyze verify %s: %s", unit, verify).isZero();
            assertThat(verify.err.strip()).as("systemd-analyze verify %s", unit).isEmpty();
            Result security = run(List.of("systemd-analyze", "security", "--offline=true", "--root=" + root, unit + ".service"));
            Matcher m = Pattern.compile("Overall exposure level for " + unit + ".service: ([0-9.]+)").matcher(security.out);
            assertThat(m.find()).as("systemd-analyze security %s: %s", unit, security).isTrue();
            double exposure = Double.parseDouble(m.group(1));
            System.out.printf("systemd-analyze security %s.service: exposure %.1f%n", unit, exposure);
            // systemd's scale: 0 (locked down) .. 10 (no sandbox); below 2 is "OK"
            assertThat(exposure).as("exposure of %s", unit).isLessThan(2.0);
        }
    }

    @Test
    @Order(6)
    void anUpgradeKeepsTheEditedConffileAndTheState() throws Exception {
        Result edit = chroot("sed -i 's/\"intervalMs\": 1000/\"intervalMs\": 2000/' /etc/vmscale/vmscale.json"
                + " && mkdir -p /var/lib/vmscale/broker && echo kept > /var/lib/vmscale/broker/journal");
        assertThat(edit.exit).as("%s", edit).isZero();
        Result again = chroot("dpkg -i /tmp/vmscale.deb");
        assertThat(again.exit).as("%s", again).isZero();
        Result check = chroot("vmscale config check && cat /var/lib/vmscale/broker/journal");
        assertThat(check.out).contains("\"intervalMs\" : 2000").endsWith("kept\n");

        Result remove = chroot("dpkg --remove vmscale && test -f /etc/vmscale/vmscale.json && test -d /var/lib/vmscale");
        assertThat(remove.exit).as("remove keeps the conffile and the state: %s", remove).isZero();
        Result purge = chroot("dpkg --purge vmscale && test ! -e /etc/vmscale && test ! -e /var/lib/vmscale"
                + " && test ! -e /usr/lib/vmscale && test ! -e /usr/bin/vmscale");
        assertThat(purge.exit).as("purge removes them: %s", purge).isZero();
    }

    @Test
    @Order(7)
    void theTarballRunsWhereverItIsUnpacked() throws Exception {
        Path tarball = only(TARGET, "vmscale-*.tar.gz");
        Path dir = Files.createTempDirectory("vmscale-tarball");
        try {
            exec(List.of("tar", "-C", dir.toString(), "-xzf", tarball.toString()));
            Path launcher = dir.resolve("vmscale-" + version + "/usr/bin/vmscale");
            List<String> env = List.of("env", "-u", "VMSCALE_HOME");
            Result v = run(concat(env, List.of(launcher.toString(), "--version")));
            assertThat(v.out.strip()).as("%s", v).isEqualTo("vmscale " + version);
            Result check = run(concat(env, List.of(launcher.toString(), "config", "check")));
            assertThat(check.exit).as("%s", check).isZero();
            assertThat(check.err).contains(dir.resolve("vmscale-" + version + "/etc/vmscale/vmscale.json").toRealPath() + ": valid");
        } finally {
            exec(List.of("rm", "-rf", dir.toString()));
        }
    }

    /** The clean Debian 12 root, as a tarball: made once by {@code dist/test-root} (perhaps started already). */
    private static Path baseRoot() throws Exception {
        Result made = run(List.of("bash", TARGET.getParent().resolve("test-root").toString()));
        assertThat(made.exit).as("dist/test-root: %s", made).isZero();
        return Path.of(made.out.strip());
    }

    private static String field(String name) throws Exception {
        return run(List.of("dpkg-deb", "-f", deb.toString(), name)).out.strip();
    }

    /** A shell command inside the installed root, as root there, with /proc mounted (a private mount namespace). */
    private static Result chroot(String command) throws Exception {
        return run(List.of("unshare", "--mount", "--propagation", "private", "sh", "-c",
                "mount -t proc proc \"$0\"/proc && exec chroot \"$0\" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
                        + " HOME=/root sh -c \"$1\"", root.toString(), command));
    }

    private static Path only(Path dir, String glob) throws IOException {
        List<Path> found = new ArrayList<>();
        try (var files = Files.newDirectoryStream(dir, glob)) {
            files.forEach(found::add);
        }
        assertThat(found).as("%s in %s (built by mvn package)", glob, dir).hasSize(1);
        return found.get(0);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        return Stream.concat(a.stream(), b.stream()).toList();
    }

    private static void exec(List<String> command) throws Exception {
        Result r = run(command);
        assertThat(r.exit).as("%s: %s", command, r).isZero();
    }

    record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + ", stdout: " + out + ", stderr: " + err;
        }
    }

    private static Result run(List<String> command) throws Exception {
        Path out = Files.createTempFile("vmscale-package", ".out");
        Path err = Files.createTempFile("vmscale-package", ".err");
        try {
            Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new AssertionError(command + " took more than 5 minutes");
            }
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
