package io.vmscale.cli;

import io.vmscale.cli.demo.DemoRealVmTest;
import org.junit.platform.suite.api.SelectClasses;
import org.junit.platform.suite.api.Suite;

/**
 * The tests that boot real VMs on qemu:///system, one after the other in one JVM: surefire runs this suite in one
 * of ops-cli's two forks (it is first in alphabetical order, so it starts at once) while every other test runs in the
 * second. Software emulation keeps about one core busy per booting guest, so two of these at once would only slow
 * each other; the other tests fit on the second core meanwhile. They run in the order listed: the HTTP example's
 * test last, once the second fork is done, because its Debian guests boot on all the CPU they get (it took 392 s
 * instead of 262 s beside the other tests).
 * {@link RealVmSuiteTest} fails when a {@code *RealVmTest} is missing here (surefire skips them otherwise).
 */
@Suite
@SelectClasses({AutoscalingRealVmTest.class, WarmPoolRealVmTest.class, TwoHostsRealVmTest.class,
        DemoRealVmTest.class, StandbyScalerRealVmTest.class, HttpAppRealVmTest.class})
class AllRealVmTests {
}
