package io.vmscale.scaler;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.ScaleAction;
import io.vmscale.scaler.policy.Limits;
import io.vmscale.scaler.policy.ReplicaView;
import io.vmscale.scaler.policy.Sample;
import io.vmscale.scaler.policy.TargetTracking;
import io.vmscale.scaler.policy.ThresholdWindow;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The policy's memory shared by the live scaler and the simulation: kept for its history, forgotten per replica. */
class SampleWindowTest {
    private static final Instant T0 = Instant.parse("2026-12-03T10:00:00Z");
    private static final Limits LIMITS = new Limits(1, 4, Duration.ZERO);
    private static final List<ReplicaView> ONE_WARM = List.of(new ReplicaView("r-0", ReplicaState.READY, T0.minusSeconds(60)));

    @Test
    void samplesOlderThanTheHistoryAreDropped() {
        Decider decider = new Decider(new ThresholdWindow(75, 40, Duration.ofSeconds(5), LIMITS), Duration.ZERO);
        SampleWindow window = new SampleWindow(Duration.ofSeconds(10));
        for (int s = 0; s <= 20; s++) {
            window.add(new Sample("r-0", T0.plusSeconds(s), 90));
        }
        assertThat(window.decide(decider, ONE_WARM, T0.plusSeconds(20), null, null).action()).isEqualTo(ScaleAction.UP);
        window.trim(T0.plusSeconds(40));
        assertThat(window.decide(decider, ONE_WARM, T0.plusSeconds(40), null, null).action())
                .as("nothing left within the history: no figure to act on").isEqualTo(ScaleAction.HOLD);
    }

    @Test
    void samplesAreKeptForThePoliciesWindowsNotTheWholeHistory() {
        Decider decider = new Decider(new ThresholdWindow(75, 40, Duration.ofSeconds(15), LIMITS), Duration.ZERO);
        SampleWindow window = new SampleWindow(SampleWindow.HISTORY);
        window.policyWindows(Duration.ofSeconds(15));
        for (int s = 0; s <= 300; s++) {
            window.add(new Sample("r-0", T0.plusSeconds(s), 90));
            window.trim(T0.plusSeconds(s));
        }
        // 15 s of window and a minute of margin, of the five minutes of samples: a thousand replicas keep 76,000
        assertThat(window.size()).isEqualTo(15 + 60 + 1);
        assertThat(window.decide(decider, ONE_WARM, T0.plusSeconds(300), null, null).action()).isEqualTo(ScaleAction.UP);
    }

    @Test
    void aForgottenReplicasSamplesAreNoLongerLoad() {
        Decider decider = new Decider(new ThresholdWindow(75, 40, Duration.ofSeconds(5), LIMITS), Duration.ZERO);
        SampleWindow window = new SampleWindow(SampleWindow.HISTORY);
        for (int s = 0; s <= 10; s++) {
            window.add(new Sample("r-0", T0.plusSeconds(s), 90));
        }
        window.forget("r-0");
        assertThat(window.decide(decider, ONE_WARM, T0.plusSeconds(10), null, null).action()).isEqualTo(ScaleAction.HOLD);
    }

    @Test
    void targetTrackingsRecommendationsAreRememberedForItsStabilisation() {
        TargetTracking policy = new TargetTracking(50, 0.1, Duration.ofSeconds(5), Duration.ofSeconds(30), 2, 1, LIMITS);
        Decider decider = new Decider(policy, Duration.ZERO);
        List<ReplicaView> two = List.of(new ReplicaView("r-0", ReplicaState.READY, T0.minusSeconds(60)),
                new ReplicaView("r-1", ReplicaState.READY, T0.minusSeconds(60)));
        SampleWindow window = new SampleWindow(SampleWindow.HISTORY);
        for (int s = 0; s <= 10; s++) {
            window.add(new Sample("r-0", T0.plusSeconds(s), 90));
            window.add(new Sample("r-1", T0.plusSeconds(s), 90));
        }
        window.decide(decider, two, T0.plusSeconds(10), null, null); // recommends 4 (2 x 90 / 50)
        for (int s = 11; s <= 20; s++) {
            window.add(new Sample("r-0", T0.plusSeconds(s), 10));
            window.add(new Sample("r-1", T0.plusSeconds(s), 10));
        }
        assertThat(window.decide(decider, two, T0.plusSeconds(20), null, null).action())
                .as("the high recommendation of 10 s ago holds a scale-in back").isNotEqualTo(ScaleAction.DOWN);
        SampleWindow fresh = new SampleWindow(SampleWindow.HISTORY);
        for (int s = 11; s <= 20; s++) {
            fresh.add(new Sample("r-0", T0.plusSeconds(s), 10));
            fresh.add(new Sample("r-1", T0.plusSeconds(s), 10));
        }
        assertThat(fresh.decide(decider, two, T0.plusSeconds(20), null, null).action())
                .as("without it: down").isEqualTo(ScaleAction.DOWN);
    }
}
