package t3.reconciler.controller.actuator.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import t3.reconciler.controller.actuator.UnitStatus;

/** The probe over a fake /proc and fake cgroup hierarchies; DbusUnitsIT covers the real ones. */
class CgroupBusyProbeTest {
    private static final Pattern AGENT = Pattern.compile("(^|/)claude( |$)");
    private static final String CGROUP = "/bed/app.slice/t3-serve@a.service";

    @TempDir Path tmp;

    private UnitStatus unit(long mainPid, Optional<String> cgroup) {
        return new UnitStatus("t3-serve@a.service", "active", "running", mainPid, Optional.empty(), 0, cgroup);
    }

    private void process(long pid, long ppid, String... argv) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("proc").resolve(Long.toString(pid)));
        Files.writeString(dir.resolve("stat"), pid + " (we ird) S " + ppid + " 1 1 0");
        Files.writeString(dir.resolve("cmdline"), String.join("\0", argv) + (argv.length > 0 ? "\0" : ""));
    }

    private void cgroup(String hierarchy, String path, long... pids) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(hierarchy).resolve(path.substring(1)));
        StringBuilder procs = new StringBuilder();
        for (long pid : pids) procs.append(pid).append('\n');
        Files.writeString(dir.resolve("cgroup.procs"), procs);
    }

    private CgroupBusyProbe probe() {
        return new CgroupBusyProbe(List.of(tmp.resolve("unified"), tmp.resolve("systemd")), tmp.resolve("proc"));
    }

    @Test
    void readsTheUnitsCgroupTreeIncludingSubCgroups() throws Exception {
        process(10, 1, "t3", "serve");
        process(11, 10, "claude", "1000");
        process(12, 1, "/usr/local/bin/claude", "--resume");
        process(13, 1); // kernel thread: empty cmdline
        cgroup("unified", CGROUP, 10, 11, 13);
        cgroup("unified", CGROUP + "/agents", 12);
        cgroup("unified", CGROUP + "/gone", 99); // exited since listed

        assertEquals(Set.of("claude 1000", "/usr/local/bin/claude --resume"),
                Set.copyOf(probe().busyProcesses(unit(10, Optional.of(CGROUP)), AGENT)));
    }

    @Test
    void usesTheV1HierarchyWhenTheUnifiedOneLacksTheCgroup() throws Exception {
        process(20, 1, "claude");
        cgroup("systemd", CGROUP, 20);

        assertEquals(List.of("claude"), probe().busyProcesses(unit(0, Optional.of(CGROUP)), AGENT));
    }

    @Test
    void fallsBackToDescendantsOfTheMainPid() throws Exception {
        process(30, 1, "t3", "serve");
        process(31, 30, "bash", "-c", "x");
        process(32, 31, "claude", "1000");
        process(33, 1, "claude", "elsewhere");

        assertEquals(List.of("claude 1000"), probe().busyProcesses(unit(30, Optional.empty()), AGENT));
        assertEquals(List.of("claude 1000"), probe().busyProcesses(unit(30, Optional.of("/not/there")), AGENT));
    }

    @Test
    void aCgroupPathCannotLeaveTheHierarchy() throws Exception {
        process(40, 1, "claude");
        cgroup("proc", "/x", 40); // a cgroup.procs outside the hierarchies

        assertEquals(List.of(), probe().busyProcesses(unit(0, Optional.of("/../proc/x")), AGENT));
    }

    @Test
    void nothingWithoutCgroupOrMainPid() throws Exception {
        Files.createDirectories(tmp.resolve("proc"));
        assertEquals(List.of(), probe().busyProcesses(unit(0, Optional.empty()), AGENT));
    }
}
