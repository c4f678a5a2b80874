package io.vmscale.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import io.vmscale.broker.event.ReplicaState;
import io.vmscale.libvirt.DomainLifecycle;
import io.vmscale.libvirt.DomainState;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LifecycleStatesTest {
    @ParameterizedTest(name = "{0} listed: {1}")
    @CsvSource({
            "RUNNING, RUNNING",
            "BLOCKED, RUNNING",
            "SHUTDOWN, STOPPING",
            "PAUSED, PAUSED",
            "PMSUSPENDED, FAILED",
            "CRASHED, FAILED",
            "SHUTOFF, STOPPED",
            "NOSTATE, STOPPED"})
    void aListedDomainIsWhatItsLastCallbackWouldHaveSaid(DomainState state, ReplicaState replica) {
        assertThat(LifecycleStates.listed(state)).isEqualTo(replica);
    }

    @ParameterizedTest(name = "{0} {1}: {2}")
    @CsvSource({
            "STARTED, BOOTED, RUNNING",
            "SUSPENDED, PAUSED, PAUSED",
            "RESUMED, UNPAUSED, RUNNING",
            "STOPPED, SAVED, STOPPED",
            "SHUTDOWN, FINISHED, STOPPING",
            "STOPPED, DESTROYED, STOPPED",
            "STOPPED, CRASHED, FAILED"})
    void aListingAgreesWithTheCallbacks(String event, String detail, ReplicaState replica) {
        assertThat(LifecycleStates.state(new DomainLifecycle("test:///default", "d", event, detail)))
                .isEqualTo(replica);
    }
}
