package io.vmscale.scaler.provision;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A cloud-init NoCloud seed: an ISO 9660 image labelled {@code cidata} holding {@code meta-data} (instance-id and
 * hostname: the replica's domain name) and {@code user-data} (the operator's file, as-is), which the guest's
 * cloud-init finds on its read-only CD-ROM. Written here, in memory, and uploaded through libvirt's storage API:
 * no genisoimage on the host, no file beside libvirt's back. Plain ISO 9660 with one directory, as little as a
 * seed needs (Linux reads the names as written).
 */
public final class CloudInitSeed {
    static final int SECTOR = 2048;
    /** The label cloud-init's NoCloud looks for. */
    static final String LABEL = "cidata";

    private CloudInitSeed() {
    }

    /** The meta-data of a replica: its instance-id and hostname are its domain's name. */
    public static String metaData(String domain) {
        return "instance-id: " + domain + "\nlocal-hostname: " + domain + "\n";
    }

    /** The seed image of one replica. */
    public static byte[] iso(String userData, String metaData) {
        Map<String, byte[]> files = new LinkedHashMap<>(); // sorted by name, as a directory must be
        files.put("meta-data", metaData.getBytes(StandardCharsets.UTF_8));
        files.put("user-data", userData.getBytes(StandardCharsets.UTF_8));
        int root = 20; // 16 empty, the volume descriptor, the terminator, the two path tables, then the directory
        int next = root + 1;
        Map<String, Integer> extents = new LinkedHashMap<>();
        for (Map.Entry<String, byte[]> file : files.entrySet()) {
            extents.put(file.getKey(), next);
            next += Math.max(1, sectors(file.getValue().length));
        }
        int total = next;
        ByteBuffer image = ByteBuffer.allocate(total * SECTOR);
        byte[] date = recordingDate();

        // the directory: ".", "..", then the files
        ByteBuffer dir = ByteBuffer.allocate(SECTOR);
        record(dir, root, SECTOR, true, new byte[] {0}, date);
        record(dir, root, SECTOR, true, new byte[] {1}, date);
        for (Map.Entry<String, byte[]> file : files.entrySet()) {
            record(dir, extents.get(file.getKey()), file.getValue().length, false,
                    file.getKey().getBytes(StandardCharsets.US_ASCII), date);
        }
        image.position(root * SECTOR).put(dir.array());
        for (Map.Entry<String, byte[]> file : files.entrySet()) {
            image.position(extents.get(file.getKey()) * SECTOR).put(file.getValue());
        }

        // the primary volume descriptor
        ByteBuffer pvd = ByteBuffer.allocate(SECTOR);
        pvd.put((byte) 1).put("CD001".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        pvd.put(padded("LINUX", 32)).put(padded(LABEL, 32)).put(new byte[8]);
        both32(pvd, total);
        pvd.put(new byte[32]);
        both16(pvd, 1); // volume set size
        both16(pvd, 1); // volume sequence number
        both16(pvd, SECTOR);
        both32(pvd, 10); // path table size: the root's entry
        pvd.order(ByteOrder.LITTLE_ENDIAN).putInt(18).putInt(0);
        pvd.order(ByteOrder.BIG_ENDIAN).putInt(19).putInt(0);
        ByteBuffer rootRecord = ByteBuffer.allocate(34);
        record(rootRecord, root, SECTOR, true, new byte[] {0}, date);
        pvd.put(rootRecord.array());
        pvd.put(padded("", 128)).put(padded("", 128)).put(padded("", 128)).put(padded("VMSCALE", 128));
        pvd.put(padded("", 37)).put(padded("", 37)).put(padded("", 37));
        byte[] stamp = volumeDate();
        byte[] never = "0000000000000000\0".getBytes(StandardCharsets.US_ASCII);
        pvd.put(stamp).put(stamp).put(never).put(stamp);
        pvd.put((byte) 1);
        image.position(16 * SECTOR).put(pvd.array());

        // the set terminator
        ByteBuffer end = ByteBuffer.allocate(SECTOR);
        end.put((byte) 255).put("CD001".getBytes(StandardCharsets.US_ASCII)).put((byte) 1);
        image.position(17 * SECTOR).put(end.array());

        // the path tables: the root alone, little-endian then big-endian
        image.position(18 * SECTOR);
        image.put((byte) 1).put((byte) 0).order(ByteOrder.LITTLE_ENDIAN).putInt(root).putShort((short) 1)
                .put((byte) 0).put((byte) 0);
        image.position(19 * SECTOR);
        image.put((byte) 1).put((byte) 0).order(ByteOrder.BIG_ENDIAN).putInt(root).putShort((short) 1)
                .put((byte) 0).put((byte) 0);
        return image.array();
    }

    private static int sectors(int bytes) {
        return (bytes + SECTOR - 1) / SECTOR;
    }

    /** One directory record at the buffer's position. */
    private static void record(ByteBuffer dir, int extent, int length, boolean directory, byte[] name, byte[] date) {
        int size = 33 + name.length + (name.length % 2 == 0 ? 1 : 0);
        dir.put((byte) size).put((byte) 0);
        both32(dir, extent);
        both32(dir, length);
        dir.put(date).put((byte) (directory ? 2 : 0)).put((byte) 0).put((byte) 0);
        both16(dir, 1);
        dir.put((byte) name.length).put(name);
        if (name.length % 2 == 0) {
            dir.put((byte) 0);
        }
    }

    private static void both16(ByteBuffer b, int value) {
        b.order(ByteOrder.LITTLE_ENDIAN).putShort((short) value).order(ByteOrder.BIG_ENDIAN).putShort((short) value);
    }

    private static void both32(ByteBuffer b, int value) {
        b.order(ByteOrder.LITTLE_ENDIAN).putInt(value).order(ByteOrder.BIG_ENDIAN).putInt(value);
    }

    private static byte[] padded(String text, int length) {
        byte[] out = new byte[length];
        java.util.Arrays.fill(out, (byte) ' ');
        byte[] in = text.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(in, 0, out, 0, Math.min(length, in.length));
        return out;
    }

    private static byte[] recordingDate() {
        ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
        return new byte[] {(byte) (now.getYear() - 1900), (byte) now.getMonthValue(), (byte) now.getDayOfMonth(),
                (byte) now.getHour(), (byte) now.getMinute(), (byte) now.getSecond(), 0};
    }

    private static byte[] volumeDate() {
        ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
        String digits = String.format(java.util.Locale.ROOT, "%04d%02d%02d%02d%02d%02d00", now.getYear(),
                now.getMonthValue(), now.getDayOfMonth(), now.getHour(), now.getMinute(), now.getSecond());
        byte[] out = new byte[17];
        System.arraycopy(digits.getBytes(StandardCharsets.US_ASCII), 0, out, 0, 16);
        return out;
    }
}
