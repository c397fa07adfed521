package t3.reconciler.controller.actuator.health;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The TCP ports a process (or one of its descendants) listens on, read from {@code /proc}: socket inodes from
 * {@code /proc/PID/fd} matched against LISTEN rows of {@code /proc/PID/net/tcp{,6}} (the process's own network
 * namespace). Where a user's server listens is whatever it decided; we do not need to be told.
 */
final class ListeningSockets {
    private static final String LISTEN = "0A";
    private static final boolean LITTLE_ENDIAN = java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN;

    /** @param address where it listens; a wildcard is turned into the loopback of its family by {@link #base()} */
    record Endpoint(InetAddress address, int port) {
        URI base() {
            InetAddress a = address;
            if (a.isAnyLocalAddress()) a = a.getAddress().length == 4 ? InetAddress.getLoopbackAddress() : loopback6();
            String host = a.getAddress().length == 16 ? "[" + a.getHostAddress() + "]" : a.getHostAddress();
            return URI.create("http://" + host + ":" + port + "/");
        }
    }

    private ListeningSockets() {}

    /**
     * The inode of the IPv4 socket that {@code pid}'s tree listens on at {@code 127.0.0.1:port} (or the IPv4 wildcard,
     * which takes loopback connections too): proof that what answers there is that tree and not a squatter.
     */
    static Optional<String> ownListener(long pid, int port) {
        Set<String> inodes = treeInodes(pid);
        Path f = Path.of("/proc", Long.toString(pid), "net", "tcp");
        try (Stream<String> lines = Files.lines(f)) {
            return lines.skip(1).map(String::strip).map(l -> l.split("\\s+")).filter(c -> c.length > 9)
                    .filter(c -> LISTEN.equals(c[3]) && inodes.contains(c[9]))
                    .filter(c -> {
                        Endpoint e = endpoint(c[1]);
                        return e.port() == port && (e.address().isLoopbackAddress() || e.address().isAnyLocalAddress());
                    })
                    .map(c -> c[9]).findFirst();
        } catch (IOException | java.io.UncheckedIOException e) {
            return Optional.empty(); // the process is gone
        }
    }

    private static Set<String> treeInodes(long pid) {
        Set<String> inodes = new HashSet<>(socketInodes(pid));
        ProcessHandle.of(pid).ifPresent(h -> h.descendants().forEach(d -> inodes.addAll(socketInodes(d.pid()))));
        return inodes;
    }

    static List<Endpoint> of(long pid) throws IOException {
        Set<String> inodes = new HashSet<>();
        List<Long> pids = new ArrayList<>();
        pids.add(pid);
        ProcessHandle.of(pid).ifPresent(h -> h.descendants().forEach(d -> pids.add(d.pid())));
        for (long p : pids) inodes.addAll(socketInodes(p));
        List<Endpoint> out = new ArrayList<>();
        for (String table : List.of("tcp", "tcp6")) {
            Path f = Path.of("/proc", Long.toString(pid), "net", table);
            if (!Files.isReadable(f)) continue;
            try (Stream<String> lines = Files.lines(f)) {
                lines.skip(1).map(String::strip).map(l -> l.split("\\s+")).filter(c -> c.length > 9)
                        .filter(c -> LISTEN.equals(c[3]) && inodes.contains(c[9]))
                        .forEach(c -> out.add(endpoint(c[1])));
            } catch (IOException e) {
                // the process went away while we read: it listens on nothing
            }
        }
        out.sort(Comparator.comparingInt(Endpoint::port));
        return out.stream().distinct().toList();
    }

    private static Set<String> socketInodes(long pid) {
        Set<String> out = new HashSet<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : fds) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) out.add(target.substring(8, target.length() - 1));
                } catch (IOException e) {
                    // fd closed meanwhile
                }
            }
        } catch (IOException e) {
            // gone, or not ours to read
        }
        return out;
    }

    /** {@code 0100007F:1F90}: the address as the kernel prints its 32-bit words (native byte order), the port in hex. */
    static Endpoint endpoint(String local) {
        String[] parts = local.split(":");
        String hex = parts[0];
        byte[] addr = new byte[hex.length() / 2];
        for (int word = 0; word < addr.length / 4; word++) {
            for (int b = 0; b < 4; b++) {
                int at = word * 8 + (LITTLE_ENDIAN ? 3 - b : b) * 2;
                addr[word * 4 + b] = (byte) Integer.parseInt(hex.substring(at, at + 2), 16);
            }
        }
        try {
            return new Endpoint(InetAddress.getByAddress(addr), Integer.parseInt(parts[1], 16));
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("bad address " + local, e);
        }
    }

    private static InetAddress loopback6() {
        try {
            return InetAddress.getByName("::1");
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
