package io.vmscale.scaler.provision;

import io.vmscale.broker.event.Endpoint;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The group's replicas on one host, through the {@link Hypervisor} only, in one of two modes
 * ({@link ProvisioningMode}), chosen when it is built:
 * <ul>
 *   <li><b>template</b> ({@link TemplateMode}), like a launch template: scaling up defines a new domain from
 *       the domain XML template with the group's ownership mark ({@link ReplicaMark}) and starts it; stopping
 *       destroys it and, where configured, undefines it. Only domains carrying the group's mark are ever
 *       stopped or undefined: a domain that merely matches the name is foreign.</li>
 *   <li><b>pool</b> ({@link PoolMode}), as in the original assignment: the operator defines {@code PREFIX-NNNN}
 *       beforehand; scaling up starts the lowest-numbered stopped one, stopping destroys it and never
 *       undefines it.</li>
 * </ul>
 * Only names {@code PREFIX-} and digits are ever touched. One action at a time.
 */
public final class ReplicaProvisioner implements Provisioner {
    private static final Logger log = LoggerFactory.getLogger(ReplicaProvisioner.class);

    /**
     * Everything a provisioner needs; {@code template}, {@code image} and {@code domainType} in template mode only.
     *
     * @param address     port-forward mode: the address the host's replicas answer on ({@code ${hostAddress}})
     * @param maxReplicas the group's replicas this host may run at most; -1: no such limit
     */
    public record Settings(Hypervisor host, ReplicaNames names, boolean portForward, int guestPort,
                           int hostPortBase, boolean undefineOnStop, ReplicaTemplate template, GuestImage image,
                           String domainType, String address, int maxReplicas, ApplicationConfig app,
                           UserData userData) {
        /** The built-in guest. */
        public Settings(Hypervisor host, ReplicaNames names, boolean portForward, int guestPort, int hostPortBase,
                        boolean undefineOnStop, ReplicaTemplate template, GuestImage image, String domainType,
                        String address, int maxReplicas) {
            this(host, names, portForward, guestPort, hostPortBase, undefineOnStop, template, image, domainType,
                    address, maxReplicas, ApplicationConfig.BUILTIN, UserData.NONE);
        }

        /** The same running another application. */
        public Settings withApplication(ApplicationConfig application, UserData data) {
            return new Settings(host, names, portForward, guestPort, hostPortBase, undefineOnStop, template, image,
                    domainType, address, maxReplicas, application, data);
        }

        /** One host answering on 127.0.0.1, no limit of its own. */
        public Settings(Hypervisor host, ReplicaNames names, boolean portForward, int guestPort, int hostPortBase,
                        boolean undefineOnStop, ReplicaTemplate template, GuestImage image, String domainType) {
            this(host, names, portForward, guestPort, hostPortBase, undefineOnStop, template, image, domainType,
                    "127.0.0.1", -1);
        }
    }

    /** How often libvirt is asked whether a guest shutting down is off yet. */
    private static final Duration SHUTDOWN_LOOK = Duration.ofMillis(200);

    private final Settings settings;
    private final ProvisioningMode mode;
    /** What new replicas run: the settings' application, with the image a rolling update changed to. */
    private volatile ApplicationConfig app;
    /**
     * Domains a start in this process is defining or starting ({@link Long#MAX_VALUE}), or when its start last
     * finished (a count of finished starts): libvirt shows them shut off, then paused while QEMU comes up, and
     * {@link #observe()} (which does not wait for a start) leaves out any its listing may have seen midway; else the
     * loop would take one for a crash's leftover or a warm pool's paused replica.
     */
    private final Map<String, Long> making = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong finishes = new java.util.concurrent.atomic.AtomicLong();
    /** The leftover volumes were looked for (once). */
    private volatile boolean swept;

    private ReplicaProvisioner(Settings settings, ProvisioningMode mode) {
        this.settings = settings;
        this.mode = mode;
        this.app = settings.app();
    }

    public static ReplicaProvisioner template(Settings settings) {
        return new ReplicaProvisioner(settings, new TemplateMode(settings, Clock.systemUTC()));
    }

    public static ReplicaProvisioner pool(Settings settings) {
        return new ReplicaProvisioner(settings, new PoolMode());
    }

    Settings settings() {
        return settings;
    }

