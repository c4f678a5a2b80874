package io.vmscale.cli.common;

/** vmscale's version: {@code vmscale --version} and the {@code vmscale_build_info} metric say it. */
public final class Version {
    public static final String NUMBER = "0.1.0";

    private Version() {
    }
}
