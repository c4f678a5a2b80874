package io.vmscale.libvirt;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import org.libvirt.Domain;
import org.libvirt.DomainInfo;
import org.libvirt.LibvirtException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the monitor reads from one {@link HostConnection}: its domains' state and CPU time (in one
 * bulk call where the driver has it) and the host's figures. Thread-safe.
 */
public final class Stats {
    private static final Logger log = LoggerFactory.getLogger(Stats.class);

    private final HostConnection connection;
    private volatile boolean bulkSupported = true;
    /** vCPUs and memory per domain run, for the bulk path: by UUID, with the run id they belong to. */
    private final Map<String, Run> runs = new ConcurrentHashMap<>();
    private final AllDomainStats.RunCache runCache = new AllDomainStats.RunCache() {
        @Override
        public AllDomainStats.RunFigures get(String uuid, int id) {
            Run run = runs.get(uuid);
            return run != null && run.id() == id ? run.figures() : null;
        }

        @Override
        public void put(String uuid, int id, AllDomainStats.RunFigures figures) {
            runs.put(uuid, new Run(id, figures)); // an earlier run of the same domain is replaced
        }
    };

    private record Run(int id, AllDomainStats.RunFigures figures) {
    }

    /** Only the runs of domains this call saw are kept: a replica's UUID is new at every scale-up. */
    private List<DomainStats> forgetEnded(List<DomainStats> seen) {
        java.util.Set<String> uuids = new java.util.HashSet<>();
        seen.forEach(d -> uuids.add(d.uuid()));
        runs.keySet().retainAll(uuids);
        return seen;
    }

    Stats(HostConnection connection) {
        this.connection = connection;
    }

    /** Whether the driver answered the bulk stats call (libvirt's test driver does not). */
    public boolean bulkSupported() {
        return bulkSupported;
    }

    /**
     * State, CPU time and vCPUs of the domains whose name passes the filter: one bulk call
     * (virConnectGetAllDomainStats), or one call per domain where the driver has no bulk stats.
     */
    public List<DomainStats> domains(Predicate<String> names) {
        if (bulkSupported) {
            try {
                return bulk(names);
            } catch (LibvirtFailure e) {
                if (!connection.connected()) {
                    throw e;
                }
                List<DomainStats> fallback = perDomain(names); // throws if the connection is the trouble
                bulkSupported = false;
                log.info("{}: no bulk stats on this driver; reading one domain at a time", connection.uri());
                return fallback;
            }
        }
        return perDomain(names);
    }

    /**
     * One virConnectGetAllDomainStats call (state and CPU time), plus one vCPU count query per
     * domain run the first time it is seen.
     */
    public List<DomainStats> bulk(Predicate<String> names) {
        return connection.call("bulk stats", c -> {
            try {
                return forgetEnded(AllDomainStats.fetch(c.pointer(), names, runCache));
            } catch (AllDomainStats.BulkStatsUnsupported e) {
                connection.checkAlive(c);
                throw new LibvirtFailure(connection.uri() + ": bulk stats: " + e.getMessage());
            }
        });
    }

    /**
     * State, vCPUs and memory of the domains whose name passes the filter (no CPU time), for a listing: one bulk call
     * of the state alone, which every driver answers, vCPUs and memory read once per domain run; one call per domain
     * where even that fails.
     */
    public List<DomainStats> listing(Predicate<String> names) {
        try {
            return connection.call("domain listing", c -> {
                try {
                    return forgetEnded(AllDomainStats.states(c.pointer(), names, runCache));
                } catch (AllDomainStats.BulkStatsUnsupported e) {
                    connection.checkAlive(c);
                    throw new LibvirtFailure(connection.uri() + ": domain listing: " + e.getMessage());
                }
            });
        } catch (LibvirtFailure e) {
            if (!connection.connected()) {
                throw e;
            }
            return perDomain(names);
        }
    }

    /** One call to list the domains, then calls for each matching domain. */
    public List<DomainStats> perDomain(Predicate<String> names) {
        return connection.call("stats per domain", c -> {
            List<DomainStats> result = new ArrayList<>();
            for (Domain domain : c.listAllDomains(0)) {
                String name = domain.getName();
                if (!names.test(name)) {
                    continue;
                }
                try {
                    result.add(read(domain, name));
                } catch (LibvirtException e) {
                    if (!HostConnection.is(e, "VIR_ERR_NO_DOMAIN")) {
                        throw e;
                    }
                    // undefined between the listing and the reading: it is simply gone
                }
            }
            return result;
        });
    }

    /** One domain's figures, from its info. */
    static DomainStats read(Domain domain, String name) throws LibvirtException {
        DomainInfo info = domain.getInfo();
        DomainState state = DomainState.of(info.state.ordinal());
        int id = state.active() ? domain.getID() : -1;
        return new DomainStats(name, domain.getUUIDString(), id, state, state.active() ? info.nrVirtCpu : 0,
                state.active() ? info.cpuTime : 0, info.maxMem);
    }

    /** The host's logical CPUs and memory. */
    public HostInfo info() {
        return connection.call("node info", c -> {
            org.libvirt.NodeInfo info = c.nodeInfo();
            return new HostInfo(info.cpus, info.memory);
        });
    }

    /** The host's free memory. */
    public long freeMemoryKiB() {
        return connection.call("free memory", c -> c.getFreeMemory() / 1024);
    }

    /** The host's cumulative CPU times, all CPUs together (virNodeGetCPUStats). */
    public HostCpuTimes cpuTimes() {
        return connection.call("node CPU stats", c -> {
            try {
                return NodeCpuStats.fetch(c.pointer());
            } catch (NodeCpuStats.Failed e) {
                connection.checkAlive(c);
                throw new LibvirtFailure(connection.uri() + ": node CPU stats: " + e.getMessage());
            }
        });
    }
}