    /** What new replicas run now. */
    ApplicationConfig app() {
        return app;
    }

    @Override
    public String image() {
        return app.image();
    }

    @Override
    public void useImage(String image) {
        useImage(image, true);
    }

    /** The same, {@code checked} first or not (a {@link HostGroup} checked it on the hosts that answer). */
    synchronized void useImage(String image, boolean check) {
        if (check) {
            checkImage(image);
        }
        app = app.withImage(image);
        log.info("new replicas on {} boot {} from now on", uri(), image);
    }

    @Override
    public List<String> images() {
        if (!app.ownImage()) {
            return List.of();
        }
        return host().volumes(app.pool()).stream().filter(v -> v.endsWith(".qcow2"))
                .filter(v -> settings.names().number(v.substring(0, v.length() - 6)).isEmpty()).sorted()
                .map(v -> app.pool() + "/" + v).toList();
    }

    /**
     * Refused (an exception saying why) unless new replicas can boot {@code image}: the group runs an image of its own,
     * and this one is a volume of the same storage pool (the replicas' overlays and seeds are there).
     *
     * @throws ProvisioningException when the host cannot be asked
     */
    void checkImage(String image) {
        if (!app.ownImage()) {
            throw new IllegalArgumentException("this group runs the built-in guest: set application.image to run an "
                    + "image of your own");
        }
        ApplicationConfig next = app.withImage(image);
        if (!next.pool().equals(app.pool())) {
            throw new IllegalArgumentException("image " + image + " is in the storage pool '" + next.pool()
                    + "'; the group's replicas' disks are in '" + app.pool() + "': a new image must be in the same pool");
        }
        List<String> volumes;
        try {
            volumes = host().volumes(next.pool());
        } catch (RuntimeException e) {
            throw new ProvisioningException("cannot look for " + image + " on " + uri() + ": " + e.getMessage(), e);
        }
        if (!volumes.contains(next.baseVolume())) {
            throw new IllegalArgumentException("no base image '" + next.baseVolume() + "' in the storage pool '"
                    + next.pool() + "' on " + uri() + " ('virsh vol-list " + next.pool() + "')");
        }
    }

    Hypervisor host() {
        return settings.host();
    }

    public String uri() {
        return host().uri();
    }

    @Override
    public List<String> hosts() {
        return List.of(uri());
    }

    /** The address its replicas answer on (port-forward mode). */
    public String address() {
        return settings.address();
    }

    /** The domain type it defines (template mode), or null. */
    public String domainType() {
        return settings.domainType();
    }

    /** The group's replicas it may run at most; -1: no limit of its own. */
    public int maxReplicas() {
        return settings.maxReplicas();
    }

    /** The number in a name of the group, if it is one. */
    OptionalInt number(String domain) {
        return settings.names().number(domain);
    }

    String group() {
        return settings.names().prefix();
    }

    /** Every domain named like ours, by number, whatever its state or mark. */
    Map<Integer, Hypervisor.Domain> named() {
        return named(host().domains(name -> settings.names().number(name).isPresent()));
    }

    private Map<Integer, Hypervisor.Domain> named(List<Hypervisor.Domain> domains) {
        Map<Integer, Hypervisor.Domain> byNumber = new HashMap<>();
        for (Hypervisor.Domain domain : domains) {
            settings.names().number(domain.name()).ifPresent(n -> byNumber.put(n, domain));
        }
        return byNumber;
    }

    /** The metadata element of the domain, or empty. */
    Optional<String> mark(String name) {
        return host().metadata(name, Endpoints.NAMESPACE);
    }

    /** Marks of running domains, by name, with the run they were read in: a run's mark does not change. */
    private final Map<String, RunMark> marks = new java.util.concurrent.ConcurrentHashMap<>();

    /** A mark as read, with what it says parsed once: where it answers (port-forward mode), when it was made. */
    private record RunMark(String run, Optional<String> mark, Endpoint forwarded, Instant created, String image) {
        static RunMark of(String run, Optional<String> mark) {
            return new RunMark(run, mark, mark.flatMap(Endpoints::parse).orElse(null),
                    mark.flatMap(Endpoints::created).orElse(null), mark.flatMap(Endpoints::image).orElse(null));
        }
    }

