package io.vmscale.cli.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vmscale.broker.UserConfig;
import io.vmscale.config.ConfigException;
import io.vmscale.libvirt.LibvirtConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigLoaderTest {
    private static final Path SHIPPED = Path.of("..", "conf", "vmscale.json");

    @Test
    void theShippedFileLoadsAndIsTheDefaults() {
        VmscaleConfig shipped = ConfigLoader.load(SHIPPED);
        assertThat(shipped).isEqualTo(ConfigLoader.defaults());
        assertThat(shipped.broker().bind()).isEqualTo("127.0.0.1");
        assertThat(shipped.guest().port()).isEqualTo(21001);
    }

    @Test
    void keysGivenOverrideTheDefaultsAndTheRestStays() {
        VmscaleConfig config = ConfigLoader.parse("mine.json", """
                {"broker": {"port": 61700, "users": [{"name": "m", "password": "12345678", "role": "component"}]}}
                """);
        assertThat(config.broker().port()).isEqualTo(61700);
        assertThat(config.broker().bind()).isEqualTo("127.0.0.1");
        assertThat(config.broker().users()).extracting(UserConfig::name).containsExactly("m");
        assertThat(config.guest()).isEqualTo(ConfigLoader.defaults().guest());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            unknown top-level key | {"brokr": {}}                                | conf.json: unknown key 'brokr' (known keys here: application, balancer, broker, groups, guest, libvirt, monitor, provisioning, scaler, traffic)
            unknown nested key    | {"broker": {"prot": 1}}                      | conf.json: unknown key 'broker.prot' (known keys here: bind, dataDir, haPeer, haRole, insecure, keyStore, maxDiskUsage, port, users)
            string for integer    | {"broker": {"port": "61616"}}                | conf.json: key 'broker.port': expected an integer, got a string ("61616")
            float for integer     | {"guest": {"queue": 10.5}}                   | conf.json: key 'guest.queue': expected an integer, got a number (10.5)
            integer for string    | {"broker": {"bind": 127}}                    | conf.json: key 'broker.bind': expected a string, got an integer (127)
            null for integer      | {"guest": {"port": null}}                    | conf.json: key 'guest.port': expected an integer, got null
            object for list       | {"broker": {"users": {"name": "x"}}}         | conf.json: key 'broker.users': expected a list, got an object ({"name":"x"})
            port too large        | {"broker": {"port": 70000}}                  | conf.json: key 'broker.port': expected an integer from 1 to 65535, got 70000
            disk guard off        | {"broker": {"maxDiskUsage": 0}}              | conf.json: key 'broker.maxDiskUsage': expected an integer from 1 to 100, got 0
            negative workers      | {"guest": {"workers": -1}}                   | conf.json: key 'guest.workers': expected an integer from 0 to 256, got -1
            empty bind            | {"broker": {"bind": ""}}                     | conf.json: key 'broker.bind': expected a non-empty string, got ""
            bad role              | {"broker": {"users": [{"name": "a", "password": "12345678", "role": "admin"}]}} | conf.json: key 'broker.users[0].role': expected one of component, operator, viewer, got "admin"
            short password        | {"broker": {"users": [{"name": "a", "password": "123", "role": "viewer"}]}}      | conf.json: key 'broker.users[0].password': expected at least 8 characters, got 3 characters
            unknown key in a list | {"broker": {"users": [{"name": "a", "pass": "12345678", "role": "viewer"}]}}     | conf.json: unknown key 'broker.users[0].pass' (known keys here: name, password, role)
            no libvirt URI        | {"libvirt": {"uris": []}}                    | conf.json: key 'libvirt.uris': expected a list of at least one libvirt URI, got []
            not a libvirt URI     | {"libvirt": {"uris": ["localhost"]}}         | conf.json: key 'libvirt.uris[0]': expected a libvirt URI such as qemu:///system, got "localhost"
            prefix with a space   | {"libvirt": {"prefix": "my vm"}}             | conf.json: key 'libvirt.prefix': expected letters, digits, '_', '.' or '-' (domains are named PREFIX-NNNN), got "my vm"
            back-off upside down  | {"libvirt": {"reconnectMinMs": 5000, "reconnectMaxMs": 100}} | conf.json: key 'libvirt.reconnectMaxMs': expected an integer from 5000 to 600000, got 100
            interval too short    | {"monitor": {"intervalMs": 10}}              | conf.json: key 'monitor.intervalMs': expected an integer from 100 to 3600000, got 10
            unknown mode          | {"provisioning": {"mode": "clone"}}          | conf.json: key 'provisioning.mode': expected one of template, pool, got "clone"
            string for boolean    | {"provisioning": {"undefineOnScaleDown": "yes"}} | conf.json: key 'provisioning.undefineOnScaleDown': expected true or false, got a string ("yes")
            unknown dispatch      | {"balancer": {"dispatch": "random"}}         | conf.json: key 'balancer.dispatch': expected one of round-robin, least-outstanding, power-of-two, got "random"
            negative load         | {"balancer": {"high": -1}}                   | conf.json: key 'balancer.high': expected from 0 to 1000 replicas' worth, got -1.0
            bad profile mode      | {"balancer": {"profile": [{"mode": "turbo", "seconds": 5}]}} | conf.json: key 'balancer.profile[0].mode': expected off, low, mid, high or "custom R", got "turbo"
            max below min         | {"scaler": {"minReplicas": 3, "maxReplicas": 2}} | conf.json: key 'scaler.maxReplicas': expected an integer from 3 to 1000, got 2
            low above high        | {"scaler": {"thresholdWindow": {"high": 30, "low": 40}}} | conf.json: key 'scaler.thresholdWindow.low': expected 0 <= low < high <= 100, got low 40.0, high 30.0
            monitor of no host    | {"monitor": {"uris": ["qemu:///nowhere"]}} | conf.json: key 'monitor.uris[0]': expected one of libvirt.uris [qemu:///system], got "qemu:///nowhere"
            schedule zone         | {"scaler": {"schedules": [{"name": "day", "cron": "0 8 * * *", "timeZone": "Mars/Olympus", "minReplicas": 2}]}} | conf.json: key 'scaler.schedules[0].timeZone': expected a time zone ID such as Europe/Berlin or UTC, got "Mars/Olympus"
            schedule of nothing   | {"scaler": {"schedules": [{"name": "day", "cron": "0 8 * * *", "timeZone": "UTC"}]}} | conf.json: key 'scaler.schedules[0].desiredReplicas': expected at least one of minReplicas, maxReplicas and desiredReplicas (a schedule that sets nothing), got -1
            window of one sample  | {"scaler": {"thresholdWindow": {"windowSeconds": 1}}} | conf.json: key 'scaler.thresholdWindow.windowSeconds': expected at least two monitor intervals (monitor.intervalMs 1000): 2 or more, got 1
            window under interval | {"monitor": {"intervalMs": 5000}, "scaler": {"targetTracking": {"metricWindowSeconds": 9}, "thresholdWindow": {"windowSeconds": 10}}} | conf.json: key 'scaler.targetTracking.metricWindowSeconds': expected at least two monitor intervals (monitor.intervalMs 5000): 10 or more, got 9
            unknown check         | {"application": {"healthCheck": {"type": "ping"}}} | conf.json: key 'application.healthCheck.type': expected one of udp-wire, tcp, http, got "ping"
            timeout past interval | {"application": {"healthCheck": {"intervalMs": 1000, "timeoutMs": 3000}}} | conf.json: key 'application.healthCheck.timeoutMs': expected an integer from 10 to 1000, got 3000
            bad hook default      | {"application": {"terminationHookDefault": "retry"}} | conf.json: key 'application.terminationHookDefault': expected one of continue, abandon, got "retry"
            warm-up not a path    | {"application": {"protocol": "tcp", "warmUpPath": "work"}} | conf.json: key 'application.warmUpPath': expected "" or an HTTP path starting with /, got "work"
            unknown driver        | {"traffic": {"driver": "nginx"}}             | conf.json: key 'traffic.driver': expected one of builtin, haproxy, exec, got "nginx"
            exec without program  | {"traffic": {"driver": "exec"}}              | conf.json: key 'traffic.exec': expected a non-empty string, got ""
            not an object         | [1, 2]                                       | conf.json: expected a JSON object at the top level
            """)
    void namesTheFileTheKeyAndWhatWasExpected(String name, String json, String message) {
        assertThatThrownBy(() -> ConfigLoader.parse("conf.json", json))
                .isInstanceOf(ConfigException.class)
                .hasMessage(message);
    }

    @Test
    void hostsHaveTheirAddressAndCapacityAndMustBeAmongTheUris() {
        VmscaleConfig config = ConfigLoader.parse("two.json", """
                {"libvirt": {"uris": ["qemu:///system", "qemu+tcp://127.0.0.2:16509/system"],
                             "hosts": [{"uri": "qemu:///system", "address": "", "maxReplicas": 1}]}}
                """);
        assertThat(config.libvirt().host("qemu:///system").address()).isEqualTo("127.0.0.1");
        assertThat(config.libvirt().host("qemu:///system").maxReplicas()).isEqualTo(1);
        assertThat(config.libvirt().host("qemu+tcp://127.0.0.2:16509/system").address()).isEqualTo("127.0.0.2");
        assertThat(config.libvirt().host("qemu+tcp://127.0.0.2:16509/system").maxReplicas()).isEqualTo(-1);
        assertThatThrownBy(() -> ConfigLoader.parse("bad.json", """
                {"libvirt": {"hosts": [{"uri": "qemu+tcp://10.0.0.9/system", "address": "", "maxReplicas": 1}]}}
                """)).hasMessage("bad.json: key 'libvirt.hosts[0].uri': expected one of uris [qemu:///system], got "
                + "\"qemu+tcp://10.0.0.9/system\"");
        assertThatThrownBy(() -> ConfigLoader.parse("bad.json", """
                {"libvirt": {"hosts": [{"uri": "qemu:///system", "address": "host two", "maxReplicas": 1}]}}
                """)).hasMessageContaining("key 'libvirt.hosts[0].address': expected an IP address");
    }

    @Test
    void aGroupIsTheTopLevelWithWhatItGivesOverIt() {
        VmscaleConfig config = ConfigLoader.parse("groups.json", """
                {"scaler": {"minReplicas": 1, "maxReplicas": 3},
                 "groups": [{"libvirt": {"prefix": "web"}, "scaler": {"maxReplicas": 5},
                             "traffic": {"driver": "haproxy", "haproxyBackend": "web"},
                             "application": {"image": "default/web.qcow2", "port": 8080,
                                             "protocol": "tcp"}}]}
                """);
        assertThat(config.all()).extracting(VmscaleConfig::name).containsExactly("vmscale", "web");
        VmscaleConfig web = config.group("web").orElseThrow();
        assertThat(web.scaler().maxReplicas()).isEqualTo(5);
        assertThat(web.scaler().minReplicas()).as("the top level's").isEqualTo(1);
        assertThat(web.scaler().policy()).isEqualTo(config.scaler().policy());
        assertThat(web.application().port()).isEqualTo(8080);
        assertThat(config.application().ownImage()).as("the top level keeps its own").isFalse();
        assertThat(web.groups()).isEmpty();
        assertThat(config.all().get(0).groups()).isEmpty();
        assertThat(config.group("nope")).isEmpty();
    }

    @Test
    void aGroupsMistakeNamesItsKey() {
        assertThatThrownBy(() -> ConfigLoader.parse("g.json", """
                {"groups": [{"libvirt": {"prefix": "web"}, "traffic": {"driver": "exec", "exec": "/bin/true"},
                             "scaler": {"maxReplicas": 0}}]}"""))
                .hasMessageStartingWith("g.json: key 'groups[0].scaler.maxReplicas': expected");
        assertThatThrownBy(() -> ConfigLoader.parse("g.json", """
                {"groups": [{"libvirt": {"prefix": "web"}, "scalr": {}}]}"""))
                .hasMessageStartingWith("g.json: unknown key 'groups[0].scalr'");
        assertThatThrownBy(() -> ConfigLoader.parse("g.json", """
                {"groups": [{"traffic": {"driver": "exec", "exec": "/bin/true"}}]}"""))
                .hasMessageStartingWith("g.json: key 'groups[0].libvirt.prefix': expected a prefix no other group has");
        assertThatThrownBy(() -> ConfigLoader.parse("g.json", """
                {"groups": [{"libvirt": {"prefix": "web"}}]}"""))
                .hasMessageStartingWith("g.json: key 'groups[0].traffic.driver': expected \"haproxy\" or \"exec\"");
        assertThatThrownBy(() -> ConfigLoader.parse("g.json", """
                {"groups": [{"libvirt": {"prefix": "web", "uris": ["test:///default"]},
                             "traffic": {"driver": "exec", "exec": "/bin/true"}}]}"""))
                .hasMessageStartingWith("g.json: key 'groups[0].libvirt': expected only a prefix of its own");
        assertThatThrownBy(() -> ConfigLoader.parse("g.json", """
                {"groups": [{"libvirt": {"prefix": "web"}, "broker": {"port": 61700},
                             "traffic": {"driver": "exec", "exec": "/bin/true"}}]}"""))
                .hasMessageStartingWith("g.json: key 'groups[0].broker': expected nothing: the broker is the deployment's");
        assertThatThrownBy(() -> ConfigLoader.parse("g.json", """
                {"traffic": {"driver": "haproxy"},
                 "groups": [{"libvirt": {"prefix": "web"}}]}"""))
                .hasMessageStartingWith("g.json: key 'groups[0].traffic.haproxyBackend': expected a backend of its own");
        assertThatThrownBy(() -> ConfigLoader.parse("g.json", """
                {"groups": [{"libvirt": {"prefix": "web"}, "groups": []}]}"""))
                .hasMessageStartingWith("g.json: key 'groups[0].groups': groups do not nest");
        assertThatThrownBy(() -> ConfigLoader.parse("g.json", """
                {"groups": ["web"]}"""))
                .hasMessageStartingWith("g.json: key 'groups[0]': expected an object");
    }

    @Test
    void pointsAtTheLineOfAJsonSyntaxError() {
        assertThatThrownBy(() -> ConfigLoader.parse("conf.json", "{\n  \"broker\": {\"port\": 1,}\n}"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("conf.json: not valid JSON at line 2, column");
    }

    @Test
    void saysWhenTheFileIsMissing(@TempDir Path dir) {
        Path missing = dir.resolve("nope.json");
        assertThatThrownBy(() -> ConfigLoader.load(missing)).hasMessage(missing + ": no such file");
    }

    @Test
    void namesTheFileItRead(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("vmscale.json");
        Files.writeString(file, "{\"guest\": {\"port\": 0}}");
        assertThatThrownBy(() -> ConfigLoader.load(file))
                .hasMessage(file + ": key 'guest.port': expected an integer from 1 to 65535, got 0");
    }

    @Test
    void ourDomainsAreThePrefixADashAndDigitsOnly() {
        LibvirtConfig web = ConfigLoader.parse("c.json", "{\"libvirt\": {\"prefix\": \"web\"}}").libvirt();
        assertThat(web.ours("web-0000")).isTrue();
        assertThat(web.ours("web-12")).isTrue();
        assertThat(web.ours("web-prod-0001")).isFalse();
        assertThat(web.ours("web-")).isFalse();
        assertThat(web.ours("web0001")).isFalse();
        assertThat(web.ours("webx-0001")).isFalse();
        assertThat(web.ours("other-0001")).isFalse();
    }

    @Test
    void refusesTwoUsersOfOneName() {
        assertThatThrownBy(() -> ConfigLoader.parse("c.json", """
                {"broker": {"users": [{"name": "a", "password": "12345678", "role": "viewer"},
                                      {"name": "a", "password": "87654321", "role": "operator"}]}}
                """)).hasMessage("c.json: key 'broker.users[1].name': expected a name not used before, got a");
    }
}
