package io.vmscale.cli;

import io.vmscale.cli.demo.DemoRealVmTest;
import org.junit.platform.suite.api.SelectClasses;
import org.junit.platform.suite.api.Suite;

/**
 * The tests that boot real VMs on qemu:///system, one after the other in one JVM: surefire runs this suite in one
 * of ops-cli's two forks (it is first in alphabetical order, so it starts at once) while every other test runs in the
 * second. Software emulation keeps about one core busy per booting guest, so two of these at once would only slow
 * each other; the other tests fit on the second core meanwhile.
 * {@link RealVmSuiteTest} fails when a {@code *RealVmTest} is missing here (surefire skips them otherwise).
 */
@Suite
@SelectClasses({HttpAppRealVmTest.class, AutoscalingRealVmTest.class, WarmPoolRealVmTest.class,
        TwoHostsRealVmTest.class, DemoRealVmTest.class, StandbyScalerRealVmTest.class})
class AllRealVmTests {
}