    /** The metadata element of a listed domain (see {@link #runMark}). */
    Optional<String> mark(Hypervisor.Domain domain) {
        return runMark(domain).mark();
    }

    /**
     * The mark of a listed domain: read once per run of a running one (a listing of a thousand replicas asks libvirt
     * for no mark at all), each time of one that is not running (its definition may change).
     */
    private RunMark runMark(Hypervisor.Domain domain) {
        if (domain.run() == null) {
            return RunMark.of(null, mark(domain.name()));
        }
        RunMark known = marks.get(domain.name());
        if (known != null && known.run().equals(domain.run())) {
            return known;
        }
        RunMark read = RunMark.of(domain.run(), mark(domain.name()));
        marks.put(domain.name(), read);
        return read;
    }

    /** Ours: in pool mode every domain of the name; in template mode only those with the group's mark. */
    private boolean owned(Optional<String> mark) {
        return mode.owns(mark, group());
    }

    /**
     * What the host runs. Not under this provisioner's lock: a start holds it across libvirt's define and start
     * (seconds on a slow host), and the loop looks, and answers commands, meanwhile; a domain being started is left
     * out until its start returns (its vCPUs count), and one started but not booked yet is the lane's (the
     * reconciler takes nothing back while a lane is busy).
     */
    @Override
    public Observation observe() {
        if (!swept) {
            synchronized (this) { // a start creates volumes before its domain: never swept between the two
                if (!swept) {
                    sweepVolumes(host().domains(name -> true));
                }
            }
        }
        long since = finishes.get();
        List<Hypervisor.Domain> all = host().domains(name -> true); // one listing: ours, and what the host runs
        making.values().removeIf(at -> at <= since - 1000); // long over
        int activeVcpus = all.stream().filter(Hypervisor.Domain::active).mapToInt(Hypervisor.Domain::vcpus).sum();
        long freeMemory;
        try {
            freeMemory = host().freeMemoryKiB();
        } catch (RuntimeException e) {
            freeMemory = -1; // not a reason to see nothing
        }
        List<Observed> replicas = new ArrayList<>();
        List<String> foreign = new ArrayList<>();
        java.util.Set<String> listed = new java.util.HashSet<>();
        all.forEach(d -> listed.add(d.name()));
        marks.keySet().retainAll(listed); // undefined since: a name used again is read again
        named(all).entrySet().stream().sorted(Map.Entry.comparingByKey(Comparator.naturalOrder())).forEach(e -> {
            Hypervisor.Domain domain = e.getValue();
            if (making.getOrDefault(domain.name(), 0L) > since) {
                return; // a start's, listed midway (during the listing, or finished since it began): not booked yet
            }
            RunMark mark = runMark(domain);
            if (!owned(mark.mark())) {
                foreign.add(domain.name());
                return;
            }
            replicas.add(new Observed(domain.name(), uri(), domain.power(), domain.vcpus(), domain.memoryKiB(),
                    settings.portForward() ? mark.forwarded() : endpoint(domain.name(), mark.mark()), mark.created(),
                    mark.image()));
        });
        return new Observation(replicas, foreign, List.of(new HostSeen(uri(), settings.address(), settings.maxReplicas(),
                new Hypervisor.Host(host().cpus(), activeVcpus, freeMemory), null)));
    }

    /** Runs a start of {@code name}, which {@link #observe()} leaves out meanwhile. */
    <T> T making(String name, java.util.function.Supplier<T> start) {
        making.put(name, Long.MAX_VALUE);
        try {
            return start.get();
        } finally {
            making.put(name, finishes.incrementAndGet());
        }
    }

    @Override
    public Replica scaleUp(String host) {
        if (!uri().equals(host)) {
            throw new IllegalArgumentException(host + " is not a host of this group (" + uri() + ")");
        }
        return scaleUp(Set.of());
    }

    /** Starts one more replica on its one host. */
    public Replica scaleUp() {
        return scaleUp(Set.of());
    }

    /** Starts one more replica here, its number none of {@code taken} (the numbers other hosts use). */
    synchronized Replica scaleUp(Set<Integer> taken) {
        return mode.scaleUp(this, taken);
    }

    @Override
    public Replica migrationTarget(String domain, String toHost) {
        throw new ProvisioningException("cannot move " + domain + " to " + toHost + ": " + uri() + " is the only host");
    }

