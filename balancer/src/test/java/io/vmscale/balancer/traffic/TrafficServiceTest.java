package io.vmscale.balancer.traffic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vmscale.broker.event.Endpoint;
import io.vmscale.broker.event.ReplicaState;
import io.vmscale.broker.event.VmLifecycle;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/** The scaler's listing against the events heard while it was on its way: the events win. */
class TrafficServiceTest {
    /** A driver that only remembers what it was last asked to carry. */
    private static final class Remembering implements TrafficDriver {
        volatile Map<String, Target> last = Map.of();

        @Override
        public String name() {
            return "remembering";
        }

        @Override
        public void sync(Map<String, Target> targets, Predicate<String> removable) {
            last = targets;
        }

        @Override
        public Map<String, Seen> seen() {
            return Map.of();
        }
    }

    /** Many times over: the driver thread's order against the caller's is what a race would get wrong. */
    @Test
    void aDrainHeardWhileTheListingWasOnItsWayIsNotUndoneByIt() {
        for (int i = 0; i < 200; i++) {
            drainHeardBeforeAnOlderListing();
        }
    }

    private void drainHeardBeforeAnOlderListing() {
        Remembering driver = new Remembering();
        Endpoint a = new Endpoint("127.0.0.1", 21100);
        try (TrafficService service = new TrafficService(driver, d -> d.startsWith("web-"), e -> { },
                Duration.ofSeconds(60))) {
            service.applyListing(List.of(new VmLifecycle("web-0000", "h", a, ReplicaState.READY, "listed")));
            long asked = service.heardSoFar();
            service.onLifecycle(new VmLifecycle("web-0000", "h", a, ReplicaState.DRAINING, "scale down"));
            // the answer was built before the scaler published DRAINING: it still says READY
            service.applyListing(asked, List.of(new VmLifecycle("web-0000", "h", a, ReplicaState.READY, "listed")));
            await().atMost(Duration.ofSeconds(5)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1)).until(() -> service.targets().get("web-0000") != null
                    && service.targets().get("web-0000").draining());
            assertThat(driver.last.get("web-0000").draining()).isTrue();
        }
    }
}
