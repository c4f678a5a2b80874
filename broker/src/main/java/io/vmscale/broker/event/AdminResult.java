package io.vmscale.broker.event;

import java.util.Map;

/**
 * {@code admin.result}: the answer to an {@link AdminCommand}.
 *
 * @param requestId the command's request id
 * @param responder the component that answered ({@code balancer@host})
 * @param ok        true when the command was carried out
 * @param message   what happened, or what is wrong with the command
 * @param data      structured detail (a status listing, the new settings), possibly empty
 */
public record AdminResult(String requestId, String responder, boolean ok, String message, Map<String, Object> data)
        implements Event {
    public AdminResult {
        Fields.text("requestId", requestId);
        Fields.text("responder", responder);
        Fields.text("message", message);
        data = Fields.map("data", data);
    }
}
