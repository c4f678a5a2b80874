package io.vmscale.scaler;

import io.vmscale.scaler.provision.Hypervisor;
import io.vmscale.scaler.provision.Provisioner;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Where one more replica goes: the reachable host with the most room (ties: the one with fewer of the
 * group's replicas, then the configuration's order), or none, with every host's figures saying why.
 * A host's room, in replicas, is the least of what its own limit ({@code libvirt.hosts[].maxReplicas}),
 * its CPUs ({@code scaler.maxVcpusPerCore}) and its free memory leave. Pure: it reads an observation.
 */
final class Placement {

    /**
     * One host's room.
     *
     * @param replicas the group's active (running or paused) replicas on it
     * @param room     replicas that still fit; 0 when unreachable
     */
    record Fit(String uri, boolean reachable, int replicas, int room, String figures) {
    }

    /**
     * The verdict.
     *
     * @param host    where the replica goes, or null when no host has room
     * @param figures every host's figures, for the decision's reason
     */
    record Verdict(String host, String figures) {
        boolean full() {
            return host == null;
        }
    }

    private Placement() {
    }

    /** Each host's room for one more replica of the size the group's replicas have. */
    static List<Fit> fits(Provisioner.Observation seen, double maxVcpusPerCore) {
        int vcpus = Math.max(1, seen.replicas().stream().mapToInt(Provisioner.Observed::vcpus).max().orElse(1));
        long memory = seen.replicas().stream().mapToLong(Provisioner.Observed::memoryKiB).max().orElse(0);
        List<Fit> fits = new ArrayList<>();
        for (Provisioner.HostSeen host : seen.hosts()) {
            int replicas = (int) seen.on(host.uri()).stream().filter(Provisioner.Observed::active).count();
            if (!host.reachable()) {
                fits.add(new Fit(host.uri(), false, replicas, 0, host.uri() + " unreachable ("
                        + host.error() + ")"));
                continue;
            }
            Hypervisor.Host figures = host.figures();
            long room = host.maxReplicas() < 0 ? Integer.MAX_VALUE : host.maxReplicas() - replicas;
            StringBuilder text = new StringBuilder(host.uri()).append(": ").append(replicas)
                    .append(host.maxReplicas() < 0 ? "" : "/" + host.maxReplicas()).append(" replica(s), ")
                    .append(figures.activeVcpus()).append(" vCPU(s) on ").append(figures.cpus()).append(" CPU(s)");
            if (maxVcpusPerCore > 0) {
                double allowed = figures.cpus() * maxVcpusPerCore;
                room = Math.min(room, (long) Math.floor((allowed - figures.activeVcpus() + 1e-9) / vcpus));
                text.append(String.format(Locale.ROOT, " (at most %.1f)", allowed));
            }
            if (figures.freeMemoryKiB() >= 0) {
                text.append(", ").append(figures.freeMemoryKiB() / 1024).append(" MiB free");
                if (memory > 0) {
                    room = Math.min(room, figures.freeMemoryKiB() / memory);
                }
            }
            fits.add(new Fit(host.uri(), true, replicas, (int) Math.max(0, Math.min(room, 1000)), text.toString()));
        }
        return fits;
    }

    /** Where one more replica goes, on none of the {@code excluded} hosts. */
    static Verdict place(Provisioner.Observation seen, double maxVcpusPerCore, Set<String> excluded) {
        List<Fit> fits = fits(seen, maxVcpusPerCore);
        String best = fits.stream()
                .filter(f -> f.reachable() && f.room() > 0 && !excluded.contains(f.uri()))
                .sorted(Comparator.comparingInt(Fit::room).reversed().thenComparingInt(Fit::replicas))
                .map(Fit::uri).findFirst().orElse(null); // a stable sort: the configuration's order breaks ties
        return new Verdict(best, figures(fits));
    }

    static Verdict place(Provisioner.Observation seen, double maxVcpusPerCore) {
        return place(seen, maxVcpusPerCore, Set.of());
    }

    static String figures(List<Fit> fits) {
        return String.join("; ", fits.stream().map(Fit::figures).toList());
    }
}
