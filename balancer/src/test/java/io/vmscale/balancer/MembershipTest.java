package io.vmscale.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.VmLifecycle;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Only READY makes a member. Every other state, including the ones added after this was written
 * (the warm pool's paused and saved replicas, MIGRATING), must never let a replica in: this goes
 * over every constant of {@link ReplicaState} there is when it runs.
 */
class MembershipTest {
    private static final Set<ReplicaState> LEAVING = Set.of(ReplicaState.DRAINING, ReplicaState.STOPPING,
            ReplicaState.FAILED, ReplicaState.STOPPED, ReplicaState.UNDEFINED, ReplicaState.PAUSED, ReplicaState.POOLED);
    private Balancer balancer;

    @AfterEach
    void stop() {
        if (balancer != null) {
            balancer.close();
        }
    }

    @Test
    void onlyReadyJoinsTheStatesOfAReplicaThatStopsServingLeaveAndAnyOtherDoesNothing() {
        for (ReplicaState state : ReplicaState.values()) {
            Membership.Change expected = state == ReplicaState.READY ? Membership.Change.JOIN
                    : state == ReplicaState.MIGRATING ? Membership.Change.MIGRATE
                    : LEAVING.contains(state) ? Membership.Change.LEAVE : Membership.Change.NONE;
            assertThat(Membership.change(state)).as(state.name()).isEqualTo(expected);
        }
        assertThat(Membership.change(null)).isEqualTo(Membership.Change.NONE);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = ReplicaState.class, names = "READY", mode = EnumSource.Mode.EXCLUDE)
    void aReplicaWithItsEndpointInAnyStateButReadyIsNotAMember(ReplicaState state) {
        balancer = Balancer.start(new Balancer.Settings(0, 1000, Map.of("low", 0.3, "mid", 0.5, "high", 0.85),
                LoadMode.OFF, "round-robin", 8, Duration.ofSeconds(1), 3, Duration.ofSeconds(5),
                Duration.ofMillis(100)), e -> { }, List::of, "balancer@test");
        Endpoint endpoint = new Endpoint("127.0.0.1", 9);
        balancer.onLifecycle(new VmLifecycle("vmscale-0000", "qemu:///system", endpoint, state, "test"));
        assertThat(balancer.members()).isEmpty();
        // and for one that is a member, only the leaving states take it out
        balancer.onLifecycle(new VmLifecycle("vmscale-0000", "qemu:///system", endpoint, ReplicaState.READY, "test"));
        balancer.onLifecycle(new VmLifecycle("vmscale-0000", "qemu:///system", endpoint, state, "test"));
        assertThat(balancer.members()).as("after READY then %s", state)
                .isEqualTo(LEAVING.contains(state) ? List.of() : List.of(endpoint));
    }

    @Test
    void anEndpointReusedByALaterReplicaIsNotTakenOutByItsPredecessorsStop() {
        Membership membership = new Membership(new OutlierDetector(3, Duration.ofSeconds(1), Duration.ofSeconds(30),
                0.5), Dispatch.roundRobin(), 8, new SlowStart(Duration.ZERO));
        Endpoint port = new Endpoint("127.0.0.1", 21100);
        membership.joined("vmscale-0001", port);
        membership.joined("vmscale-0003", port); // the same host port, forwarded to its successor
        membership.add(port, 0);
        assertThat(membership.endpointOf("vmscale-0001")).as("the monitor's STOPPED of the old one").isNull();
        assertThat(membership.domainsJoined()).isEqualTo(Map.of("vmscale-0003", port));
    }
}
