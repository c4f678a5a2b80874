package io.vmscale.cli.bench.scale;

import io.vmscale.libvirt.HostConnection;
import io.vmscale.scaler.provision.Hypervisor;
import io.vmscale.scaler.provision.LibvirtHypervisor;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One simulated hypervisor for the scale bench: a real libvirt connection to the test driver through libvirtd
 * ({@code test+unix:///FILE}: real RPCs, domains that cost nothing), whose running domains answer on real UDP
 * sockets ({@link Responders}) at the endpoint their metadata names, opened when a domain starts and closed when it
 * stops, as QEMU's forwarded port is.
 */
final class SimulatedHost implements Hypervisor {
    private static final Pattern NAME = Pattern.compile("<name>([^<]+)</name>");
    private static final Pattern IP = Pattern.compile("\\bip=['\"]([0-9.]+)['\"]");
    private static final Pattern PORT = Pattern.compile("\\bport=['\"](\\d+)['\"]");
    private static final String NAMESPACE = "https://vmscale.io/xmlns/replica/1";

    private final HostConnection connection;
    private final LibvirtHypervisor libvirt;
    private final Responders responders;
    /** Where each running domain answers. */
    private final Map<String, InetSocketAddress> answering = new ConcurrentHashMap<>();

    SimulatedHost(HostConnection connection, Responders responders) {
        this.connection = connection;
        this.libvirt = new LibvirtHypervisor(connection);
        this.responders = responders;
    }

    HostConnection connection() {
        return connection;
    }

    private void answer(String name, String element) {
        Matcher ip = IP.matcher(element);
        Matcher port = PORT.matcher(element);
        if (ip.find() && port.find()) {
            InetSocketAddress endpoint = new InetSocketAddress(ip.group(1), Integer.parseInt(port.group(1)));
            responders.open(endpoint);
            answering.put(name, endpoint);
        }
    }

    private void silence(String name) {
        InetSocketAddress endpoint = answering.remove(name);
        if (endpoint != null) {
            responders.close(endpoint);
        }
    }

    @Override
    public String uri() {
        return libvirt.uri();
    }

    @Override
    public List<Domain> domains(Predicate<String> names) {
        return libvirt.domains(names);
    }

    @Override
    public Optional<String> metadata(String name, String namespaceUri) {
        return libvirt.metadata(name, namespaceUri);
    }

    @Override
    public Optional<String> leaseAddress(String name) {
        return Optional.empty();
    }

    @Override
    public int cpus() {
        return libvirt.cpus();
    }

    @Override
    public long freeMemoryKiB() {
        return libvirt.freeMemoryKiB();
    }

    @Override
    public String capabilities() {
        return libvirt.capabilities();
    }

    @Override
    public void define(String xml) {
        libvirt.define(xml);
    }

    @Override
    public void createTransient(String xml) {
        libvirt.createTransient(xml);
        Matcher name = NAME.matcher(xml);
        int mark = xml.indexOf(":replica");
        if (name.find() && mark >= 0) {
            answer(name.group(1), xml.substring(mark, xml.indexOf('>', mark)));
        }
    }

    @Override
    public void start(String name) {
        libvirt.start(name);
        metadata(name, NAMESPACE).ifPresent(element -> answer(name, element));
    }

    @Override
    public void suspend(String name) {
        libvirt.suspend(name);
        silence(name);
    }

    @Override
    public void resume(String name) {
        libvirt.resume(name);
        metadata(name, NAMESPACE).ifPresent(element -> answer(name, element));
    }

    @Override
    public void save(String name) {
        libvirt.save(name);
        silence(name);
    }

    @Override
    public void shutdown(String name) {
        libvirt.shutdown(name);
        silence(name);
    }

    @Override
    public void destroy(String name) {
        libvirt.destroy(name);
        silence(name);
    }

    @Override
    public void undefine(String name) {
        libvirt.undefine(name);
    }

    @Override
    public String migratableXml(String name, boolean persistent) {
        return libvirt.migratableXml(name, persistent);
    }

    @Override
    public void migrate(String name, Hypervisor destination, String destinationXml, String persistentXml,
                        String address) {
        throw new UnsupportedOperationException("the scale bench does not migrate");
    }

    @Override
    public String createOverlay(String pool, String base, String name) {
        throw new UnsupportedOperationException("the scale bench has no storage pools");
    }

    @Override
    public String upload(String pool, String name, byte[] content) {
        throw new UnsupportedOperationException("the scale bench has no storage pools");
    }

    @Override
    public boolean deleteVolume(String pool, String name) {
        return false;
    }

    @Override
    public List<String> volumes(String pool) {
        return List.of();
    }

    @Override
    public boolean reachable() {
        return libvirt.reachable();
    }
}
