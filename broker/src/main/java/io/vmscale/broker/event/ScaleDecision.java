package io.vmscale.broker.event;

import java.util.Map;

/**
 * {@code scale.decision}: what the scaler decided and why; published for every decision, HOLD included.
 *
 * @param action       UP, DOWN, REPLACE or HOLD
 * @param fromReplicas replicas counted before the decision
 * @param toReplicas   replicas wanted after it
 * @param policy       the policy that decided (threshold-window, target-tracking, operator, ...)
 * @param reasonCode   machine-readable reason, such as {@code AboveHighThreshold} or {@code CoolingDown}
 * @param reason       the reason in a sentence, for operators
 * @param inputs       the figures the policy saw (mean CPU, window length, ...)
 * @param domain       the domain acted on, or null when the decision names none
 * @param group        the group decided for (its {@code libvirt.prefix}); empty when not said (an earlier release, a
 *                     policy's own result before the scaler publishes it)
 */
public record ScaleDecision(ScaleAction action, int fromReplicas, int toReplicas, String policy, String reasonCode,
                            String reason, Map<String, Double> inputs, String domain, String group) implements Event {
    /** The policy name of decisions an operator asked for ({@code scale N}, {@code migrate}). */
    public static final String OPERATOR = "operator";
    /** The policy name of the scaler's reconciler's own decisions (REPLACE, and HOLDs such as ActionFailed). */
    public static final String RECONCILER = "reconciler";

    /** A decision naming no group. */
    public ScaleDecision(ScaleAction action, int fromReplicas, int toReplicas, String policy, String reasonCode,
                         String reason, Map<String, Double> inputs, String domain) {
        this(action, fromReplicas, toReplicas, policy, reasonCode, reason, inputs, domain, "");
    }

    public ScaleDecision {
        group = group == null ? "" : group;
        Fields.present("action", action);
        if (fromReplicas < 0 || toReplicas < 0) {
            throw new IllegalArgumentException("replica counts must be >= 0, got " + fromReplicas + " -> " + toReplicas);
        }
        Fields.text("policy", policy);
        Fields.text("reasonCode", reasonCode);
        Fields.text("reason", reason);
        inputs = Fields.map("inputs", inputs);
    }

    /** The same decision, for {@code name}. */
    public ScaleDecision forGroup(String name) {
        return new ScaleDecision(action, fromReplicas, toReplicas, policy, reasonCode, reason, inputs, domain, name);
    }
}
