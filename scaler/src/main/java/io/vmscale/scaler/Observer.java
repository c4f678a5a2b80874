package io.vmscale.scaler;

import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.scaler.provision.Hypervisor;
import io.vmscale.scaler.provision.Provisioner;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reconciler's look at the truth: lists the group's domains through the {@link Provisioner} and folds what
 * libvirt says into the fleet (hosts that stopped answering, replicas that stopped unseen made FAILED, parked
 * domains nobody knew taken into the warm pool, foreign ones said once). Loop thread.
 */
final class Observer {
    private static final Logger log = LoggerFactory.getLogger(Observer.class);

    private final Loop loop;
    private final DecisionLog decisions;
    private final Provisioner provisioner;
    private final ReplicaActions actions;
    /** The (first) libvirt URI the group runs on, for the foreign domains' HOLD. */
    private final String host;
    /** Domains named like replicas that carry no mark of this group, said once each. */
    private final Set<String> foreignWarned = new HashSet<>();
    private boolean unreachable;

    Observer(Loop loop, DecisionLog decisions, Provisioner provisioner, ReplicaActions actions, String host) {
        this.loop = loop;
        this.decisions = decisions;
        this.provisioner = provisioner;
        this.actions = actions;
        this.host = host;
    }

    /**
     * The group as libvirt has it now, folded into the fleet; null (said once) when no host answers: nothing is
     * decided on what cannot be seen.
     */
    Provisioner.Observation look(Instant now) {
        Provisioner.Observation seen = listing();
        if (seen != null) {
            foldHosts(seen, now);
            foldReplicas(seen, now);
        }
        return seen;
    }

    private Provisioner.Observation listing() {
        try {
            Provisioner.Observation seen = provisioner.observe();
            unreachable = false;
            loop.lastObservation = seen;
            return seen;
        } catch (RuntimeException e) {
            if (!unreachable) {
                unreachable = true;
                decisions.say(ScaleAction.HOLD, "HypervisorUnreachable", "cannot list the replicas on "
                        + String.join(", ", provisioner.hosts()) + ": " + e.getMessage()
                        + "; nothing is decided until one answers", null);
            }
            return null;
        }
    }

    /** Which hosts answer, and since when those that do not have not. */
    private void foldHosts(Provisioner.Observation seen, Instant now) {
        for (Provisioner.HostSeen h : seen.hosts()) {
            if (h.reachable()) {
                if (loop.unreachableSince.remove(h.uri()) != null) {
                    log.info("scaler: {} answers again", h.uri());
                }
            } else if (!loop.unreachableSince.containsKey(h.uri())) {
                loop.unreachableSince.put(h.uri(), now);
                long ours = loop.fleet.all().stream().filter(m -> h.uri().equals(m.host())).count();
                decisions.say(ScaleAction.HOLD, "HostUnreachable", h.uri() + " does not answer (" + h.error()
                        + "): no replica goes there; its " + ours + " replica(s) are replaced elsewhere if it does not "
                        + "answer within " + loop.config.hostGraceSeconds() + " s", null);
            }
        }
    }

    /**
     * Foreign domains said once; replicas that stopped unseen (a lost event, libvirtd or the broker down meanwhile)
     * FAILED; parked domains nobody knows taken into the warm pool (a restart finds it again).
     */
    private void foldReplicas(Provisioner.Observation seen, Instant now) {
        Map<String, Provisioner.Observed> byName = new HashMap<>();
        seen.replicas().forEach(o -> byName.put(o.domain(), o));
        loop.images.keySet().removeIf(d -> !byName.containsKey(d) && !loop.fleet.contains(d));
        seen.replicas().forEach(o -> loop.images.put(o.domain(), o.image()));
        for (String foreign : seen.foreign()) {
            if (foreignWarned.add(foreign)) {
                decisions.say(ScaleAction.HOLD, "ForeignDomain", foreign + " is named like a replica of " + host
                        + " but carries no mark of this group: left alone, its number skipped", foreign);
            }
        }
        for (Fleet.Member member : loop.fleet.all()) {
            if (loop.busy.contains(member.domain())) {
                continue; // an action is changing it: libvirt's word on it is in flux
            }
            Instant away = member.host() == null ? null : loop.unreachableSince.get(member.host());
            if (away != null) {
                Duration gone = Duration.between(away, now);
                if (member.state() != ReplicaState.FAILED && member.state() != ReplicaState.STOPPING
                        && gone.toSeconds() >= loop.config.hostGraceSeconds()) {
                    actions.fail(member, "its host " + member.host() + " has not answered for " + gone.toSeconds()
                            + " s", now);
                }
                continue; // nothing is known of it meanwhile
            }
            String missing = missing(member, byName.get(member.domain()));
            if (missing != null) {
                actions.fail(member, missing, now);
            }
        }
        for (Provisioner.Observed observed : seen.replicas()) {
            if (!loop.fleet.contains(observed.domain()) && observed.parked() && observed.endpoint() != null) {
                String why = "found " + observed.power().name().toLowerCase(Locale.ROOT) + " in libvirt";
                decisions.announce(loop.fleet.pooled(observed.domain(), observed.host(), observed.endpoint(), now, why),
                        ReplicaState.POOLED, why);
            }
        }
    }

    /** Why libvirt's word on a replica contradicts its state, or null. */
    private static String missing(Fleet.Member member, Provisioner.Observed observed) {
        return switch (member.state()) {
            case STARTING, READY, DRAINING, WARMING -> observed == null ? "gone from libvirt"
                    : observed.running() ? null
                    : observed.power() == Hypervisor.Power.PAUSED ? "paused in libvirt" : "not running in libvirt";
            case POOLED -> observed == null ? "gone from libvirt"
                    : observed.parked() ? null
                    : observed.running() ? "running in libvirt, though parked" : "stopped in libvirt, its save image gone";
            default -> null; // FAILED, STOPPING: on their way out anyway
        };
    }

}
