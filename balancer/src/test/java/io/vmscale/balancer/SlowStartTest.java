package io.vmscale.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.broker.event.LbStats;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Slow start: the weight over the window, the share it gives on a fake clock, and on real guest servers. */
class SlowStartTest extends BalancerOnGuests {
    private static final long S = 1_000_000_000L;

    @ParameterizedTest(name = "{0} s into a 10 s window: {1}")
    @CsvSource(textBlock = """
            0,    0.1
            0.5,  0.1
            1,    0.1
            2.5,  0.25
            5,    0.5
            9.9,  0.99
            10,   1
            3600, 1
            """)
    void theWeightGrowsLinearlyFromATenthToAll(double seconds, double weight) {
        SlowStart slowStart = new SlowStart(Duration.ofSeconds(10));
        long joined = -5 * S; // nanoTime may be anything
        assertThat(slowStart.weight(joined, joined + (long) (seconds * S))).isCloseTo(weight, within(1e-9));
    }

    @Test
    void noWindowMeansFullWeightAtOnce() {
        assertThat(new SlowStart(Duration.ZERO).weight(0, 0)).isEqualTo(1);
    }

    /** Of 10,000 round-robin picks at {@code at} seconds after the second replica joined, its share. */
    private static double newcomersShare(double at) {
        Membership membership = new Membership(new OutlierDetector(3, Duration.ofSeconds(1), Duration.ofSeconds(30),
                0.5), Dispatch.roundRobin(), 8, new SlowStart(Duration.ofSeconds(10)));
        Replica old = membership.add(new Endpoint("127.0.0.1", 1), -100 * S);
        Replica newcomer = membership.add(new Endpoint("127.0.0.1", 2), 0);
        int toNewcomer = 0;
        for (int i = 0; i < 10_000; i++) {
            Replica picked = membership.pick((long) (at * S), null);
            assertThat(picked).isIn(old, newcomer);
            if (picked == newcomer) {
                toNewcomer++;
            }
        }
        return toNewcomer / 10_000.0;
    }

    @Test
    void aNewcomersShareFollowsItsWeightAndNoRequestIsLeftUnsent() {
        // round robin gives each of two half the picks; the newcomer keeps a weight's worth of its half
        assertThat(newcomersShare(0)).isCloseTo(0.05, within(0.001));
        assertThat(newcomersShare(5)).isCloseTo(0.25, within(0.001));
        assertThat(newcomersShare(10)).isCloseTo(0.5, within(0.001));
    }

    @Test
    void aReplicaFromTheWarmPoolGetsItsFullShareAtOnce() {
        Membership membership = new Membership(new OutlierDetector(3, Duration.ofSeconds(1), Duration.ofSeconds(30),
                0.5), Dispatch.roundRobin(), 8, new SlowStart(Duration.ofSeconds(10)));
        Replica old = membership.add(new Endpoint("127.0.0.1", 1), -100 * S);
        Replica warm = membership.add(new Endpoint("127.0.0.1", 2), 0, true);
        int toWarm = 0;
        for (int i = 0; i < 1000; i++) {
            if (membership.pick(0, null) == warm) {
                toWarm++;
            }
        }
        assertThat(toWarm).as("half of round robin's picks the moment it joined").isEqualTo(500);
        assertThat(warm.weight).isEqualTo(1);
        assertThat(old.weight).isEqualTo(1);
        VmLifecycle resumed = new VmLifecycle("r-1", "qemu:///system", new Endpoint("127.0.0.1", 2),
                ReplicaState.READY, VmLifecycle.FROM_WARM_POOL + " (paused), answered its probe", true);
        assertThat(resumed.warmStart()).isTrue();
        assertThat(new VmLifecycle("r-1", "qemu:///system", null, ReplicaState.READY, "answered its probe").warmStart())
                .isFalse();
        assertThat(new VmLifecycle("r-1", "qemu:///system", null, ReplicaState.READY,
                VmLifecycle.FROM_WARM_POOL + " (paused), answered its probe").warmStart())
                .as("the field says it, not the words").isFalse();
    }