    @Override
    public Replica migrate(String domain, String toHost) {
        return migrationTarget(domain, toHost);
    }

    /** Where a running replica of this host would answer on {@code target}: checked, nothing changed. */
    synchronized Replica migrationTarget(String domain, ReplicaProvisioner target) {
        Hypervisor.Domain found = ours(domain);
        if (found.power() != Hypervisor.Power.RUNNING) {
            throw new ProvisioningException(domain + " on " + uri() + " is " + found.power() + ", not running: "
                    + "only a running replica is live-migrated");
        }
        if (!settings.portForward()) {
            throw new ProvisioningException("cannot move " + domain + ": live migration needs provisioning.network "
                    + "port-forward (its NAT address would change under the balancer)");
        }
        if (target.uri().equals(uri())) {
            throw new ProvisioningException(domain + " is on " + uri() + " already");
        }
        if (target.address().equals(address())) {
            throw new ProvisioningException("cannot move " + domain + " from " + uri() + " to " + target.uri()
                    + ": both forward ports on " + address() + " (set libvirt.hosts[].address)");
        }
        Endpoint now = requireEndpoint(domain, mark(domain));
        Endpoint there = new Endpoint(target.address(), now.port());
        if (!udpPortFree(target.address(), there.port())) {
            throw new ProvisioningException("cannot move " + domain + " to " + target.uri() + ": UDP " + there
                    + " is taken");
        }
        return new Replica(domain, target.uri(), there);
    }

    /** Live-migrates a running replica of this host to {@code target}, answering there on the same port. */
    Replica migrateTo(String domain, ReplicaProvisioner target) {
        Replica there;
        String running;
        String persistent;
        synchronized (this) {
            there = migrationTarget(domain, target);
            Endpoint now = requireEndpoint(domain, mark(domain));
            running = Endpoints.moved(host().migratableXml(domain, false), now, there.endpoint());
            persistent = Endpoints.moved(host().migratableXml(domain, true), now, there.endpoint());
        }
        long t0 = System.nanoTime();
        try {
            host().migrate(domain, target.host(), running, persistent, target.address());
        } catch (RuntimeException e) {
            throw new ProvisioningException("cannot move " + domain + " from " + uri() + " to " + target.uri() + ": "
                    + e.getMessage(), e);
        }
        log.info("moved {} from {} to {} in {} ms, answering at {}", domain, uri(), target.uri(),
                (System.nanoTime() - t0) / 1_000_000, there.endpoint());
        return there;
    }

    @Override
    public synchronized Replica resume(String domain) {
        Hypervisor.Domain found = ours(domain);
        Endpoint endpoint = requireEndpoint(domain, mark(domain));
        try {
            switch (found.power()) {
                case PAUSED -> host().resume(domain);
                case SAVED -> host().start(domain); // restores the managed save image
                default -> throw new ProvisioningException(domain + " on " + uri() + " is " + found.power()
                        + ", not paused or saved: not a replica of the warm pool");
            }
        } catch (ProvisioningException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new ProvisioningException("cannot bring " + domain + " back from the warm pool on " + uri() + ": "
                    + e.getMessage(), e);
        }
        return new Replica(domain, uri(), endpoint);
    }

    @Override
    public synchronized void park(String domain, Tier tier) {
        Hypervisor.Domain found = ours(domain);
        if (found.power() != Hypervisor.Power.RUNNING) {
            throw new ProvisioningException(domain + " on " + uri() + " is " + found.power() + ", not running: cannot "
                    + (tier == Tier.PAUSED ? "pause" : "save") + " it");
        }
        try {
            if (tier == Tier.PAUSED) {
                host().suspend(domain);
            } else {
                host().save(domain);
            }
        } catch (RuntimeException e) {
            throw new ProvisioningException("cannot " + (tier == Tier.PAUSED ? "pause " : "save ") + domain + " on "
                    + uri() + ": " + e.getMessage(), e);
        }
        log.info("{} {} into the warm pool", tier == Tier.PAUSED ? "paused" : "saved", domain);
    }

