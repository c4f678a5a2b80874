package io.vmscale.cli.stack;

import io.vmscale.balancer.traffic.TrafficDriver;
import io.vmscale.balancer.traffic.TrafficService;
import io.vmscale.broker.BrokerConnection;
import io.vmscale.broker.BrokerException;
import io.vmscale.broker.Subscription;
import io.vmscale.broker.event.GroupChange;
import io.vmscale.cli.config.RuntimeGroups;
import io.vmscale.cli.config.VmscaleConfig;
import io.vmscale.monitor.Monitor;
import io.vmscale.scaler.Scaler;
import io.vmscale.scaler.ScalerGroups;
import java.io.PrintWriter;
import io.vmscale.scaler.RuntimeSettings;
import io.vmscale.scaler.provision.Provisioner;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Groups created and deleted at run time, for each component: the scaler makes and keeps them ({@link Maker}), the
 * monitor reads their domains ({@link #monitor}), whatever carries traffic drives theirs ({@link Traffic}); each
 * starts from the file with what the broker kept laid over it ({@link #effective}).
 */
final class RunTimeGroupsWiring {
    private static final Logger log = LoggerFactory.getLogger(RunTimeGroupsWiring.class);

    private RunTimeGroupsWiring() {
    }

    /** What the broker kept of groups made at run time, or nothing (said) when it kept nothing readable. */
    static RuntimeGroups kept(BrokerConnection connection, PrintWriter out, String name) {
        String text;
        try {
            text = connection.kept(RuntimeGroups.STATE).orElse(null);
        } catch (BrokerException e) {
            say(out, name, "could not read the groups made at run time from the broker: " + e.getMessage());
            return new RuntimeGroups();
        }
        if (text == null) {
            return new RuntimeGroups();
        }
        return RuntimeGroups.fromJson(text).orElseGet(() -> {
            say(out, name, "the groups made at run time kept on the broker are not readable: left out");
            return new RuntimeGroups();
        });
    }

    /** The file's configuration with the groups made at run time laid over it, each step said. */
    static VmscaleConfig effective(VmscaleConfig file, RuntimeGroups kept, PrintWriter out, String name) {
        return kept.over(file, line -> say(out, name, line));
    }

    private static void say(PrintWriter out, String name, String line) {
        out.println(name + ": " + line);
        out.flush();
    }

    /** The monitor reads a created group's domains from now on, and no longer a deleted one's. */
    static Subscription monitor(BrokerConnection connection, Monitor monitor) {
        return connection.subscribe(GroupChange.class, e -> {
            if (e.body().change().equals(GroupChange.CREATED)) {
                monitor.follow(e.body().group());
            } else if (e.body().change().equals(GroupChange.DELETED)) {
                monitor.forget(e.body().group());
            }
        });
    }

    /** Starts a group's scaler: the component's way. */
    interface Starter {
        /** The group's provisioner, on the deployment's hosts. */
        Provisioner provisioner(VmscaleConfig group);

        /** The group's scaler, going on with what operators changed under the one before ({@code carried}), if any. */
        Scaler start(VmscaleConfig group, Provisioner provisioner, Optional<RuntimeSettings> carried);
    }

    /**
     * The scaler's side: a group created from its spec (checked as the file's groups are) gets a provisioner and a
     * scaler, a group changed a scaler started again with its new spec; every change is kept on the broker and said
     * on {@code vmscale.vm}.
     */
    static final class Maker implements ScalerGroups.Lifecycle {
        private final VmscaleConfig file;
        private final AtomicReference<VmscaleConfig> current;
        private final RuntimeGroups kept;
        private final Starter start;
        private final BrokerConnection connection;
        private final PrintWriter out;
        private final String name;

        /**
         * @param file    the configuration file's
         * @param current the configuration in force (the file's with what was kept laid over it), kept up to date
         * @param start   starts a group's scaler (its provisioner made) from its configuration
         */
        Maker(VmscaleConfig file, VmscaleConfig current, RuntimeGroups kept, Starter start,
              BrokerConnection connection, PrintWriter out, String name) {
            this.file = file;
            this.current = new AtomicReference<>(current);
            this.kept = kept;
            this.start = start;
            this.connection = connection;
            this.out = out;
            this.name = name;
        }

        @Override
        public synchronized Scaler create(String group, String spec) {
            VmscaleConfig next = RuntimeGroups.with(current.get(), group, spec);
            VmscaleConfig g = next.group(group).orElseThrow();
            Scaler scaler;
            try {
                scaler = start.start(g, start.provisioner(g), Optional.empty());
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("group " + group + " not created: " + e.getMessage(), e);
            }
            current.set(next);
            return scaler;
        }

        @Override
        public synchronized ScalerGroups.Respec respec(String group, String patch) {
            VmscaleConfig now = current.get();
            VmscaleConfig before = now.group(group).orElseThrow(() -> new IllegalArgumentException("no group " + group
                    + " in the configuration in force"));
            String spec = RuntimeGroups.patched(before, group, patch);
            VmscaleConfig after = RuntimeGroups.replaced(now, group, spec).group(group).orElseThrow();
            List<String> keys = RuntimeGroups.differences(before, after);
            String image = after.application().image().equals(before.application().image()) ? null
                    : after.application().image();
            List<String> made = keys.stream().filter(k -> k.startsWith("provisioning.") || k.startsWith("application.")
                    || k.startsWith("guest.")).toList();
            Provisioner provisioner = keys.isEmpty() ? null : start.provisioner(after);
            if (image != null) {
                try {
                    provisioner.useImage(image); // on every host, before the group's scaler stops acting
                } catch (RuntimeException e) {
                    throw new IllegalArgumentException("group " + group + "'s spec: key 'application.image': "
                            + e.getMessage(), e);
                }
            }
            return new ScalerGroups.Respec(spec, keys, image, made, carried -> {
                Scaler scaler = start.start(after, provisioner, Optional.of(carried));
                synchronized (this) {
                    current.set(RuntimeGroups.replaced(current.get(), group, spec));
                }
                return scaler;
            }, carried -> start.start(before, start.provisioner(before), Optional.of(carried)));
        }

        @Override
        public synchronized void changed(GroupChange change) {
            if (change.change().equals(GroupChange.CREATED)) {
                kept.created(change.group(), change.spec());
            } else if (change.change().equals(GroupChange.CHANGED)) {
                kept.changed(change.group(), change.spec(), file);
            } else {
                kept.deleted(change.group(), file);
                current.set(RuntimeGroups.without(current.get(), change.group()));
            }
            try {
                connection.keep(RuntimeGroups.STATE, kept.toJson());
            } catch (RuntimeException e) {
                say(out, name, "could not keep the groups on the broker: " + e.getMessage());
            }
            try {
                connection.publish(change);
            } catch (RuntimeException e) {
                say(out, name, "could not say that group " + change.group() + " is " + change.change() + ": "
                        + e.getMessage());
            }
            say(out, name, "group " + change.group() + " " + change.change());
        }
    }

    /**
     * The traffic drivers of the groups that are not the built-in balancer's: one each, started for a group created
     * at run time, stopped for one deleted.
     */
    static final class Traffic implements AutoCloseable {
        private final BrokerConnection connection;
        private final AtomicReference<VmscaleConfig> current;
        private final Map<String, AutoCloseable> drivers = new ConcurrentHashMap<>();
        private final Subscription changes;

        Traffic(BrokerConnection connection, VmscaleConfig current) {
            this.connection = connection;
            this.current = new AtomicReference<>(current);
            this.changes = connection.subscribe(GroupChange.class, e -> onChange(e.body()));
        }

        void start(VmscaleConfig g) {
            boolean first = current.get().all().get(0).name().equals(g.name());
            drivers.computeIfAbsent(g.name(), n -> TrafficService.start(connection, TrafficDriver.of(g.traffic(), n),
                    TrafficDriver.names(n), g.traffic().sync(), n, first));
        }

        private synchronized void onChange(GroupChange change) {
            if (change.change().equals(GroupChange.CREATED)) {
                try {
                    VmscaleConfig next = RuntimeGroups.with(current.get(), change.group(), change.spec());
                    current.set(next);
                    start(next.group(change.group()).orElseThrow());
                    log.info("traffic: driving group {}'s traffic (created)", change.group());
                } catch (RuntimeException e) {
                    log.error("traffic: cannot drive the created group {}'s traffic: {}", change.group(),
                            e.getMessage());
                }
            } else if (change.change().equals(GroupChange.CHANGED)) {
                try {
                    VmscaleConfig before = current.get().group(change.group()).orElse(null);
                    VmscaleConfig next = RuntimeGroups.replaced(current.get(), change.group(), change.spec());
                    current.set(next);
                    VmscaleConfig g = next.group(change.group()).orElseThrow();
                    if (before != null && before.traffic().equals(g.traffic()) && drivers.containsKey(g.name())) {
                        return;
                    }
                    close(change.group());
                    start(g);
                    log.info("traffic: driving group {}'s traffic as its changed spec says", change.group());
                } catch (RuntimeException e) {
                    log.error("traffic: cannot drive the changed group {}'s traffic: {}", change.group(),
                            e.getMessage());
                }
            } else {
                current.set(RuntimeGroups.without(current.get(), change.group()));
                if (close(change.group())) {
                    log.info("traffic: no longer driving group {}'s traffic (deleted)", change.group());
                }
            }
        }

        private boolean close(String group) {
            AutoCloseable driver = drivers.remove(group);
            if (driver == null) {
                return false;
            }
            try {
                driver.close();
            } catch (Exception e) {
                log.warn("traffic: closing group {}'s driver: {}", group, e.getMessage());
            }
            return true;
        }

        @Override
        public void close() {
            try {
                changes.close();
            } catch (Exception e) {
                // closing anyway
            }
            drivers.values().forEach(d -> {
                try {
                    d.close();
                } catch (Exception e) {
                    // closing anyway
                }
            });
        }
    }
}
