package io.vmscale.balancer;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The networks an operator may add replicas from, as CIDR blocks ({@code 127.0.0.0/8},
 * {@code ::1/128}): the balancer sends load to whatever it is given, so {@code add} of any other
 * address is refused, and the generator cannot be turned on a host that is not a replica.
 */
final class Networks {
    /** Loopback, and libvirt's default network. */
    static final List<String> DEFAULT = List.of("127.0.0.0/8", "::1/128", "192.168.122.0/24");
    private static final Pattern LITERAL = Pattern.compile("[0-9A-Fa-f:.]+");

    private record Block(byte[] prefix, int bits, String text) {
        boolean contains(byte[] address) {
            if (address.length != prefix.length) {
                return false;
            }
            int full = bits / 8;
            for (int i = 0; i < full; i++) {
                if (address[i] != prefix[i]) {
                    return false;
                }
            }
            int rest = bits % 8;
            if (rest == 0) {
                return true;
            }
            int mask = (0xFF << (8 - rest)) & 0xFF;
            return (address[full] & mask) == (prefix[full] & mask);
        }
    }

    private final List<Block> blocks;

    private Networks(List<Block> blocks) {
        this.blocks = blocks;
    }

    /**
     * Parses CIDR blocks; an address without {@code /bits} is one host.
     *
     * @throws IllegalArgumentException naming the entry that is not a CIDR block
     */
    static Networks parse(List<String> cidrs) {
        List<Block> blocks = new ArrayList<>();
        for (String cidr : cidrs) {
            if (cidr == null) {
                throw new IllegalArgumentException("allowed networks: null entry");
            }
            String[] parts = cidr.strip().split("/", -1);
            byte[] address = literal(parts[0]);
            int max = address == null ? 0 : address.length * 8;
            int bits;
            try {
                bits = parts.length == 1 ? max : parts.length == 2 ? Integer.parseInt(parts[1]) : -1;
            } catch (NumberFormatException e) {
                bits = -1;
            }
            if (address == null || bits < 0 || bits > max) {
                throw new IllegalArgumentException("allowed networks: '" + cidr + "' is not a CIDR block such as "
                        + "10.0.0.0/8 or fd00::/8");
            }
            blocks.add(new Block(address, bits, cidr.strip()));
        }
        return new Networks(List.copyOf(blocks));
    }

    /** Whether an IP literal is inside one of the blocks (false for anything that is not a literal). */
    boolean contains(String ip) {
        byte[] address = literal(ip);
        if (address == null) {
            return false;
        }
        for (Block block : blocks) {
            if (block.contains(address)) {
                return true;
            }
        }
        return false;
    }

    /** The blocks as given, for messages. */
    @Override
    public String toString() {
        return String.join(", ", blocks.stream().map(Block::text).toList());
    }

    /** The bytes of an IP literal; never a DNS lookup. */
    private static byte[] literal(String ip) {
        if (ip == null || ip.isEmpty() || !LITERAL.matcher(ip).matches()
                || (ip.indexOf(':') < 0 && !AdminSyntax.validIp(ip))) {
            return null;
        }
        try {
            return InetAddress.getByName(ip).getAddress(); // a literal (checked above): no lookup
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
