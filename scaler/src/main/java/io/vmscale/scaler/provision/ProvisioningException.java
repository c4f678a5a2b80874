package io.vmscale.scaler.provision;

/** A replica could not be provisioned or stopped; the message names the domain and the reason. */
public final class ProvisioningException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ProvisioningException(String message, Throwable cause) {
        super(message, cause);
    }

    public ProvisioningException(String message) {
        super(message);
    }
}
