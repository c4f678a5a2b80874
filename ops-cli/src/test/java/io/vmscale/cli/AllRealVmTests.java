package io.vmscale.cli;

import io.vmscale.cli.demo.DemoRealVmTest;
import org.junit.platform.suite.api.SelectClasses;
import org.junit.platform.suite.api.Suite;

/**
 * The tests that boot real VMs on qemu:///system, one after the other in one JVM: surefire runs this suite in one
 * of ops-cli's two forks (it is first in alphabetical order, so it starts at once) while every other test runs in the
 * second. Software emulation keeps about one core busy per booting guest, so two of these at once would only slow
 * each other; the other tests fit on the second core meanwhile. They run in the order listed. The HTTP example's
 * test comes first, beside the other fork: its deadlines are minutes, and it took 392 s there instead of 262 s alone.
 * The tests with tight bounds (a destroyed replica out of the balancer within a second, a saved replica serving in
 * under 5 s) come after it, once the other fork is done: the other way round a restore took 5.0 s instead of 1.5 s.
 * {@link RealVmSuiteTest} fails when a {@code *RealVmTest} is missing here (surefire skips them otherwise).
 */
@Suite
@SelectClasses({HttpAppRealVmTest.class, AutoscalingRealVmTest.class, WarmPoolRealVmTest.class,
        TwoHostsRealVmTest.class, DemoRealVmTest.class, StandbyScalerRealVmTest.class})
class AllRealVmTests {
}
