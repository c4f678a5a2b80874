package io.vmscale.scaler;

import io.vmscale.guest.GuestServer;
import io.vmscale.scaler.provision.Hypervisor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A hypervisor in memory whose "VMs" are real guest servers on loopback: starting a domain starts a
 * guest server on the port its metadata names, so probes and balancers talk UDP to it for real;
 * destroying it closes the server. Failures are injected per operation; every call is logged for
 * assertions. Thread-safe.
 */
final class FakeHypervisor implements Hypervisor {
    private static final Pattern NAME = Pattern.compile("<name>([^<]+)</name>");
    private static final Pattern MARK = Pattern.compile("<(\\w+:)?replica\\b[^>]*>");
    private static final Pattern PORT = Pattern.compile("\\bport=['\"](\\d+)['\"]");
    private static final Pattern DISK = Pattern.compile("file=['\"]/fake/([^/'\"]+)/([^'\"]+)['\"]");
    private static final Pattern IP = Pattern.compile("\\bip=['\"]([0-9.]+)['\"]");

    private static final class Domain {
        final String xml;
        GuestServer server;
        /** Suspended or saved: no server answers, libvirt says PAUSED or SAVED. */
        Hypervisor.Power parked;
        /** Its application stopped answering while the VM runs on: libvirt says RUNNING, nothing answers. */
        boolean hung;
        /** Ignores the ACPI power button, as the built-in guest does. */
        boolean deaf;
        /** Created by {@link #createTransient}: gone, definition and all, when it stops. */
        final boolean transientDomain;
        /** This run of it (libvirt's UUID and run id), new at every start. */
        String run;

        Domain(String xml) {
            this(xml, false);
        }

        Domain(String xml, boolean transientDomain) {
            this.xml = xml;
            this.transientDomain = transientDomain;
        }
    }

    private final Map<String, Domain> domains = new TreeMap<>();
    private final List<String> calls = new CopyOnWriteArrayList<>();
    private final Map<String, Integer> failures = new TreeMap<>();
    private volatile boolean reachable = true;
    private boolean deafGuests;
    private volatile boolean offersKvm;
    private final int cpus;
    private final String uri;

    FakeHypervisor(int cpus) {
        this("fake:///", cpus);
    }

    /** Another host: its guests answer on the address their metadata names (127.0.0.2, say). */
    FakeHypervisor(String uri, int cpus) {
        this.uri = uri;
        this.cpus = cpus;
    }

    // ---- test controls ----

    /** The next {@code times} calls of the operation ("destroy", "undefine", "start", "define") fail. */
    synchronized void failNext(String operation, int times) {
        failures.put(operation, times);
    }

    /** Whether its capabilities offer KVM; software emulation (qemu) only until told. */
    void offersKvm(boolean kvm) {
        offersKvm = kvm;
    }

    /** libvirtd away: every call fails. */
    void reachable(boolean up) {
        reachable = up;
    }

    /** The VM dies without anybody being told (its QEMU killed while nobody listened). */
    synchronized void crash(String name) {
        Domain d = domains.get(name);
        if (d != null && d.server != null) {
            d.server.close();
            d.server = null;
        }
        if (d != null && d.parked == Hypervisor.Power.PAUSED) {
            d.parked = null; // destroyed while paused: off
        }
        if (d != null && d.transientDomain) {
            domains.remove(name);
        }
    }

    /** Every guest defined from now on ignores the ACPI power button (or acts on it: the default). */
    synchronized void ignoresAcpi(boolean deaf) {
        this.deafGuests = deaf;
    }

    /** The application in the VM stops answering; the VM runs on as far as libvirt can tell. */
    synchronized void hang(String name) {
        Domain d = domains.get(name);
        if (d != null && d.server != null) {
            d.server.close();
            d.server = null;
            d.hung = true;
        }
    }

    /** Base images (volume names) whose guests boot but whose application never answers: a broken release. */
    private final java.util.Set<String> brokenBases = new java.util.HashSet<>();

    /** Guests booted from an overlay of this base image run, but nothing in them answers. */
    synchronized void broken(String baseVolume) {
        brokenBases.add(baseVolume);
    }

