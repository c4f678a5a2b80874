package io.vmscale.libvirt;

/** A libvirt call failed; the message names the host, the operation, the domain and libvirt's reason. */
public final class LibvirtFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LibvirtFailure(String message, Throwable cause) {
        super(message, cause);
    }

    public LibvirtFailure(String message) {
        super(message);
    }
}
