package io.vmscale.cli.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StatusViewTest {

    @Test
    void theWarmPoolIsShownApartFromTheServingReplicasAndSaysWhyItIsNotRefilled() {
        Map<String, Object> serving = new LinkedHashMap<>();
        serving.put("domain", "vmscale-0000");
        serving.put("state", "READY");
        serving.put("cpu", 42.0);
        serving.put("endpoint", "127.0.0.1:21100");
        serving.put("warm", true);
        serving.put("check", "failing 1 of 3: connection refused (0 ms)");
        Map<String, Object> parked = new LinkedHashMap<>();
        parked.put("domain", "vmscale-0001");
        parked.put("state", "POOLED");
        parked.put("cpu", 3.0); // its last reading before it was paused: not shown as load
        parked.put("endpoint", "127.0.0.1:21101");
        parked.put("power", "PAUSED");
        Map<String, Object> pool = new LinkedHashMap<>();
        pool.put("size", 2);
        pool.put("tier", "paused");
        pool.put("target", 2);
        pool.put("ready", 1);
        pool.put("warming", 0);
        pool.put("held", "qemu:///system runs 2 vCPU(s) on 2 CPU(s)");
        Map<String, Object> scaler = new LinkedHashMap<>();
        scaler.put("policy", "threshold-window");
        scaler.put("minReplicas", 1);
        scaler.put("maxReplicas", 3);
        scaler.put("warmPool", pool);
        String text = new StatusView(List.of(serving, parked), List.of(), Map.of(), scaler, Map.of(), List.of()).text();
        assertThat(text).contains("vmscale-0000     READY       42.0  127.0.0.1:21100  check failing 1 of 3: connection refused (0 ms)\n")
                .contains("vmscale-0001     POOLED         -  127.0.0.1:21101  (warm pool, paused)\n")
                .contains("warm pool: 1 of 2 paused ready, not refilled: qemu:///system runs 2 vCPU(s) on 2 CPU(s)\n");
    }

    @Test
    void withSeveralHostsEachReplicaNamesItsHostAndEachHostItsFiguresOrWhyItIsAway() {
        Map<String, Object> replica = new LinkedHashMap<>();
        replica.put("domain", "vmscale-0001");
        replica.put("host", "qemu+tcp://127.0.0.2:16509/system");
        replica.put("state", "READY");
        replica.put("cpu", 55.0);
        replica.put("endpoint", "127.0.0.2:21101");
        Map<String, Object> one = new LinkedHashMap<>();
        one.put("uri", "qemu:///system");
        one.put("address", "127.0.0.1");
        one.put("reachable", true);
        one.put("maxReplicas", 1);
        one.put("replicas", List.of());
        one.put("cpu", 0.0);
        one.put("room", 1);
        one.put("cpus", 2);
        one.put("activeVcpus", 0);
        one.put("freeMemoryMiB", 20000);
        Map<String, Object> two = new LinkedHashMap<>();
        two.put("uri", "qemu+tcp://127.0.0.2:16509/system");
        two.put("reachable", false);
        two.put("maxReplicas", -1);
        two.put("replicas", List.of("vmscale-0001"));
        two.put("error", "not connected (reconnecting)");
        two.put("unreachableSeconds", 7);
        String text = new StatusView(List.of(replica), List.of(), Map.of(), Map.of("policy", "threshold-window"),
                Map.of(), List.of(one, two)).text();
        assertThat(text).contains("vmscale-0001     READY       55.0  127.0.0.2:21101       qemu+tcp://127.0.0.2:16509/system\n")
                .contains("host qemu:///system: 0/1 replica(s), CPU 0 %, room for 1 more; 0 vCPU(s) on 2 CPU(s), "
                        + "20000 MiB free, replicas answer on 127.0.0.1\n")
                .contains("host qemu+tcp://127.0.0.2:16509/system: UNREACHABLE for 7 s (not connected (reconnecting)), "
                        + "1 replica(s) [vmscale-0001]\n");
    }

    @Test
    void aDeletionThatWaitsForAHostSaysWhyOnItsGroupsLine() {
        Map<String, Object> web = new LinkedHashMap<>();
        web.put("name", "web");
        web.put("ready", 0);
        web.put("replicas", 1);
        web.put("minReplicas", 0);
        web.put("maxReplicas", 3);
        web.put("policy", "threshold-window");
        web.put("image", "");
        web.put("deleting", true);
        web.put("deletionWaits", "qemu+tcp://h2/system has not answered for 95 s (1 replica(s) of the group there when "
                + "last seen)");
        Map<String, Object> going = new LinkedHashMap<>(web);
        going.put("name", "api");
        going.put("deletionWaits", null);
        assertThat(StatusView.groups(List.of(web, going)))
                .contains("the built-in guest  BEING DELETED (waits: qemu+tcp://h2/system has not answered for 95 s (1 "
                        + "replica(s) of the group there when last seen))\n")
                .contains("the built-in guest  BEING DELETED\n");
    }
}
