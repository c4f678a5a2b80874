package io.vmscale.libvirt;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.libvirt.LibvirtException;
import org.libvirt.StoragePool;
import org.libvirt.StorageVol;
import org.libvirt.Stream;

/**
 * The storage-volume calls on one {@link HostConnection}: a replica's copy-on-write overlay of a base image, a small
 * volume uploaded from memory (a cloud-init seed), their removal, a pool's listing. Only libvirt's storage API: no
 * qemu-img, no file written beside libvirt's back. Thread-safe.
 */
public final class Volumes {
    private final HostConnection connection;

    Volumes(HostConnection connection) {
        this.connection = connection;
    }

    /** A volume: its path on the host, its size, its format ({@code qcow2}, {@code raw}, ...). */
    public record Volume(String name, String path, long capacity, String format) {
    }

    /**
     * A persistent directory pool of that name on {@code path}, started and set to start with libvirtd: defined when
     * missing, started when stopped. Returns whether it had to be defined.
     */
    public boolean ensurePool(String pool, java.nio.file.Path path) {
        return connection.call("ensure storage pool " + pool, c -> {
            StoragePool p;
            boolean defined = false;
            try {
                p = c.storagePoolLookupByName(pool);
            } catch (LibvirtException e) {
                if (!HostConnection.is(e, "VIR_ERR_NO_STORAGE_POOL")) {
                    throw e;
                }
                p = c.storagePoolDefineXML("<pool type='dir'><name>" + escape(pool) + "</name><target><path>"
                        + escape(path.toString()) + "</path></target></pool>", 0);
                defined = true;
            }
            if (p.isActive() == 0) {
                p.create(0);
            }
            p.setAutostart(1);
            p.refresh(0);
            return defined;
        });
    }

    /** The volume of that name in the pool, or empty (the pool is refreshed first: a file put there counts). */
    public Optional<Volume> find(String pool, String name) {
        return connection.call("look up volume " + pool + "/" + name, c -> {
            StoragePool p = pool(c, pool);
            p.refresh(0);
            try {
                return Optional.of(describe(p.storageVolLookupByName(name), name));
            } catch (LibvirtException e) {
                if (HostConnection.is(e, "VIR_ERR_NO_STORAGE_VOL")) {
                    return Optional.empty();
                }
                throw e;
            }
        });
    }

    /** The names of the pool's volumes. */
    public List<String> names(String pool) {
        return connection.call("list volumes of " + pool, c -> {
            StoragePool p = pool(c, pool);
            p.refresh(0);
            return Arrays.asList(p.listVolumes());
        });
    }

    /**
     * Creates {@code name} in the pool, a qcow2 overlay whose backing store is the base volume (which is never
     * written to), as large as the base; returns it.
     */
    public Volume createOverlay(String pool, String base, String name) {
        return connection.call("create overlay " + pool + "/" + name + " of " + base, c -> {
            StoragePool p = pool(c, pool);
            Volume b;
            try {
                b = describe(p.storageVolLookupByName(base), base);
            } catch (LibvirtException e) {
                if (HostConnection.is(e, "VIR_ERR_NO_STORAGE_VOL")) {
                    throw new LibvirtFailure(connection.uri() + ": no base image '" + base + "' in the storage pool '"
                            + pool + "'");
                }
                throw e;
            }
            String xml = "<volume><name>" + escape(name) + "</name><capacity unit='bytes'>" + b.capacity()
                    + "</capacity><target><format type='qcow2'/></target><backingStore><path>" + escape(b.path())
                    + "</path><format type='" + escape(b.format()) + "'/></backingStore></volume>";
            return describe(p.storageVolCreateXML(xml, 0), name);
        });
    }

    /** Creates a raw volume {@code name} in the pool holding exactly {@code content}, uploaded through a stream. */
    public Volume upload(String pool, String name, byte[] content) {
        return connection.call("upload " + pool + "/" + name, c -> {
            StoragePool p = pool(c, pool);
            StorageVol volume = p.storageVolCreateXML("<volume><name>" + escape(name) + "</name><capacity unit='bytes'>"
                    + content.length + "</capacity><target><format type='raw'/></target></volume>", 0);
            try {
                Stream stream = c.streamNew(0);
                try {
                    volume.upload(stream, 0, content.length, 0);
                    int sent = 0;
                    while (sent < content.length) {
                        int n = stream.send(Arrays.copyOfRange(content, sent, Math.min(content.length, sent + 65536)));
                        if (n <= 0) {
                            throw new IllegalStateException("the upload stream took nothing at byte " + sent);
                        }
                        sent += n;
                    }
                    stream.finish();
                } catch (LibvirtException | RuntimeException e) {
                    stream.abort();
                    throw e;
                } finally {
                    stream.free();
                }
            } catch (LibvirtException | RuntimeException e) {
                volume.delete(0);
                throw e;
            }
            return describe(volume, name);
        });
    }

    /** Deletes the volume; one that does not exist is not an error. Returns whether there was one. */
    public boolean delete(String pool, String name) {
        return connection.call("delete volume " + pool + "/" + name, c -> {
            StoragePool p = pool(c, pool);
            try {
                p.storageVolLookupByName(name).delete(0);
                return true;
            } catch (LibvirtException e) {
                if (HostConnection.is(e, "VIR_ERR_NO_STORAGE_VOL")) {
                    return false;
                }
                throw e;
            }
        });
    }

    private StoragePool pool(org.libvirt.Connect c, String pool) throws LibvirtException {
        try {
            return c.storagePoolLookupByName(pool);
        } catch (LibvirtException e) {
            if (HostConnection.is(e, "VIR_ERR_NO_STORAGE_POOL")) {
                throw new LibvirtFailure(connection.uri() + ": no storage pool '" + pool
                        + "' (virsh pool-list --all lists them)");
            }
            throw e;
        }
    }

    private static Volume describe(StorageVol volume, String name) throws LibvirtException {
        String xml = volume.getXMLDesc(0);
        int at = xml.indexOf("<target>");
        String target = at < 0 ? xml : xml.substring(at);
        java.util.regex.Matcher format = java.util.regex.Pattern.compile("<format type='([^']+)'").matcher(target);
        return new Volume(name, volume.getPath(), volume.getInfo().capacity, format.find() ? format.group(1) : "raw");
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&apos;");
    }
}
