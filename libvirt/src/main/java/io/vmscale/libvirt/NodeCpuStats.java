package io.vmscale.libvirt;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import java.nio.charset.StandardCharsets;

/**
 * Our own JNA binding of {@code virNodeGetCPUStats}, which libvirt-java 0.5.4 lacks: a host's
 * cumulative CPU times, all CPUs together.
 */
final class NodeCpuStats {
    /** VIR_NODE_CPU_STATS_ALL_CPUS. */
    private static final int ALL_CPUS = -1;
    /** struct _virNodeCPUStats: char field[80]; unsigned long long value. */
    private static final int FIELD_LENGTH = 80;
    private static final int VALUE_OFFSET = 80;
    private static final int RECORD_SIZE = 88;
    /** What Linux reports (kernel, user, idle, iowait) when a driver does not say how many it has. */
    private static final int USUAL_COUNT = 4;

    interface Virt extends Library {
        int virNodeGetCPUStats(Pointer conn, int cpuNum, Pointer params, IntByReference nparams, int flags);

        String virGetLastErrorMessage();
    }

    private static final Virt VIRT = Native.load("virt", Virt.class);

    private NodeCpuStats() {
    }

    /** The host's CPU times. */
    static HostCpuTimes fetch(Pointer connection) throws Failed {
        IntByReference count = new IntByReference(0);
        if (VIRT.virNodeGetCPUStats(connection, ALL_CPUS, null, count, 0) < 0) {
            throw new Failed(VIRT.virGetLastErrorMessage());
        }
        int n = count.getValue() > 0 ? count.getValue() : USUAL_COUNT;
        Memory params = new Memory((long) n * RECORD_SIZE);
        params.clear();
        count.setValue(n);
        if (VIRT.virNodeGetCPUStats(connection, ALL_CPUS, params, count, 0) < 0) {
            throw new Failed(VIRT.virGetLastErrorMessage());
        }
        long kernel = 0;
        long user = 0;
        long idle = 0;
        long iowait = 0;
        for (int i = 0; i < Math.min(n, count.getValue()); i++) {
            long base = (long) i * RECORD_SIZE;
            long value = params.getLong(base + VALUE_OFFSET);
            switch (field(params, base)) {
                case "kernel" -> kernel = value;
                case "user" -> user = value;
                case "idle" -> idle = value;
                case "iowait" -> iowait = value;
                default -> {
                    // intr, utilization: not reported by Linux hosts, not used
                }
            }
        }
        return new HostCpuTimes(kernel, user, idle, iowait);
    }

    private static String field(Pointer params, long base) {
        byte[] bytes = params.getByteArray(base, FIELD_LENGTH);
        int length = 0;
        while (length < FIELD_LENGTH && bytes[length] != 0) {
            length++;
        }
        return new String(bytes, 0, length, StandardCharsets.US_ASCII);
    }

    /** The call failed; the message is libvirt's. */
    static final class Failed extends Exception {
        private static final long serialVersionUID = 1L;

        Failed(String message) {
            super(message == null ? "virNodeGetCPUStats failed" : message, null, false, false);
        }
    }
}
