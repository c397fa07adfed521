package t3.reconciler.controller.security;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import t3.reconciler.controller.e2e.DaemonProcess;

/**
 * The desired-state file and the users file steer root. At start the controller refuses them unless only root may
 * write them; before this fix a hot reload did not look again, so an operator's slip (the file left group-writable,
 * group of a local user) let that user rewrite root's orders on a running daemon: unfreeze it, point install.npm at
 * their own program. Now every reload re-checks, a refused edit leaves the last valid state in force, and the bytes
 * read while the file was writable are not taken even after the operator locks it again.
 */
class HotReloadTrustIT {
    static final String ATTACKER = "t3sl-mallory";
    static final Duration WAIT = Duration.ofSeconds(90);

    @TempDir Path tmp;

    @BeforeAll
    static void attacker() throws Exception {
        Hostile.requireRoot();
        Hostile.ensureUser(ATTACKER);
    }

    static Predicate<JsonNode> spec(String outcome) {
        return DaemonProcess.ev("desired-state").and(n -> n.path("outcome").asText().equals(outcome));
    }

    @Test
    void anEditMadeWhileOthersCouldWriteTheFilesIsRefusedAndTheLastValidStateStays() throws Exception {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x")); // the attacker may walk to the files
        Path base = Files.createDirectories(tmp.resolve("etc"));
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path state = Files.createDirectories(tmp.resolve("state"));
        Path users = Files.writeString(base.resolve("users.map"), "alice@example.org=t3sl-alice\n");
        Path evil = tmp.resolve("evil-npm");
        Path victim = Files.write(tmp.resolve("victim"), "root-only: do not leak\n".getBytes());
        Files.setPosixFilePermissions(victim, PosixFilePermissions.fromString("rw-------"));
        byte[] victimBefore = Files.readAllBytes(victim);
        String valid = "freeze: true\nusers: [t3sl-alice]\nusersFile: " + users + "\nschedule: {resync: 10m}\ncontroller:\n  stateDb: " + state.resolve("state.db")
                + "\n  freezeFile: " + state.resolve("freeze") + "\n  pidFile: " + state.resolve("pid") + "\n  metrics: off\n  bus: \"unix:path=" + state.resolve("no-bus") + "\"\n";
        Path spec = Files.writeString(base.resolve("desired-state.yaml"), valid);

        try (DaemonProcess d = DaemonProcess.start(spec, Map.of())) {
            d.await(0, DaemonProcess.ev("started"), WAIT, "the daemon starts");
            d.await(0, DaemonProcess.ev("reconciled"), WAIT, "the first pass ends");

            // The operator's slip: the file left writable by the attacker's group.
            Files.setAttribute(spec, "unix:gid", Hostile.gid(ATTACKER));
            Files.setPosixFilePermissions(spec, PosixFilePermissions.fromString("rw-rw-r--"));
            int mark = d.mark();
            String hostile = valid.replace("freeze: true", "freeze: false\ninstall: {npm: " + evil + "}").replace("resync: 10m", "resync: 1m")
                    .replace("freezeFile: " + state.resolve("freeze"), "freezeFile: " + victim);
            Hostile.Result wrote = Hostile.run(Hostile.as(ATTACKER, List.of("sh", "-c", "printf '%s' \"$1\" > \"$2\"", "sh", hostile, spec.toString())));
            assertTrue(wrote.ok(), "the attacker can write the file (that is the slip): " + wrote.output());
            JsonNode refused = d.await(mark, spec("refused"), WAIT, "the hot reload refuses the attacker's edit");
            assertTrue(refused.path("errors").asText().contains(spec.toString()) && refused.path("errors").asText().contains("writable by group"),
                    "names the file and why: " + refused);
            d.signal("HUP");
            int at = d.awaitIndex(mark, DaemonProcess.ev("reconcile").and(n -> n.path("trigger").asText().contains("SIGHUP")), WAIT, "the daemon stays responsive");
            d.await(at, DaemonProcess.ev("reconciled"), WAIT, "that pass ends");
            assertFalse(d.since(mark).stream().anyMatch(spec("applied")), "nothing of the attacker's edit applied:\n" + d.tail());

            // Locked again, the attacker's bytes are still the attacker's: not taken until the operator writes the file.
            mark = d.mark();
            Files.setAttribute(spec, "unix:gid", 0);
            Files.setPosixFilePermissions(spec, PosixFilePermissions.fromString("rw-r--r--"));
            d.signal("HUP");
            at = d.awaitIndex(mark, DaemonProcess.ev("reconcile").and(n -> n.path("trigger").asText().contains("SIGHUP")), WAIT, "a pass after the lock");
            d.await(at, DaemonProcess.ev("reconciled"), WAIT, "that pass ends");
            JsonNode still = d.await(mark, spec("refused"), WAIT, "the attacker's bytes stay refused");
            assertTrue(still.path("errors").asText().contains("write it again"), still.toString());
            assertFalse(d.since(mark).stream().anyMatch(spec("applied")), "the attacker's bytes are never applied:\n" + d.tail());

            // The users file: same slip, same refusal.
            mark = d.mark();
            Path fresh = base.resolve(".desired-state.yaml.new");
            Files.writeString(fresh, valid.replace("resync: 10m", "resync: 9m"));
            Files.move(fresh, spec, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            d.await(mark, spec("applied"), WAIT, "the operator's own write applies");
            mark = d.mark();
            Files.setAttribute(users, "unix:gid", Hostile.gid(ATTACKER));
            Files.setPosixFilePermissions(users, PosixFilePermissions.fromString("rw-rw-r--"));
            wrote = Hostile.run(Hostile.as(ATTACKER, List.of("sh", "-c", "printf 'alice@example.org=t3sl-alice\\nmallory@example.org=root\\n' > \"$1\"", "sh", users.toString())));
            assertTrue(wrote.ok(), wrote.output());
            JsonNode usersRefused = d.await(mark, spec("refused"), WAIT, "the users file edit is refused");
            assertTrue(usersRefused.path("errors").asText().contains(users.toString()), usersRefused.toString());
            assertFalse(d.since(mark).stream().anyMatch(spec("applied")), "nothing applied:\n" + d.tail());
            assertTrue(ProcessHandle.of(d.pid()).map(ProcessHandle::isAlive).orElse(false), "the daemon runs on");
        }
        assertFalse(Files.exists(evil), "the attacker's npm never ran");
        assertArrayEquals(victimBefore, Files.readAllBytes(victim), "the root-only file is byte-identical");
    }
}
