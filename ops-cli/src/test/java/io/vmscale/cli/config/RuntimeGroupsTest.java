package io.vmscale.cli.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Groups made at run time from a spec, and what is kept of them laid over the file. */
class RuntimeGroupsTest {
    private static final String FILE = """
            {"libvirt": {"prefix": "udp"}, "scaler": {"maxReplicas": 4},
             "groups": [{"libvirt": {"prefix": "api"}, "traffic": {"driver": "exec", "exec": "/bin/true"}}]}""";
    private static final String WEB = """
            {"scaler": {"minReplicas": 2, "maxReplicas": 6}, "traffic": {"driver": "exec", "exec": "/bin/true"}}""";

    @Test
    void aSpecIsTheGroupsElementOverTheTopLevelCheckedWithTheOthers() {
        VmscaleConfig file = ConfigLoader.parse("f.json", FILE);
        VmscaleConfig c = RuntimeGroups.with(file, "web", WEB);
        assertThat(c.all()).extracting(VmscaleConfig::name).containsExactly("udp", "api", "web");
        VmscaleConfig web = c.group("web").orElseThrow();
        assertThat(web.scaler().minReplicas()).isEqualTo(2);
        assertThat(web.scaler().maxReplicas()).isEqualTo(6);
        assertThat(web.scaler().policy()).isEqualTo(file.scaler().policy());
        // the file's groups are as they were
        assertThat(c.group("api")).contains(file.group("api").orElseThrow());
        assertThat(c.all().get(0)).isEqualTo(file.all().get(0));

        assertThatThrownBy(() -> RuntimeGroups.with(file, "web", "{\"scaler\": {\"maxReplicas\": 0}, "
                + "\"traffic\": {\"driver\": \"exec\", \"exec\": \"/bin/true\"}}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("group web's spec: key 'scaler.maxReplicas': expected");
        assertThatThrownBy(() -> RuntimeGroups.with(file, "web", "{\"scalr\": {}}"))
                .hasMessageStartingWith("group web's spec: unknown key 'scalr'");
        assertThatThrownBy(() -> RuntimeGroups.with(file, "web", "{}"))
                .hasMessageStartingWith("group web's spec: key 'traffic.driver': expected \"haproxy\" or \"exec\"");
        assertThatThrownBy(() -> RuntimeGroups.with(file, "api", WEB))
                .hasMessageStartingWith("group api's spec: key 'libvirt.prefix': expected a prefix no other group has");
        assertThatThrownBy(() -> RuntimeGroups.with(file, "web", "{\"libvirt\": {\"prefix\": \"www\"}}"))
                .hasMessage("group web's spec: key 'libvirt.prefix': expected the group's name web (or nothing), got \"www\"");
        assertThatThrownBy(() -> RuntimeGroups.with(file, "web", "[1]"))
                .hasMessage("group web's spec: expected a JSON object (an element of the configuration's groups), got ARRAY");
        assertThatThrownBy(() -> RuntimeGroups.with(file, "web", "{\"scaler\": "))
                .hasMessageStartingWith("group web's spec: not valid JSON");
        assertThatThrownBy(() -> RuntimeGroups.with(file, "bad name", WEB))
                .hasMessageStartingWith("group bad name's spec: key 'libvirt.prefix': expected letters, digits");
    }

    @Test
    void aChangeIsAMergePatchOverTheGroupsElementWithoutTheDeploymentsSections() {
        VmscaleConfig file = ConfigLoader.parse("f.json", FILE);
        VmscaleConfig api = file.group("api").orElseThrow();
        String spec = RuntimeGroups.patched(api, "api", "{\"scaler\": {\"maxReplicas\": 6, \"policy\": null}, "
                + "\"traffic\": {\"exec\": \"/bin/false\"}}");
        assertThat(spec).doesNotContain("\"broker\"").doesNotContain("password").doesNotContain("\"monitor\"")
                .contains("\"libvirt\":{\"prefix\":\"api\"}");
        VmscaleConfig c = RuntimeGroups.replaced(file, "api", spec);
        VmscaleConfig after = c.group("api").orElseThrow();
        assertThat(after.scaler().maxReplicas()).isEqualTo(6);
        assertThat(after.scaler().policy()).as("removed by null: the top level's").isEqualTo(file.scaler().policy());
        assertThat(after.traffic().exec()).isEqualTo("/bin/false");
        assertThat(RuntimeGroups.differences(api, after)).containsExactly("scaler.maxReplicas", "traffic.exec");
        assertThat(RuntimeGroups.differences(api, api)).isEmpty();
        assertThat(c.all()).extracting(VmscaleConfig::name).containsExactly("udp", "api");

        assertThatThrownBy(() -> RuntimeGroups.replaced(file, "api", RuntimeGroups.patched(api, "api",
                "{\"scaler\": {\"maxReplicas\": 0}}")))
                .hasMessageStartingWith("group api's spec: key 'scaler.maxReplicas': expected");
        assertThatThrownBy(() -> RuntimeGroups.patched(api, "api", "[1]"))
                .hasMessage("group api's change: expected a JSON object (the keys to change, as in the group's element), "
                        + "got ARRAY");
        assertThatThrownBy(() -> RuntimeGroups.patched(api, "api", "{"))
                .hasMessageStartingWith("group api's change: not valid JSON");
        assertThatThrownBy(() -> RuntimeGroups.replaced(file, "api", RuntimeGroups.patched(api, "api",
                "{\"libvirt\": {\"prefix\": \"udp\"}}")))
                .hasMessage("group api's spec: key 'libvirt.prefix': expected the group's name api (or nothing), got \"udp\"");
    }

    @Test
    void aFileGroupChangedAtRunTimeStaysChangedUntilTheFileChangesIt() {
        VmscaleConfig file = ConfigLoader.parse("f.json", FILE);
        RuntimeGroups kept = new RuntimeGroups();
        String spec = RuntimeGroups.patched(file.group("api").orElseThrow(), "api", "{\"scaler\": {\"maxReplicas\": 7}}");
        kept.changed("api", spec, file);
        List<String> said = new ArrayList<>();
        VmscaleConfig c = RuntimeGroups.fromJson(kept.toJson()).orElseThrow().over(file, said::add);
        assertThat(c.group("api").orElseThrow().scaler().maxReplicas()).isEqualTo(7);
        assertThat(said).containsExactly("group api: changed at run time, taken back");

        VmscaleConfig edited = ConfigLoader.parse("f.json", FILE.replace("\"/bin/true\"", "\"/bin/echo\""));
        said.clear();
        assertThat(RuntimeGroups.fromJson(kept.toJson()).orElseThrow().over(edited, said::add)).isEqualTo(edited);
        assertThat(said).containsExactly("group api: changed at run time, but the file changed it since: the file's wins");

        // a group made at run time and then changed comes back as changed
        kept.created("web", WEB);
        VmscaleConfig withWeb = RuntimeGroups.with(file, "web", WEB);
        kept.changed("web", RuntimeGroups.patched(withWeb.group("web").orElseThrow(), "web",
                "{\"scaler\": {\"minReplicas\": 3}}"), file);
        VmscaleConfig back = RuntimeGroups.fromJson(kept.toJson()).orElseThrow().over(file, s -> { });
        assertThat(back.group("web").orElseThrow().scaler().minReplicas()).isEqualTo(3);
        assertThat(back.group("web").orElseThrow().scaler().maxReplicas()).isEqualTo(6);
        // deleted: nothing of the change is left
        kept.deleted("api", file);
        assertThat(kept.toJson()).doesNotContain("\"api\":{\"spec\"");
    }

    @Test
    void whatWasKeptIsLaidOverTheFileAndTheFileWinsWhereItChangedSince() {
        VmscaleConfig file = ConfigLoader.parse("f.json", FILE);
        RuntimeGroups kept = new RuntimeGroups();
        kept.created("web", WEB);
        kept.deleted("api", file);
        RuntimeGroups back = RuntimeGroups.fromJson(kept.toJson()).orElseThrow();
        List<String> said = new ArrayList<>();
        VmscaleConfig c = back.over(file, said::add);
        assertThat(c.all()).extracting(VmscaleConfig::name).containsExactly("udp", "web");
        assertThat(said).containsExactly("group api: deleted at run time, left out",
                "group web: created at run time, taken back");

        // the file changed api since it was deleted, and now has a group web of its own
        VmscaleConfig changed = ConfigLoader.parse("f.json", """
                {"libvirt": {"prefix": "udp"}, "scaler": {"maxReplicas": 4},
                 "groups": [{"libvirt": {"prefix": "api"}, "scaler": {"maxReplicas": 2},
                             "traffic": {"driver": "exec", "exec": "/bin/true"}},
                            {"libvirt": {"prefix": "web"}, "traffic": {"driver": "exec", "exec": "/bin/false"}}]}""");
        said.clear();
        VmscaleConfig d = back.over(changed, said::add);
        assertThat(d).isEqualTo(changed);
        assertThat(said).containsExactly("group api: deleted at run time, but the file changed it since: the file's wins",
                "group web: created at run time, but the file has a group of that name now: the file's wins");

        // created, then deleted: nothing is kept of it
        kept.deleted("web", file);
        assertThat(RuntimeGroups.fromJson(kept.toJson()).orElseThrow().over(file, s -> { }).all())
                .extracting(VmscaleConfig::name).containsExactly("udp");
        assertThat(RuntimeGroups.fromJson("not json")).isEmpty();
    }
}
