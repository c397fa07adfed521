package t3.reconciler.controller.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import t3.reconciler.controller.testbed.CapturedCli;

/**
 * A scoped package ({@code package: "@corp/t3"}) whose binary is {@code t3}: npm links it at {@code <prefix>/bin/t3}.
 * Before, {@code run} wired the package name where the binary's belongs, switched the link to
 * {@code versions/<v>/bin/@corp/t3}, which does not exist, and the bump failed. Proven end to end: stand-ins published
 * under the scoped name, a real bump on the bed.
 */
class ScopedPackageIT {
    static final String SCOPED = "@corp/t3";
    static final String USER = "t3sl-scoped";
    static final String BASE = "0.0.25-nightly.20260601.1", NEXT = "0.0.25-nightly.20260605.1";
    static Bed bed;

    @BeforeAll
    static void up() throws Exception {
        bed = Bed.fresh(USER);
        publishScoped(BASE, "latest");
        publishScoped(NEXT, "nightly");
        String spec = Files.readString(bed.spec);
        assertTrue(spec.contains("package: t3\n"), spec);
        Files.writeString(bed.spec, spec.replace("package: t3\n", "package: \"" + SCOPED + "\"\n"));
    }

    @AfterAll
    static void down() throws Exception {
        if (bed != null) bed.close();
    }

    @Test
    void aScopedPackageIsBumpedAndItsUsersRunTheNewBuild() throws Exception {
        CapturedCli r = CapturedCli.run("run", "--once", "-f", bed.spec.toString());
        assertEquals(0, r.code(), "converged:\n" + r.out() + r.err());
        Path target = Files.readSymbolicLink(bed.link());
        assertEquals(bed.dir.resolve("versions").resolve(NEXT).resolve("bin/t3").toRealPath(), target.toRealPath(),
                "the link names the binary, bin/t3, not bin/" + SCOPED);
        CapturedCli status = CapturedCli.run("status", "--json", "--no-registry", "-f", bed.spec.toString());
        assertEquals(0, status.code(), status.err());
        var users = DaemonProcess.JSON.readTree(status.out()).path("users");
        assertTrue(users.toString().contains(NEXT), USER + " runs " + NEXT + ":\n" + status.out());
    }

    /** bed.sh publish, with the stand-in renamed to the scoped package. */
    static void publishScoped(String version, String tag) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Bed.repoRoot().resolve("testbed/bed.sh").toString(), "publish", bed.dir.toString(), version, "good", tag));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("T3_STANDIN_NAME", SCOPED);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(5, TimeUnit.MINUTES) && p.exitValue() == 0, "publish " + SCOPED + "@" + version + ":\n" + out);
    }
}
