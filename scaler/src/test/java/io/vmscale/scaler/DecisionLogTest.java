package io.vmscale.scaler;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmscale.broker.event.Event;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.broker.event.ScaleDecision;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What the scaler says: a repeated HOLD only as a heartbeat, the last decisions kept once per run of HOLDs. */
class DecisionLogTest {
    private static final Instant T0 = Instant.parse("2026-12-03T10:00:00Z");
    private static final ScalerConfig CONFIG = new ScalerConfig("threshold-window", 1, 3, 10, 1000, 60, 10, -1, 0,
            new ScalerConfig.ThresholdWindowConfig(75, 40, 5), new ScalerConfig.TargetTrackingConfig(50, 0.1, 10, 30, 2, 1),
            ScalerConfig.WarmPoolConfig.NONE);

    private Instant now = T0;
    private final Clock clock = new Clock() {
        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    };
    private final Loop loop = new Loop(CONFIG, new Scaler.Settings(Duration.ofSeconds(1), Duration.ofSeconds(5),
            Duration.ofSeconds(5), SampleWindow.HISTORY), clock);
    private final List<Event> published = new ArrayList<>();
    private final DecisionLog decisions = new DecisionLog(loop, published::add, "qemu:///system");

    @AfterEach
    void close() {
        loop.close();
    }

    private static ScaleDecision hold(String code, int replicas) {
        return new ScaleDecision(ScaleAction.HOLD, replicas, replicas, "threshold-window", code, code + " now",
                Map.of(), null);
    }

    @Test
    void aHoldLikeTheLastOneGoesOutAgainOnlyAsAHeartbeat() {
        decisions.publish(hold("WithinBand", 1));
        now = T0.plus(DecisionLog.HOLD_HEARTBEAT).minusSeconds(1);
        decisions.publish(hold("WithinBand", 1));
        assertThat(published).hasSize(1);
        decisions.publish(hold("WithinBand", 2));
        assertThat(published).as("other counts: news").hasSize(2);
        now = now.plus(DecisionLog.HOLD_HEARTBEAT);
        decisions.publish(hold("WithinBand", 2));
        assertThat(published).as("the heartbeat").hasSize(3);
        decisions.publish(new ScaleDecision(ScaleAction.UP, 2, 3, "threshold-window", "AboveHighThreshold", "high",
                Map.of(), null));
        decisions.publish(new ScaleDecision(ScaleAction.UP, 2, 3, "threshold-window", "AboveHighThreshold", "high",
                Map.of(), null));
        assertThat(published).as("an action is never held back").hasSize(5);
    }

    @Test
    void keepsTheLastDecisionsWithARunOfLikeHoldsOnce() {
        for (int i = 0; i < 3; i++) {
            now = now.plus(DecisionLog.HOLD_HEARTBEAT);
            decisions.publish(hold("WithinBand", 1));
        }
        assertThat(published).hasSize(3);
        assertThat(decisions.recent()).singleElement().satisfies(d -> assertThat(d.get("reasonCode")).isEqualTo("WithinBand"));
        for (int i = 0; i < DecisionLog.KEPT + 5; i++) {
            decisions.publish(hold(i % 2 == 0 ? "CoolingDown" : "WithinBand", 1));
        }
        assertThat(decisions.recent()).hasSize(DecisionLog.KEPT);
    }

    @Test
    void theReconcilersReplaceCountsOneMoreAndSaysWhereItComesFrom() {
        decisions.say(ScaleAction.REPLACE, "ReplicaFailed", "vmscale-0001 gone from libvirt: replacing it", "vmscale-0001");
        ScaleDecision replace = (ScaleDecision) published.get(0);
        assertThat(replace.policy()).isEqualTo(ScaleDecision.RECONCILER);
        assertThat(replace.toReplicas()).isEqualTo(replace.fromReplicas() + 1);
        assertThat(replace.reason()).as("no warm pool: no note").endsWith("replacing it");
    }

    @Test
    void backOffDoublesUpToAMinute() {
        assertThat(List.of(1, 2, 3, 4, 7, 8, 20)).extracting(ActionLane::backOff).extracting(Duration::toSeconds)
                .containsExactly(1L, 2L, 4L, 8L, 60L, 60L, 60L);
    }
}
