package t3.reconciler.controller.testbed;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * A real etcd cluster of 1 or 3 members on loopback, from Debian's etcd-server binary (found as $ETCD, on the PATH, or
 * where ./test extracts it: .ci/cache/etcd/usr/bin/etcd). No systemd: plain child processes with their data under a
 * temporary directory. A member counts as started when it logs that it serves clients (no polling, no sleeps).
 */
public final class EtcdCluster implements AutoCloseable {
    private static final String READY = "ready to serve client requests";

    private final Path dir;
    private final String binary;
    private final int[] clientPorts;
    private final int[] peerPorts;
    private final Process[] members;
    private final List<String> tlsArgs;

    private EtcdCluster(Path dir, int size, List<String> tlsArgs) throws IOException {
        this.dir = dir;
        this.tlsArgs = tlsArgs;
        Files.createDirectories(dir);
        this.binary = find();
        this.clientPorts = freePorts(size);
        this.peerPorts = freePorts(size);
        this.members = new Process[size];
    }

    public static EtcdCluster start(Path dir, int size) throws IOException, InterruptedException {
        return start(new EtcdCluster(dir, size, List.of()));
    }

    /** One member serving clients over https only, demanding a client certificate signed by {@code ca}. */
    public static EtcdCluster startTls(Path dir, Path cert, Path key, Path ca) throws IOException, InterruptedException {
        return start(new EtcdCluster(dir, 1, List.of("--cert-file", cert.toString(), "--key-file", key.toString(),
                "--client-cert-auth", "--trusted-ca-file", ca.toString())));
    }

    private static EtcdCluster start(EtcdCluster c) throws IOException, InterruptedException {
        int size = c.members.length;
        List<CountDownLatch> ready = new ArrayList<>();
        for (int i = 0; i < size; i++) ready.add(c.launch(i, "new"));
        for (int i = 0; i < size; i++) c.await(i, ready.get(i));
        return c;
    }

    public List<URI> endpoints() {
        return IntStream.range(0, members.length).mapToObj(this::endpoint).toList();
    }

    public URI endpoint(int i) { return URI.create((tlsArgs.isEmpty() ? "http" : "https") + "://127.0.0.1:" + clientPorts[i]); }

    /**
     * A member that does not lead (plain http clusters only): killing it leaves a quorum that needs no election, so
     * what follows does not race one. Asks each member's /v3/maintenance/status for its id and its leader's.
     */
    public int follower() throws IOException, InterruptedException {
        var http = java.net.http.HttpClient.newHttpClient();
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        for (int i = 0; i < members.length; i++) {
            var req = java.net.http.HttpRequest.newBuilder(endpoint(i).resolve("/v3/maintenance/status"))
                    .timeout(java.time.Duration.ofSeconds(5)).POST(java.net.http.HttpRequest.BodyPublishers.ofString("{}")).build();
            var status = json.readTree(http.send(req, java.net.http.HttpResponse.BodyHandlers.ofString()).body());
            String self = status.path("header").path("member_id").asText(), leader = status.path("leader").asText();
            if (!leader.isEmpty() && !leader.equals(self)) return i;
        }
        throw new IllegalStateException("no member reports a leader other than itself");
    }

    /** SIGKILL, as a crashed machine: no goodbye to its peers. */
    public void kill(int i) throws InterruptedException {
        members[i].destroyForcibly();
        members[i].waitFor();
    }

    /** Starts a killed member again on its old data. */
    public void restart(int i) throws IOException, InterruptedException {
        await(i, launch(i, "existing"));
    }

    private CountDownLatch launch(int i, String state) throws IOException {
        String cluster = IntStream.range(0, members.length).mapToObj(j -> "m" + j + "=http://127.0.0.1:" + peerPorts[j]).collect(Collectors.joining(","));
        Path log = dir.resolve("m" + i + ".log");
        ProcessBuilder pb = new ProcessBuilder(binary, "--name", "m" + i, "--data-dir", dir.resolve("m" + i).toString(),
                "--listen-client-urls", endpoint(i).toString(), "--advertise-client-urls", endpoint(i).toString(),
                "--listen-peer-urls", "http://127.0.0.1:" + peerPorts[i], "--initial-advertise-peer-urls", "http://127.0.0.1:" + peerPorts[i],
                "--initial-cluster", cluster, "--initial-cluster-state", state, "--initial-cluster-token", "t3rf-" + dir.getFileName(),
                // Short heartbeats: elections on loopback settle in well under a second, and leases as short as 2s are allowed.
                "--heartbeat-interval", "50", "--election-timeout", "500")
                .redirectErrorStream(true);
        pb.command().addAll(tlsArgs);
        Process p = pb.start();
        members[i] = p;
        CountDownLatch ready = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                 var out = Files.newBufferedWriter(log, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND)) {
                for (String line; (line = r.readLine()) != null; ) {
                    out.write(line);
                    out.newLine();
                    out.flush();
                    if (line.contains(READY)) ready.countDown();
                }
            } catch (IOException e) {
                // A killed member's pipe is closed under the reader (the JDK closes it on destroy): the end of its log. A
                // member that never got ready is reported by await, with its log.
            }
        }, "etcd-m" + i + "-log");
        t.setDaemon(true);
        t.start();
        return ready;
    }

    private void await(int i, CountDownLatch ready) throws InterruptedException, IOException {
        if (!ready.await(60, TimeUnit.SECONDS) || !members[i].isAlive()) {
            throw new IOException("etcd member m" + i + " did not start:\n" + Files.readString(dir.resolve("m" + i + ".log")));
        }
    }

    @Override
    public void close() throws InterruptedException {
        for (Process p : members) if (p != null) p.destroyForcibly();
        for (Process p : members) if (p != null) p.waitFor();
    }

    private static int[] freePorts(int n) throws IOException {
        int[] out = new int[n];
        List<ServerSocket> held = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
                held.add(s);
                out[i] = s.getLocalPort();
            }
        } finally {
            for (ServerSocket s : held) s.close();
        }
        return out;
    }

    public static String find() {
        List<String> candidates = new ArrayList<>();
        if (System.getenv("ETCD") != null) candidates.add(System.getenv("ETCD"));
        for (String p : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!p.isEmpty()) candidates.add(Path.of(p, "etcd").toString());
        }
        for (Path d = Path.of(System.getProperty("user.dir")).toAbsolutePath(); d != null; d = d.getParent()) {
            candidates.add(d.resolve(".ci/cache/etcd/usr/bin/etcd").toString());
        }
        String found = candidates.stream().filter(c -> Files.isExecutable(Path.of(c))).findFirst().orElse(null);
        // Not a JUnit assertion: ./bench fleet runs this outside JUnit.
        if (found == null) throw new IllegalStateException("etcd not found ($ETCD, PATH, .ci/cache/etcd): run ./test, which extracts it from Debian's etcd-server");
        return found;
    }
}