    @Test
    void replicasThatJoinedTogetherShareEvenly() {
        Membership membership = new Membership(new OutlierDetector(3, Duration.ofSeconds(1), Duration.ofSeconds(30),
                0.5), Dispatch.roundRobin(), 8, new SlowStart(Duration.ofSeconds(10)));
        Replica a = membership.add(new Endpoint("127.0.0.1", 1), 0);
        Replica b = membership.add(new Endpoint("127.0.0.1", 2), 0);
        int toA = 0;
        for (int i = 0; i < 1000; i++) {
            if (membership.pick(2 * S, null) == a) {
                toA++;
            }
        }
        assertThat(toA).isEqualTo(500);
        assertThat(b.weight).isCloseTo(0.2, within(1e-9));
    }

    @Test
    void aLoneReplicaInSlowStartStillGetsEverything() {
        Membership membership = new Membership(new OutlierDetector(3, Duration.ofSeconds(1), Duration.ofSeconds(30),
                0.5), Dispatch.leastOutstanding(), 8, new SlowStart(Duration.ofSeconds(10)));
        Replica only = membership.add(new Endpoint("127.0.0.1", 1), 0);
        for (int i = 0; i < 100; i++) {
            assertThat(membership.pick(0, null)).isSameAs(only);
        }
    }

    @Test
    void onRealServersTheNewcomerIsRampedAndThenGetsItsFullShare() throws Exception {
        Endpoint old = guests.start();
        Endpoint newcomer = guests.start();
        Balancer.Settings settings = new Balancer.Settings(0, 1000, Map.of("low", 0.3, "mid", 0.5, "high", 0.85),
                LoadMode.custom(1), "round-robin", 8, Duration.ofSeconds(1), 3, Duration.ofSeconds(5),
                Duration.ofMillis(100)).withSlowStart(Duration.ofSeconds(3)); // 1000 requests/s
        balancer = Balancer.start(settings, e -> { }, List::of, "balancer@test");
        balancer.addServer(old);
        // the old one past its own window
        await().atMost(Duration.ofSeconds(20)).until(() -> balancer.totals().answered() > 3_200);
        balancer.addServer(newcomer);
        balancer.members(); // the addition has taken effect
        await().atMost(Duration.ofSeconds(5)).until(() -> of(newcomer) != null && of(newcomer).sent() > 0);
        LbStats early = balancer.lastStats();
        // the first second: weight 0.1 to 0.43, so well under half of what the old one gets
        await().atMost(Duration.ofSeconds(5)).until(() -> balancer.lastStats().sent() > early.sent() + 400);
        LbStats second = balancer.lastStats();
        long toNew = of(second, newcomer).sent() - of(early, newcomer).sent();
        long toOld = of(second, old).sent() - of(early, old).sent();
        assertThat(toNew).as("%d to the newcomer, %d to the old one, early in its ramp", toNew, toOld)
                .isLessThan(toOld / 2);
        // after the window: even shares
        await().atMost(Duration.ofSeconds(15)).until(() -> balancer.lastStats() != null
                && of(newcomer).sent() > of(second, newcomer).sent() + 3_000);
        LbStats later = balancer.lastStats();
        await().atMost(Duration.ofSeconds(5)).until(() -> balancer.lastStats().sent() > later.sent() + 500);
        LbStats last = balancer.lastStats();
        long newDelta = of(last, newcomer).sent() - of(later, newcomer).sent();
        long oldDelta = of(last, old).sent() - of(later, old).sent();
        assertThat((double) newDelta).as("%d and %d after the window", newDelta, oldDelta)
                .isCloseTo(oldDelta, within(oldDelta * 0.1 + 2));
    }

    private LbStats.ServerStats of(Endpoint endpoint) {
        return of(balancer.lastStats(), endpoint);
    }

    private static LbStats.ServerStats of(LbStats stats, Endpoint endpoint) {
        return stats == null ? null : stats.servers().get(endpoint.toString());
    }
}
