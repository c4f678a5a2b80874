package io.vmscale.config;

/** The whole configuration: one section per component. */
public record VmscaleConfig(BrokerConfig broker, GuestConfig guest) {
    public VmscaleConfig {
        if (broker == null || guest == null) {
            throw new InvalidValueException(broker == null ? "broker" : "guest", "an object", "null");
        }
    }
}
