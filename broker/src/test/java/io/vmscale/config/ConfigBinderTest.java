package io.vmscale.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The strict binding on a root record of its own (the whole vmscale.json is ConfigLoaderTest's, in ops-cli). */
class ConfigBinderTest {
    /** A root record with one section, as a component's module would declare it. */
    public record Pond(String name, Fish fish) {
    }

    /** A section whose record checks its own values. */
    public record Fish(int count, String kind) {
        public Fish {
            InvalidValueException.range("count", count, 0, 10);
            InvalidValueException.oneOf("kind", kind, java.util.List.of("carp", "perch"));
        }
    }

    private final ConfigBinder<Pond> ponds = new ConfigBinder<>(Pond.class, "pond.json");

    @Test
    void readsTheDefaultsBesideTheRootRecord() {
        assertThat(ponds.defaults()).isEqualTo(new Pond("mill pond", new Fish(3, "carp")));
    }

    @Test
    void keysGivenOverrideTheDefaultsAndTheRestStays() {
        assertThat(ponds.parse("mine.json", "{\"fish\": {\"kind\": \"perch\"}}"))
                .isEqualTo(new Pond("mill pond", new Fish(3, "perch")));
    }

    @Test
    void namesTheFileTheKeyAndWhatWasExpected() {
        assertThatThrownBy(() -> ponds.parse("p.json", "{\"fish\": {\"cuont\": 1}}"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("p.json: unknown key 'fish.cuont' (known keys here: count, kind)");
        assertThatThrownBy(() -> ponds.parse("p.json", "{\"fish\": {\"count\": 11}}"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("p.json: key 'fish.count': expected an integer from 0 to 10, got 11");
        assertThatThrownBy(() -> ponds.parse("p.json", "{\"name\": 7}"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("p.json: key 'name': expected a string, got an integer (7)");
    }

    @Test
    void aMissingDefaultsResourceIsABuildMistake() {
        assertThatThrownBy(() -> new ConfigBinder<>(Pond.class, "nowhere.json").defaults())
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("missing resource nowhere.json");
    }
}