    /** The group's domain of that name, or an exception saying why it is not one. */
    private Hypervisor.Domain ours(String domain) {
        if (settings.names().number(domain).isEmpty()) {
            throw new IllegalArgumentException(domain + " is not a domain of the prefix " + group());
        }
        Hypervisor.Domain found = host().domains(domain::equals).stream().findAny()
                .orElseThrow(() -> new ProvisioningException(domain + " is not defined on " + uri()));
        if (!owned(mark(domain))) {
            throw new ProvisioningException(domain + " on " + uri() + " does not carry the mark of the group " + group()
                    + ": not ours, left alone");
        }
        return found;
    }

    /**
     * Free to bind here: false when a socket of any process (another group's QEMU forwarding it, say) holds it; an
     * address this machine does not have (a remote host's) counts as free, that host's libvirt has the last word.
     */
    static boolean udpPortFree(String address, int port) {
        return portFree("udp", address, port);
    }

    /** The same for {@code tcp} or {@code udp}. */
    static boolean portFree(String protocol, String address, int port) {
        try (java.io.Closeable socket = protocol.equals("tcp")
                ? new java.net.ServerSocket(port, 1, InetAddress.getByName(address))
                : new DatagramSocket(new InetSocketAddress(InetAddress.getByName(address), port))) {
            return true;
        } catch (java.net.BindException e) {
            return e.getMessage() != null && e.getMessage().contains("Cannot assign requested address");
        } catch (IOException e) {
            return false;
        }
    }

    /** Where it answers, or null when not known yet (NAT mode before the lease). */
    private Endpoint endpoint(String name, Optional<String> mark) {
        if (settings.portForward()) {
            return mark.flatMap(Endpoints::parse).orElse(null);
        }
        return host().leaseAddress(name).map(ip -> new Endpoint(ip, settings.guestPort())).orElse(null);
    }

    @Override
    public Optional<Endpoint> address(String domain) {
        return Optional.ofNullable(endpoint(domain, mark(domain)));
    }

    /**
     * Where it answers; in port-forward mode its mark must say, or an exception says it does not. In NAT mode null
     * until the guest has its DHCP lease (the readiness probe waits for it).
     */
    Endpoint requireEndpoint(String name, Optional<String> mark) {
        if (!settings.portForward()) {
            return endpoint(name, mark);
        }
        return mark.flatMap(Endpoints::parse).orElseThrow(() -> new ProvisioningException(name
                + " has no <vmscale:replica ip='...' port='...'/> element (namespace " + Endpoints.NAMESPACE
                + ") in its metadata: port-forward mode needs it"));
    }

    /** The replica a scale-down stops when the caller has no preference: the highest-numbered running one. */
    public synchronized String scaleDownCandidate() {
        return observe().replicas().stream().filter(Observed::running).map(Observed::domain)
                .max(Comparator.comparingInt(d -> settings.names().number(d).getAsInt()))
                .orElseThrow(() -> new ProvisioningException("no running " + group() + "-* domain on " + uri()));
    }

    @Override
    public void stop(String domain) {
        stop(domain, Duration.ZERO);
    }

    @Override
    public String stop(String domain, Duration graceful) {
        OptionalInt number = settings.names().number(domain);
        if (number.isEmpty()) {
            throw new IllegalArgumentException(domain + " is not a domain of the prefix " + group());
        }
        Optional<Hypervisor.Domain> found;
        synchronized (this) {
            found = host().domains(domain::equals).stream().findAny();
            if (found.isEmpty()) {
                return "not found"; // gone already: what we wanted
            }
            if (!owned(mark(domain))) {
                throw new ProvisioningException(domain + " on " + uri() + " does not carry the mark of the group "
                        + group() + ": not ours, left alone");
            }
        }
        String how;
        try {
            how = found.get().power() == Hypervisor.Power.RUNNING && !graceful.isZero() ? shutDown(domain, graceful)
                    : "destroyed";
            synchronized (this) {
                if (how.startsWith("destroyed")) {
                    host().destroy(domain);
                }
                if (mode.removesStopped()) {
                    host().undefine(domain);
                    deleteVolumes(domain);
                }
            }
        } catch (RuntimeException e) {
            throw new ProvisioningException("cannot stop " + domain + " on " + uri() + ": " + e.getMessage(), e);
        }
        log.info("stopped {} ({}){}", domain, how, mode.removesStopped() ? " and removed it" : "");
        return how;
    }

