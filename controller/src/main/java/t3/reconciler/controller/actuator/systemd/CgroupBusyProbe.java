package t3.reconciler.controller.actuator.systemd;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import t3.reconciler.controller.actuator.ActuatorException;
import t3.reconciler.controller.actuator.BusyProbe;
import t3.reconciler.controller.actuator.UnitStatus;

/**
 * Busy when a process under the unit has a command line matching the pattern. The unit's processes are those
 * in its cgroup (and sub-cgroups); without a cgroup tree to read, the main process's descendants from /proc.
 * Command lines are read from {@code /proc/PID/cmdline}, so a name set through argv[0] ({@code exec -a}) counts.
 */
public final class CgroupBusyProbe implements BusyProbe {
    /** Where the unit's ControlGroup path can be found: unified first, then name=systemd v1, then pure v2. */
    public static final List<Path> DEFAULT_HIERARCHIES =
            List.of(Path.of("/sys/fs/cgroup/unified"), Path.of("/sys/fs/cgroup/systemd"), Path.of("/sys/fs/cgroup"));

    private final List<Path> hierarchies;
    private final Path proc;

    public CgroupBusyProbe() { this(DEFAULT_HIERARCHIES, Path.of("/proc")); }

    public CgroupBusyProbe(List<Path> hierarchies, Path proc) {
        this.hierarchies = List.copyOf(hierarchies);
        this.proc = proc;
    }

    @Override
    public List<String> busyProcesses(UnitStatus unit, Pattern busy) throws ActuatorException {
        try {
            Set<Long> pids = cgroupPids(unit.controlGroup()).orElseGet(() -> descendants(unit.mainPid()));
            List<String> matches = new ArrayList<>();
            for (long pid : pids) {
                cmdline(pid).filter(c -> busy.matcher(c).find()).ifPresent(matches::add);
            }
            return matches;
        } catch (IOException | UncheckedIOException e) {
            throw ActuatorException.transientFault("busy probe of " + unit.name() + ": " + e.getMessage(), e);
        }
    }

    /** Pids in the unit's cgroup tree, or empty when no hierarchy has that cgroup. */
    private Optional<Set<Long>> cgroupPids(Optional<String> controlGroup) throws IOException {
        if (controlGroup.isEmpty()) return Optional.empty();
        String relative = controlGroup.get().replaceFirst("^/+", "");
        for (Path root : hierarchies) {
            Path dir = root.resolve(relative).normalize();
            if (!dir.startsWith(root) || !Files.isRegularFile(dir.resolve("cgroup.procs"))) continue;
            Set<Long> pids = new LinkedHashSet<>();
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path procs : files.filter(f -> f.getFileName().toString().equals("cgroup.procs")).toList()) {
                    readLines(procs).stream().filter(l -> !l.isBlank()).map(String::trim).map(Long::parseLong).forEach(pids::add);
                }
            }
            return Optional.of(pids);
        }
        return Optional.empty();
    }

    /** Every process whose ancestry reaches {@code root}, from the ppid field of /proc/PID/stat. */
    private Set<Long> descendants(long root) {
        Set<Long> found = new LinkedHashSet<>();
        if (root <= 0) return found;
        Map<Long, List<Long>> children = new HashMap<>();
        try (Stream<Path> entries = Files.list(proc)) {
            for (Path p : entries.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
                parentOf(p).ifPresent(ppid -> children.computeIfAbsent(ppid, k -> new ArrayList<>()).add(Long.parseLong(p.getFileName().toString())));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Long> todo = new ArrayList<>(children.getOrDefault(root, List.of()));
        while (!todo.isEmpty()) {
            long pid = todo.remove(todo.size() - 1);
            if (found.add(pid)) todo.addAll(children.getOrDefault(pid, List.of()));
        }
        return found;
    }

    private Optional<Long> parentOf(Path procDir) {
        try {
            String stat = Files.readString(procDir.resolve("stat"), StandardCharsets.UTF_8);
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so parse after the last ')'
            String[] rest = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Optional.of(Long.parseLong(rest[1]));
        } catch (IOException | RuntimeException vanished) {
            return Optional.empty();
        }
    }

    /** The command line with NULs as spaces; empty for kernel threads and processes that have exited. */
    private Optional<String> cmdline(long pid) {
        try {
            byte[] raw = Files.readAllBytes(proc.resolve(Long.toString(pid)).resolve("cmdline"));
            String line = new String(raw, StandardCharsets.UTF_8).replace('\0', ' ').trim();
            return line.isEmpty() ? Optional.empty() : Optional.of(line);
        } catch (IOException vanished) {
            return Optional.empty();
        }
    }

    private static List<String> readLines(Path file) throws IOException {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException removed) {
            return List.of(); // a sub-cgroup removed while walking
        }
    }
}
