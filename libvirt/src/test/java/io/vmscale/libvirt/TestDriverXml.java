package io.vmscale.libvirt;

/** Domain XML for libvirt's test driver. */
public final class TestDriverXml {
    private TestDriverXml() {
    }

    public static String domain(String name) {
        return "<domain type='test'><name>" + name + "</name><memory unit='MiB'>64</memory><vcpu>2</vcpu>"
                + "<os><type>hvm</type></os></domain>";
    }
}
