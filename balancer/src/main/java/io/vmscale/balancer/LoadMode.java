package io.vmscale.balancer;

/**
 * How much load the generator offers, in replicas' worth: {@code 0.3} is 30 % of what one
 * replica can serve, {@code 2.5} two and a half replicas. The original commands {@code low},
 * {@code mid} and {@code high} are such fractions from the configuration; {@code custom R} gives
 * R directly; {@code off} sends nothing.
 */
public record LoadMode(String name, double replicas) {
    public LoadMode {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a load mode needs a name");
        }
        if (!Double.isFinite(replicas) || replicas < 0 || replicas > 1000) {
            throw new IllegalArgumentException("load must be a number from 0 to 1000 replicas' worth, got " + replicas);
        }
    }

    public static final LoadMode OFF = new LoadMode("off", 0);

    public static LoadMode custom(double replicas) {
        return new LoadMode("custom " + replicas, replicas);
    }

    @Override
    public String toString() {
        return name;
    }
}
