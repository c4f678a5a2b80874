package io.vmscale.libvirt;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The smallest real QEMU domains there are, for tests and benchmarks: 16 MiB, one vCPU, and a
 * 512-byte boot sector as the only disk. No kernel, no image to build: the BIOS loads the sector
 * and runs it. {@link Program#SPIN} keeps the vCPU at 100 % ({@code jmp $}); {@link Program#HALT}
 * stops it with interrupts off ({@code cli; hlt}), about 0 %.
 */
public final class TinyDomains {
    public enum Program {
        SPIN(new byte[] {(byte) 0xEB, (byte) 0xFE}),
        HALT(new byte[] {(byte) 0xFA, (byte) 0xF4, (byte) 0xEB, (byte) 0xFD});

        private final byte[] code;

        Program(byte[] code) {
            this.code = code;
        }
    }

    private TinyDomains() {
    }

    /** Writes the boot sector, readable by the QEMU user (its directory must be traversable too). */
    public static void writeBootSector(Path image, Program program) throws IOException {
        byte[] sector = new byte[512];
        System.arraycopy(program.code, 0, sector, 0, program.code.length);
        sector[510] = 0x55;
        sector[511] = (byte) 0xAA;
        Files.write(image, sector);
        Files.setPosixFilePermissions(image, PosixFilePermissions.fromString("rw-r--r--"));
    }

    /** Domain XML for software emulation booting that sector. */
    public static String xml(String name, Path image) {
        return """
                <domain type='qemu'>
                  <name>%s</name>
                  <memory unit='MiB'>16</memory>
                  <vcpu>1</vcpu>
                  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
                  <devices>
                    <disk type='file' device='disk'><driver name='qemu' type='raw'/>
                      <source file='%s'/><target dev='hda' bus='ide'/></disk>
                    <memballoon model='none'/>
                  </devices>
                </domain>
                """.formatted(name, image);
    }
}