    /** The base image of the domain's overlay disk, or null. */
    private String baseOf(Domain d) {
        Matcher disk = DISK.matcher(d.xml);
        while (disk.find()) {
            byte[] overlay = pools.getOrDefault(disk.group(1), Map.of()).get(disk.group(2));
            if (overlay != null && disk.group(2).endsWith(".qcow2")) {
                return new String(overlay, java.nio.charset.StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    /** Defines a domain as an operator would, with the given metadata element (or none). */
    synchronized void defineByHand(String name, String metadata, boolean running, int port) {
        String xml = "<domain type='test'><name>" + name + "</name>"
                + (metadata == null ? "" : "<metadata>" + metadata.replace("PORT", Integer.toString(port)) + "</metadata>")
                + "</domain>";
        domains.put(name, new Domain(xml));
        if (running) {
            startServer(domains.get(name), name);
        }
    }

    synchronized boolean running(String name) {
        return domains.containsKey(name) && domains.get(name).server != null;
    }

    /** What libvirt would say of it, or null when it is not defined. */
    synchronized Hypervisor.Power power(String name) {
        Domain d = domains.get(name);
        return d == null ? null : power(d);
    }

    private static Hypervisor.Power power(Domain d) {
        return d.parked != null ? d.parked : d.server != null || d.hung ? Hypervisor.Power.RUNNING : Hypervisor.Power.OFF;
    }

    synchronized boolean defined(String name) {
        return domains.containsKey(name);
    }

    synchronized List<String> names() {
        return new ArrayList<>(domains.keySet());
    }

    List<String> calls() {
        return List.copyOf(calls);
    }

    synchronized void closeAll() {
        domains.values().forEach(d -> {
            if (d.server != null) {
                d.server.close();
            }
        });
    }

    // ---- Hypervisor ----

    private synchronized void enter(String operation, String name) {
        if (!reachable) {
            throw new IllegalStateException(uri + ": " + operation + ": not connected (reconnecting)");
        }
        calls.add(operation + (name == null ? "" : " " + name));
        Integer left = failures.get(operation);
        if (left != null && left > 0) {
            failures.put(operation, left - 1);
            throw new IllegalStateException(uri + ": " + operation + " " + name + ": injected failure");
        }
    }

    @Override
    public String uri() {
        return uri;
    }

    @Override
    public synchronized List<Hypervisor.Domain> domains(Predicate<String> names) {
        if (!reachable) {
            throw new IllegalStateException(uri + ": list domains: not connected (reconnecting)");
        }
        List<Hypervisor.Domain> list = new ArrayList<>();
        domains.forEach((name, d) -> {
            if (names.test(name)) {
                Hypervisor.Power power = power(d);
                list.add(new Hypervisor.Domain(name, power, power.active() ? 1 : 0, 262_144,
                        power.active() ? d.run : null));
            }
        });
        return list;
    }

    /** How often a domain's metadata was read. */
    final java.util.concurrent.atomic.AtomicInteger metadataReads = new java.util.concurrent.atomic.AtomicInteger();

    @Override
    public synchronized Optional<String> metadata(String name, String namespaceUri) {
        metadataReads.incrementAndGet();
        Domain d = domains.get(name);
        if (d == null) {
            return Optional.empty();
        }
        Matcher m = MARK.matcher(d.xml);
        return m.find() ? Optional.of(m.group()) : Optional.empty();
    }

    /** NAT mode: the addresses of the DHCP leases given so far, by domain. */
    private final Map<String, String> leases = new java.util.concurrent.ConcurrentHashMap<>();
    /** How often libvirt was asked for a lease. */
    final java.util.concurrent.atomic.AtomicInteger leaseLookups = new java.util.concurrent.atomic.AtomicInteger();

    /** The NAT network's DHCP server gives the domain that address. */
    void lease(String name, String address) {
        leases.put(name, address);
    }

    @Override
    public Optional<String> leaseAddress(String name) {
        leaseLookups.incrementAndGet();
        return Optional.ofNullable(leases.get(name));
    }

    @Override
    public int cpus() {
        if (!reachable) {
            throw new IllegalStateException(uri + ": node info: not connected (reconnecting)");
        }
        return cpus;
    }

    @Override
    public long freeMemoryKiB() {
        return 16L << 20;
    }

    @Override
    public synchronized void suspend(String name) {
        park("suspend", name, Hypervisor.Power.PAUSED);
    }

    /** A paused or saved guest answers nobody. */
    private void park(String operation, String name, Hypervisor.Power parked) {
        enter(operation, name);
        Domain d = existing(name);
        if (power(d) != Hypervisor.Power.RUNNING) {
            throw new IllegalStateException(uri + ": " + name + " is not running");
        }
        d.server.close();
        d.server = null;
        d.parked = parked;
    }

    @Override
    public synchronized void resume(String name) {
        enter("resume", name);
        Domain d = existing(name);
        if (d.parked != Hypervisor.Power.PAUSED) {
            throw new IllegalStateException(uri + ": " + name + " is not paused");
        }
        d.parked = null;
        startServer(d, name);
    }

    @Override
    public synchronized void save(String name) {
        park("save", name, Hypervisor.Power.SAVED);
    }

    private Domain existing(String name) {
        Domain d = domains.get(name);
        if (d == null) {
            throw new IllegalStateException(uri + ": no domain " + name);
        }
        return d;
    }

    @Override
    public String capabilities() {
        enter("capabilities", null);
        return "<capabilities><guest><os_type>hvm</os_type><arch name='x86_64'><domain type='qemu'/>"
                + (offersKvm ? "<domain type='kvm'/>" : "") + "</arch></guest></capabilities>";
    }

    @Override
    public synchronized void define(String xml) {
        Matcher name = NAME.matcher(xml);
        if (!name.find()) {
            throw new IllegalArgumentException("no <name> in " + xml);
        }
        enter("define", name.group(1));
        Domain d = new Domain(xml);
        d.deaf = deafGuests;
        domains.put(name.group(1), d);
    }

    @Override
    public synchronized void createTransient(String xml) {
        Matcher name = NAME.matcher(xml);
        if (!name.find()) {
            throw new IllegalArgumentException("no <name> in " + xml);
        }
        enter("create", name.group(1));
        if (domains.containsKey(name.group(1))) {
            throw new IllegalStateException(uri + ": " + name.group(1) + " exists already");
        }
        Domain d = new Domain(xml, true);
        startServer(d, name.group(1));
        domains.put(name.group(1), d);
    }

    /** While set, a start waits for it to open first: a slow host. */
    private volatile java.util.concurrent.CountDownLatch startGate;

    /** Starts from now on wait until {@link #releaseStarts}. */
    void holdStarts() {
        startGate = new java.util.concurrent.CountDownLatch(1);
    }

    void releaseStarts() {
        java.util.concurrent.CountDownLatch gate = startGate;
        startGate = null;
        if (gate != null) {
            gate.countDown();
        }
    }

    /** Whether a start waits at the gate now. */
    volatile boolean startWaiting;

    @Override
    public void start(String name) {
        java.util.concurrent.CountDownLatch gate = startGate;
        if (gate != null) {
            starting(name, Hypervisor.Power.PAUSED); // as libvirt says while QEMU comes up: paused, reason starting up
            startWaiting = true;
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted at the start gate");
            } finally {
                startWaiting = false;
                starting(name, null);
            }
        }
        startNow(name);
    }

    private synchronized void starting(String name, Hypervisor.Power power) {
        Domain d = domains.get(name);
        if (d != null && d.server == null) {
            d.parked = power;
        }
    }

    private synchronized void startNow(String name) {
        enter("start", name);
        Domain d = domains.get(name);
        if (d == null) {
            throw new IllegalStateException(uri + ": no domain " + name);
        }
        if (d.server != null || d.parked == Hypervisor.Power.PAUSED) {
            throw new IllegalStateException(uri + ": " + name + " is already running");
        }
        d.parked = null; // a saved one is restored
        if (brokenBases.contains(baseOf(d))) {
            d.run = name + "/" + RUNS.incrementAndGet();
            d.hung = true; // the VM runs, its application does not answer
            return;
        }
        startServer(d, name);
    }

    private static final java.util.concurrent.atomic.AtomicInteger RUNS = new java.util.concurrent.atomic.AtomicInteger();

    private static void startServer(Domain d, String name) {
        d.run = name + "/" + RUNS.incrementAndGet();
        Matcher mark = MARK.matcher(d.xml);
        String element = mark.find() ? mark.group() : "";
        Matcher port = PORT.matcher(element);
        Matcher ip = IP.matcher(element);
        int p = port.find() ? Integer.parseInt(port.group(1)) : 0;
        try {
            d.server = GuestServer.start(GuestServer.Options.defaults(
                    new InetSocketAddress(ip.find() ? InetAddress.getByName(ip.group(1)) : InetAddress.getLoopbackAddress(), p)));
        } catch (IOException e) {
            throw new UncheckedIOException(name + ": " + e.getMessage(), e);
        }
    }

    /** Volumes by pool: name to content (an overlay's content is its base's name). */
    private final Map<String, Map<String, byte[]>> pools = new TreeMap<>();

    /** A storage pool with a base image in it, as an operator would have made it. */
    synchronized void pool(String pool, String... volumes) {
        Map<String, byte[]> p = pools.computeIfAbsent(pool, k -> new TreeMap<>());
        for (String v : volumes) {
            p.put(v, new byte[0]);
        }
    }

    /** What the pool holds, by name. */
    synchronized Map<String, byte[]> pool(String pool) {
        return Map.copyOf(pools.getOrDefault(pool, Map.of()));
    }

    private Map<String, byte[]> poolOf(String pool) {
        Map<String, byte[]> p = pools.get(pool);
        if (p == null) {
            throw new IllegalStateException(uri + ": no storage pool '" + pool + "'");
        }
        return p;
    }

    @Override
    public synchronized String createOverlay(String pool, String base, String name) {
        enter("overlay", name);
        Map<String, byte[]> p = poolOf(pool);
        if (!p.containsKey(base)) {
            throw new IllegalStateException(uri + ": no base image '" + base + "' in the storage pool '" + pool + "'");
        }
        if (p.containsKey(name)) {
            throw new IllegalStateException(uri + ": storage volume '" + name + "' exists already");
        }
        p.put(name, base.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return "/fake/" + pool + "/" + name;
    }

    @Override
    public synchronized String upload(String pool, String name, byte[] content) {
        enter("upload", name);
        Map<String, byte[]> p = poolOf(pool);
        if (p.containsKey(name)) {
            throw new IllegalStateException(uri + ": storage volume '" + name + "' exists already");
        }
        p.put(name, content.clone());
        return "/fake/" + pool + "/" + name;
    }

    @Override
    public synchronized boolean deleteVolume(String pool, String name) {
        return poolOf(pool).remove(name) != null;
    }

    @Override
    public synchronized List<String> volumes(String pool) {
        return new ArrayList<>(poolOf(pool).keySet());
    }

    /** A guest that acts on the power button shuts down at once: its server closes, libvirt says it is off. */
    @Override
    public synchronized void shutdown(String name) {
        enter("shutdown", name);
        Domain d = domains.get(name);
        if (d == null || d.deaf || d.server == null) {
            return;
        }
        d.server.close();
        d.server = null;
        if (d.transientDomain) {
            domains.remove(name);
        }
    }

    @Override
    public synchronized void destroy(String name) {
        enter("destroy", name);
        Domain d = domains.get(name);
        if (d != null) {
            d.hung = false;
        }
        if (d != null && d.server != null) {
            d.server.close();
            d.server = null;
        }
        if (d != null && d.parked == Hypervisor.Power.PAUSED) {
            d.parked = null;
        }
        if (d != null && d.transientDomain) {
            domains.remove(name);
        }
    }

    @Override
    public synchronized void undefine(String name) {
        enter("undefine", name);
        Domain d = domains.get(name);
        if (d != null) {
            if (d.server != null) {
                throw new IllegalStateException(uri + ": " + name + " is running: a transient domain now (not modelled)");
            }
            domains.remove(name);
        }
    }

    @Override
    public synchronized String migratableXml(String name, boolean persistent) {
        enter("dumpxml", name);
        return existing(name).xml;
    }

    /** Like libvirt: the guest answers at its new endpoint before it stops answering here. */
    @Override
    public void migrate(String name, Hypervisor destination, String destinationXml, String persistentXml,
                        String address) {
        FakeHypervisor there = (FakeHypervisor) destination;
        Domain d;
        synchronized (this) {
            enter("migrate", name);
            d = existing(name);
            if (power(d) != Hypervisor.Power.RUNNING) {
                throw new IllegalStateException(uri + ": " + name + " is not running");
            }
        }
        synchronized (there) {
            there.enter("incoming", name);
            Domain arrived = new Domain(persistentXml); // the mark is read from the persistent definition
            startServer(arrived, name);
            there.domains.put(name, arrived);
        }
        synchronized (this) {
            d.server.close();
            domains.remove(name);
        }
    }

    @Override
    public boolean reachable() {
        return reachable;
    }
}