    /**
     * Asks the guest to shut down and watches libvirt until it is off or the time is up (not holding this
     * provisioner meanwhile); says how it went: the caller destroys it when the answer starts with "destroyed".
     */
    private String shutDown(String domain, Duration graceful) {
        long t0 = System.nanoTime();
        try {
            host().shutdown(domain);
        } catch (RuntimeException e) {
            return "destroyed: the ACPI shutdown request failed (" + e.getMessage() + ")";
        }
        long end = t0 + graceful.toNanos();
        while (System.nanoTime() < end) {
            boolean running = host().domains(domain::equals).stream().anyMatch(Hypervisor.Domain::active);
            if (!running) {
                return String.format(java.util.Locale.ROOT, "shut down (ACPI) in %.1f s",
                        (System.nanoTime() - t0) / 1e9);
            }
            java.util.concurrent.locks.LockSupport.parkNanos(Math.min(SHUTDOWN_LOOK.toNanos(),
                    Math.max(0, end - System.nanoTime())));
        }
        return "destroyed: still running " + graceful.toSeconds() + " s after the ACPI shutdown request";
    }

    @Override
    public boolean removesStopped() {
        return mode.removesStopped();
    }

    @Override
    public boolean removesOnDelete() {
        return mode instanceof TemplateMode;
    }

    @Override
    public void remove(String domain) {
        stop(domain);
        if (!removesOnDelete() || mode.removesStopped()) {
            return; // an operator's domain stays defined; or stopping removed it already
        }
        try {
            synchronized (this) {
                if (host().domains(domain::equals).isEmpty()) {
                    deleteVolumes(domain);
                    return;
                }
                if (!owned(mark(domain))) {
                    throw new ProvisioningException(domain + " on " + uri() + " does not carry the mark of the group "
                            + group() + ": not ours, left alone");
                }
                host().undefine(domain);
                deleteVolumes(domain);
            }
        } catch (ProvisioningException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new ProvisioningException("cannot remove " + domain + " on " + uri() + ": " + e.getMessage(), e);
        }
        log.info("removed {} (the group is deleted)", domain);
    }

    /** Its overlay disk and seed: {@code NAME.qcow2} and {@code NAME-seed.iso} in the base image's pool. */
    static List<String> volumesOf(String domain) {
        return List.of(domain + ".qcow2", domain + "-seed.iso");
    }

    /** Deletes its volumes (with an image of the user's), failures logged: removing what is gone is no error. */
    void deleteVolumes(String domain) {
        if (!app.ownImage()) {
            return;
        }
        for (String volume : volumesOf(domain)) {
            try {
                if (host().deleteVolume(app.pool(), volume)) {
                    log.info("deleted volume {}/{}", app.pool(), volume);
                }
            } catch (RuntimeException e) {
                log.warn("could not delete volume {}/{}: {}", app.pool(), volume, e.getMessage());
            }
        }
    }

    /**
     * Volumes of the group's naming whose domain does not exist (a crash between creating them and defining it):
     * deleted. Once, at the first look.
     */
    private void sweepVolumes(List<Hypervisor.Domain> all) {
        if (!app.ownImage()) {
            swept = true; // no volumes of its own
            return;
        }
        java.util.Set<String> domains = new java.util.HashSet<>();
        all.forEach(d -> domains.add(d.name()));
        try {
            for (String volume : host().volumes(app.pool())) {
                String domain = volume.endsWith("-seed.iso") ? volume.substring(0, volume.length() - 9)
                        : volume.endsWith(".qcow2") ? volume.substring(0, volume.length() - 6) : null;
                if (domain != null && settings.names().number(domain).isPresent() && !domains.contains(domain)) {
                    host().deleteVolume(app.pool(), volume);
                    log.info("deleted volume {}/{}: its domain does not exist (left by a crash)", app.pool(),
                            volume);
                }
            }
            swept = true;
        } catch (RuntimeException e) {
            log.warn("could not look for leftover volumes in {}: {}", app.pool(), e.getMessage());
        }
    }

    /** Destroys and undefines it, failures logged: what a failed start leaves is not kept. */
    void removeQuietly(String name) {
        try {
            host().destroy(name);
        } catch (RuntimeException e) {
            log.debug("cleanup of {}: {}", name, e.getMessage());
        }
        try {
            host().undefine(name);
        } catch (RuntimeException e) {
            log.warn("could not remove the definition of {}: {}", name, e.getMessage());
        }
    }
}
