package io.vmscale.scaler.provision;

import io.vmscale.broker.event.Endpoint;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The group's replicas over several libvirt hosts, one {@link ReplicaProvisioner} each: names are
 * numbered across all of them ({@code PREFIX-0003} exists once, wherever it runs), a host that does
 * not answer is reported as such (its last known numbers stay taken), and a running replica moves
 * between hosts by live migration. Which host a new replica goes to is the caller's choice.
 */
public final class HostGroup implements Provisioner {
    private final List<ReplicaProvisioner> hosts;
    /** The numbers each host used at its last answer: a host that stops answering keeps them. */
    private final Map<String, Set<Integer>> numbers = new ConcurrentHashMap<>();
    /** Where each domain was last seen. */
    private final Map<String, String> hostOf = new ConcurrentHashMap<>();

    public HostGroup(List<ReplicaProvisioner> hosts) {
        if (hosts.isEmpty()) {
            throw new IllegalArgumentException("a group needs at least one host");
        }
        this.hosts = List.copyOf(hosts);
    }

    private static Observation result(java.util.concurrent.Future<Observation> listing) {
        try {
            return listing.get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new ProvisioningException(String.valueOf(e.getCause()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProvisioningException("listing the hosts was interrupted");
        }
    }

    @Override
    public List<String> hosts() {
        return hosts.stream().map(ReplicaProvisioner::uri).toList();
    }

    private ReplicaProvisioner host(String uri) {
        return hosts.stream().filter(h -> h.uri().equals(uri)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(uri + " is not a host of this group; hosts: "
                        + String.join(", ", hosts())));
    }

    /** Hosts listed at once at most: each listing is a round trip to its own libvirtd. */
    private static final int PARALLEL_LISTINGS = 8;
    /** Where the hosts are listed side by side; its threads end when idle (a group lives as long as its scaler). */
    private final java.util.concurrent.ThreadPoolExecutor listings;

    {
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
        listings = new java.util.concurrent.ThreadPoolExecutor(PARALLEL_LISTINGS, PARALLEL_LISTINGS, 30,
                java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "host-listing-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        listings.allowCoreThreadTimeOut(true);
    }

    /**
     * Every host's listing, taken side by side (a tick over fifty hosts waits for the slowest, not for the sum),
     * folded in the hosts' order.
     */
    @Override
    public Observation observe() {
        List<java.util.concurrent.Future<Observation>> listed = new ArrayList<>();
        for (ReplicaProvisioner host : hosts) {
            listed.add(hosts.size() == 1 ? java.util.concurrent.CompletableFuture.completedFuture(null)
                    : listings.submit(host::observe));
        }
        List<Observed> replicas = new ArrayList<>();
        List<String> foreign = new ArrayList<>();
        List<HostSeen> seen = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        for (int i = 0; i < hosts.size(); i++) {
            ReplicaProvisioner host = hosts.get(i);
            Observation one;
            try {
                one = hosts.size() == 1 ? host.observe() : result(listed.get(i));
            } catch (RuntimeException e) {
                seen.add(new HostSeen(host.uri(), host.address(), host.maxReplicas(), null, e.getMessage()));
                errors.add(e.getMessage());
                continue;
            }
            replicas.addAll(one.replicas());
            foreign.addAll(one.foreign());
            seen.addAll(one.hosts());
            Set<Integer> used = new HashSet<>();
            one.replicas().forEach(o -> host.number(o.domain()).ifPresent(used::add));
            one.foreign().forEach(f -> host.number(f).ifPresent(used::add));
            numbers.put(host.uri(), used);
            one.replicas().forEach(o -> hostOf.put(o.domain(), o.host()));
        }
        if (errors.size() == hosts.size()) {
            throw new ProvisioningException("no host answers: " + String.join("; ", errors));
        }
        return new Observation(replicas, foreign, seen);
    }

    @Override
    public String image() {
        return hosts.get(0).image();
    }

    @Override
    public List<String> images() {
        for (ReplicaProvisioner host : hosts) {
            try {
                return host.images();
            } catch (RuntimeException e) {
                // the next host
            }
        }
        return List.of();
    }

    /** Checked on every host that answers (at least one must); a host that does not answer is not asked. */
    @Override
    public synchronized void useImage(String image) {
        int asked = 0;
        List<String> unasked = new ArrayList<>();
        for (ReplicaProvisioner host : hosts) {
            try {
                host.checkImage(image);
                asked++;
            } catch (ProvisioningException e) {
                unasked.add(e.getMessage());
            }
        }
        if (asked == 0) {
            throw new IllegalArgumentException("no host answers: " + String.join("; ", unasked));
        }
        hosts.forEach(h -> h.useImage(image, false));
    }

    @Override
    public synchronized Replica scaleUp(String host) {
        ReplicaProvisioner target = host(host);
        Set<Integer> taken = new HashSet<>();
        numbers.forEach((uri, used) -> {
            if (!uri.equals(host)) {
                taken.addAll(used);
            }
        });
        Replica replica = target.scaleUp(taken);
        target.number(replica.domain()).ifPresent(n -> numbers.computeIfAbsent(host, h -> ConcurrentHashMap.newKeySet()).add(n));
        hostOf.put(replica.domain(), host);
        return replica;
    }

    /** The host the domain is on: where it was last seen, else the first reachable host that has it. */
    private ReplicaProvisioner of(String domain) {
        String uri = hostOf.get(domain);
        if (uri != null) {
            return host(uri);
        }
        for (ReplicaProvisioner host : hosts) {
            try {
                if (host.observe().replicas().stream().anyMatch(o -> o.domain().equals(domain))) {
                    hostOf.put(domain, host.uri());
                    return host;
                }
            } catch (RuntimeException e) {
                // not this one
            }
        }
        throw new ProvisioningException(domain + " is on none of the hosts that answer (" + String.join(", ", hosts())
                + ")");
    }

    @Override
    public Replica resume(String domain) {
        return of(domain).resume(domain);
    }

    @Override
    public Optional<Endpoint> address(String domain) {
        return of(domain).address(domain);
    }

    @Override
    public void park(String domain, Tier tier) {
        of(domain).park(domain, tier);
    }

    @Override
    public void stop(String domain) {
        stop(domain, java.time.Duration.ZERO);
    }

    @Override
    public String stop(String domain, java.time.Duration graceful) {
        Optional<String> known = Optional.ofNullable(hostOf.get(domain));
        if (known.isEmpty() && hosts.size() > 1) {
            String how = "not found";
            for (ReplicaProvisioner host : hosts) {
                // gone everywhere is what we want; a host that does not answer says so
                String there = host.stop(domain, graceful);
                how = there.equals("not found") ? how : there;
            }
            return how;
        }
        return of(domain).stop(domain, graceful);
    }

    @Override
    public Replica migrationTarget(String domain, String toHost) {
        return of(domain).migrationTarget(domain, host(toHost));
    }

    @Override
    public Replica migrate(String domain, String toHost) {
        ReplicaProvisioner from = of(domain);
        ReplicaProvisioner to = host(toHost);
        Replica moved = from.migrateTo(domain, to);
        hostOf.put(domain, toHost);
        from.number(domain).ifPresent(n -> {
            numbers.computeIfAbsent(toHost, h -> ConcurrentHashMap.newKeySet()).add(n);
        });
        return moved;
    }

    @Override
    public boolean removesStopped() {
        return hosts.get(0).removesStopped();
    }

    @Override
    public boolean removesOnDelete() {
        return hosts.get(0).removesOnDelete();
    }

    @Override
    public void remove(String domain) {
        if (hostOf.get(domain) == null && hosts.size() > 1) {
            for (ReplicaProvisioner host : hosts) {
                host.remove(domain); // gone everywhere is what we want
            }
            return;
        }
        of(domain).remove(domain);
    }
}
