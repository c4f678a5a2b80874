package io.vmscale.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.LbStats;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.VmLifecycle;
import io.vmscale.guest.GuestServer;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The balancer acknowledges a replica it took out of its membership in {@code lb.stats}
 * ({@link LbStats.ServerStats#removed()}), so that a drain can tell "nothing in flight because it was
 * quiet" from "nothing in flight and nothing more coming". Real guest servers on loopback.
 */
class DrainAcknowledgementTest extends BalancerOnGuests {
    private final List<LbStats> published = new CopyOnWriteArrayList<>();

    private Endpoint guest() throws IOException {
        return guests.start();
    }

    private void start(LoadMode mode, Duration statsInterval) {
        Balancer.Settings settings = new Balancer.Settings(0, 1000, Map.of("low", 0.3, "mid", 0.5, "high", 0.85),
                mode, "round-robin", 8, Duration.ofSeconds(1), 3, Duration.ofSeconds(5), statsInterval);
        balancer = Balancer.start(settings, e -> published.add((LbStats) e), List::of, "balancer@test");
    }

    private void lifecycle(String domain, Endpoint endpoint, ReplicaState state) {
        balancer.onLifecycle(new VmLifecycle(domain, "qemu:///system", endpoint, state, "test"));
    }

    /** The number of stats published so far once what was queued to the balancer has been handled. */
    private int handled() {
        // counted on the balancer's thread (which publishes), after everything queued before it: no stats can
        // slip in between the change being handled and the count
        return balancer.onLoop(published::size);
    }

    /** A copy of the stats published from that index on (a copy-on-write list's sublist cannot be kept). */
    private List<LbStats> publishedSince(int from) {
        List<LbStats> all = List.copyOf(published);
        return all.subList(from, all.size());
    }

    private static LbStats.ServerStats of(LbStats stats, Endpoint endpoint) {
        return stats.servers().get(endpoint.toString());
    }

    @Test
    void aDrainingReplicaIsReportedRemovedFromTheFirstStatsAfterAndGetsNothingMore() throws Exception {
        Endpoint draining = guest();
        Endpoint staying = guest();
        start(LoadMode.custom(0.6), Duration.ofMillis(100)); // 600 requests/s over two replicas
        lifecycle("vmscale-0000", draining, ReplicaState.READY);
        lifecycle("vmscale-0001", staying, ReplicaState.READY);
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            LbStats s = balancer.lastStats();
            return s != null && of(s, draining) != null && of(s, draining).answered() > 50
                    && of(s, staying) != null && of(s, staying).answered() > 50;
        });

        LbStats before = balancer.lastStats(); // built before the balancer can have handled the DRAINING
        lifecycle("vmscale-0000", draining, ReplicaState.DRAINING);
        int after = handled();
        assertThat(balancer.members()).containsExactly(staying);
        assertThat(of(before, draining).removed()).as("stats from before the drain").isFalse();
        assertThat(of(before, staying).removed()).isFalse();

        // reported removed until its last request is over, a few times more, then forgotten
        await().atMost(Duration.ofSeconds(10)).until(() -> publishedSince(after).stream()
                .anyMatch(s -> of(s, draining) == null));
        List<LbStats> since = publishedSince(after);
        int forgotten = 0;
        while (of(since.get(forgotten), draining) != null) {
            forgotten++;
        }
        List<LbStats.ServerStats> reported = since.subList(0, forgotten).stream().map(s -> of(s, draining)).toList();
        assertThat(reported).as("every stats after the drain was handled").isNotEmpty()
                .allSatisfy(s -> assertThat(s.removed()).isTrue());
        long sentWhenRemoved = reported.get(0).sent();
        assertThat(reported).as("nothing sent after the first acknowledgement")
                .allSatisfy(s -> assertThat(s.sent()).isEqualTo(sentWhenRemoved));
        assertThat(reported).filteredOn(s -> s.inFlight() == 0).hasSize(Balancer.REMOVED_IDLE_REPORTS);
        assertThat(reported.get(reported.size() - 1).inFlight()).isZero();
        assertThat(since.subList(forgotten, since.size())).as("once forgotten, not reported again")
                .allSatisfy(s -> assertThat(of(s, draining)).isNull());
        assertThat(since).allSatisfy(s -> assertThat(of(s, staying).removed()).isFalse());

        // the replica itself got exactly what the balancer counted, and nothing after
        GuestServer drainingGuest = guests.get(0);
        await().atMost(Duration.ofSeconds(5)).until(() -> drainingGuest.counters().received() == sentWhenRemoved);
        long stayingSent = of(since.get(since.size() - 1), staying).sent();
        await().atMost(Duration.ofSeconds(10)).until(() -> of(balancer.lastStats(), staying).sent() > stayingSent + 50);
        assertThat(drainingGuest.counters().received()).isEqualTo(sentWhenRemoved);
    }

    @Test
    void theAcknowledgementIsPublishedPromptlyNotAtTheEndOfTheInterval() throws Exception {
        Endpoint draining = guest();
        Endpoint staying = guest();
        start(LoadMode.custom(0.2), Duration.ofSeconds(30));
        lifecycle("vmscale-0000", draining, ReplicaState.READY);
        lifecycle("vmscale-0001", staying, ReplicaState.READY);
        int beforeDrain = handled();
        assertThat(beforeDrain).as("no stats yet, 30 s interval").isZero();

        lifecycle("vmscale-0000", draining, ReplicaState.DRAINING);
        await().atMost(Duration.ofSeconds(5)).until(() -> !published.isEmpty());
        LbStats first = published.get(0);
        assertThat(of(first, draining).removed()).isTrue();
        assertThat(of(first, staying).removed()).isFalse();
        assertThat(first.intervalMs()).isLessThan(Duration.ofSeconds(30).toMillis());
    }

    @Test
    void aReplicaReadyAgainAfterItsDrainIsReportedNotRemoved() throws Exception {
        Endpoint replica = guest();
        start(LoadMode.custom(0.3), Duration.ofSeconds(1)); // the next stats after the acknowledgement are 1 s away
        lifecycle("vmscale-0000", replica, ReplicaState.READY);
        await().atMost(Duration.ofSeconds(10)).until(() -> balancer.totals().answered() > 20);

        lifecycle("vmscale-0000", replica, ReplicaState.DRAINING);
        int drained = handled();
        await().atMost(Duration.ofSeconds(5)).until(() -> publishedSince(drained).stream()
                .anyMatch(s -> of(s, replica) != null && of(s, replica).removed()));
        long sentWhileDrained = of(balancer.lastStats(), replica).sent();

        lifecycle("vmscale-0000", replica, ReplicaState.READY); // while still reported removed
        int back = handled();
        assertThat(balancer.members()).containsExactly(replica);
        await().atMost(Duration.ofSeconds(10)).until(() -> published.size() > back
                && of(published.get(published.size() - 1), replica).sent() > sentWhileDrained + 20);
        assertThat(of(published.get(back), replica).sent()).as("the same replica, its counts carried on")
                .isGreaterThanOrEqualTo(sentWhileDrained);
        assertThat(publishedSince(back))
                .allSatisfy(s -> assertThat(of(s, replica).removed()).as("stats after READY again").isFalse());
    }

    @Test
    void aReplicaReadyAgainAfterItWasForgottenIsReportedNotRemoved() throws Exception {
        Endpoint replica = guest();
        start(LoadMode.OFF, Duration.ofMillis(50));
        lifecycle("vmscale-0000", replica, ReplicaState.READY);
        lifecycle("vmscale-0000", replica, ReplicaState.DRAINING);
        int drained = handled();
        await().atMost(Duration.ofSeconds(5)).until(() -> published.size() > drained
                && of(published.get(published.size() - 1), replica) == null);
        assertThat(publishedSince(drained)).filteredOn(s -> of(s, replica) != null)
                .hasSize(Balancer.REMOVED_IDLE_REPORTS)
                .allSatisfy(s -> assertThat(of(s, replica).removed()).isTrue());

        lifecycle("vmscale-0000", replica, ReplicaState.READY);
        int back = handled();
        await().atMost(Duration.ofSeconds(5)).until(() -> published.size() > back);
        assertThat(of(published.get(back), replica).removed()).isFalse();
    }
}
