package t3.reconciler.controller.install;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code packaging/install.sh} into a throwaway root ({@code --destdir}): the tree it lays down (files, modes, owners),
 * the installed launcher running the installed jar, the desired-state file never overwritten, and an uninstall that
 * keeps every piece of data. The jar installed is a real runnable controller jar (the test classpath behind a
 * manifest), so {@code validate} through the installed launcher proves the launcher finds it where it was put.
 */
class InstallScriptIT {
    static Path repo;

    @TempDir Path tmp;

    @BeforeAll
    static void needsRoot() {
        assertEquals("root", System.getProperty("user.name"), "InstallScriptIT needs root: install.sh installs root's files and refuses to run otherwise");
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (dir != null && !Files.isRegularFile(dir.resolve("packaging/install.sh"))) dir = dir.getParent();
        assertTrue(dir != null, "packaging/install.sh not found above " + System.getProperty("user.dir"));
        repo = dir;
    }

    record Run(int code, String output) {}

    static Run run(List<String> command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().remove("T3R_JAR");
        pb.environment().remove("T3R_SPEC");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        return new Run(p.waitFor(), out);
    }

    Run install(Path root, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(repo.resolve("packaging/install.sh").toString(), "--destdir", root.toString(), "--jar", jar().toString()));
        cmd.addAll(Arrays.asList(extra));
        Run r = run(cmd);
        assertEquals(0, r.code(), "install.sh " + String.join(" ", extra) + ": " + r.output());
        return r;
    }

    /** A runnable controller jar: no classes of its own, the test classpath through its manifest's Class-Path. */
    Path jar() throws IOException {
        Path jar = tmp.resolve("t3-reconciler.jar");
        if (Files.exists(jar)) return jar;
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "t3.reconciler.controller.cli.Main");
        m.getMainAttributes().put(Attributes.Name.CLASS_PATH, Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .map(p -> Path.of(p).toAbsolutePath().toUri().toString()).collect(Collectors.joining(" ")));
        try (OutputStream o = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(o, m)) {
            // the manifest is the whole jar
        }
        return jar;
    }

    static void assertNode(Path p, String owner, String mode) throws IOException {
        assertTrue(Files.exists(p, LinkOption.NOFOLLOW_LINKS), p + " was not installed");
        assertFalse(Files.isSymbolicLink(p), p + " is a link");
        assertEquals(owner, Files.getOwner(p, LinkOption.NOFOLLOW_LINKS).getName(), p + "'s owner");
        assertEquals(mode, PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS)), p + "'s mode");
    }

    @Test
    void installsTheTreeWithOwnersAndModesAndTheLauncherRunsTheInstalledJar() throws Exception {
        Path root = tmp.resolve("root");
        Run r = install(root);
        assertTrue(r.output().contains("systemctl daemon-reload && systemctl enable --now t3-reconciler"), r.output());

        Path opt = root.resolve("opt/t3-reconciler");
        assertNode(opt.resolve("t3-reconciler.jar"), "root", "rw-r--r--");
        assertArrayEquals(Files.readAllBytes(jar()), Files.readAllBytes(opt.resolve("t3-reconciler.jar")));
        assertNode(opt.resolve("bin/t3-reconciler"), "root", "rwxr-xr-x");
        assertArrayEquals(Files.readAllBytes(repo.resolve("bin/t3-reconciler")), Files.readAllBytes(opt.resolve("bin/t3-reconciler")));
        assertNode(opt.resolve("README.md"), "root", "rw-r--r--"); // the unit's Documentation=
        assertNode(opt.resolve("docs/runbook.md"), "root", "rw-r--r--");
        // Under --destdir no archive: it would record the staged jar's path, not the one it runs from.
        assertFalse(Files.exists(opt.resolve("t3-reconciler.jar.jsa")));
        // Nor SQLite's native library: it is the target's architecture's (packaging/startup-aids.sh, on the target).
        assertFalse(Files.exists(opt.resolve("t3-reconciler.jar.native")));

        Path unit = root.resolve("etc/systemd/system/t3-reconciler.service");
        assertNode(unit, "root", "rw-r--r--");
        assertArrayEquals(Files.readAllBytes(repo.resolve("packaging/t3-reconciler.service")), Files.readAllBytes(unit), "the unit is installed as shipped");
        assertFalse(Files.exists(root.resolve("etc/systemd/system/t3-reconciler.service.d")), "no drop-in for the default prefix");
        Path sysusers = root.resolve("usr/lib/sysusers.d/t3-reconciler.conf");
        assertNode(sysusers, "root", "rw-r--r--");
        assertTrue(Files.readString(sysusers).startsWith("u t3-candidate - "), Files.readString(sysusers));

        assertNode(root.resolve("etc/t3-reconciler"), "root", "rwxr-xr-x");
        Path conf = root.resolve("etc/t3-reconciler/desired-state.yaml");
        assertNode(conf, "root", "rw-r--r--");
        assertTrue(Files.readAllLines(conf).contains("freeze: true"), "a fresh install must bump nothing before the operator says so");
        assertNode(root.resolve("var/lib/t3-reconciler"), "root", "rwxr-xr-x");
        assertNode(root.resolve("var/backups/t3-state"), "root", "rwx------");
        Path tmpfiles = root.resolve("usr/lib/tmpfiles.d/t3-reconciler.conf");
        assertNode(tmpfiles, "root", "rw-r--r--");
        assertArrayEquals(Files.readAllBytes(repo.resolve("packaging/t3-reconciler.tmpfiles")), Files.readAllBytes(tmpfiles));

        // The installed launcher finds the installed jar beside its bin/, and the default file is valid as installed.
        Run v = run(List.of(opt.resolve("bin/t3-reconciler").toString(), "validate", conf.toString()));
        assertEquals(0, v.code(), v.output());
        assertTrue(v.output().contains(conf + ": ok ("), v.output());
    }

    @Test
    void bashAndZshCompletionAreGeneratedFromTheJarsCommandsAndComplete() throws Exception {
        Path root = tmp.resolve("root");
        install(root);
        Path bash = root.resolve("usr/share/bash-completion/completions/t3-reconciler");
        Path zsh = root.resolve("usr/share/zsh/vendor-completions/_t3-reconciler");
        assertNode(bash, "root", "rw-r--r--");
        assertNode(zsh, "root", "rw-r--r--");
        assertTrue(Files.readString(zsh).startsWith("#compdef t3-reconciler\n"), "zsh autoloads it for the command: " + Files.readString(zsh).lines().findFirst());
        assertTrue(Files.readString(zsh).contains(Files.readString(bash).strip()), "zsh runs the same script through bashcompinit");

        // What bash offers: the commands of the installed jar, and a command's own options.
        assertEquals(List.of("status"), complete(bash, "t3-reconciler", "stat"));
        assertTrue(complete(bash, "t3-reconciler", "").containsAll(List.of("validate", "plan", "status", "run", "events", "freeze", "unfreeze", "rollback", "backup", "backups")),
                complete(bash, "t3-reconciler", "").toString());
        assertTrue(complete(bash, "t3-reconciler", "unfreeze", "--").contains("--reason"), complete(bash, "t3-reconciler", "unfreeze", "--").toString());

        Run u = run(List.of(repo.resolve("packaging/install.sh").toString(), "--destdir", root.toString(), "--uninstall"));
        assertEquals(0, u.code(), u.output());
        assertFalse(Files.exists(bash), "uninstall removes the bash completion");
        assertFalse(Files.exists(zsh), "uninstall removes the zsh completion");
    }

    /** Runs the installed bash completion function as bash does on TAB after {@code words}; what it offers. */
    static List<String> complete(Path script, String... words) throws Exception {
        String array = Arrays.stream(words).map(w -> "'" + w + "'").collect(Collectors.joining(" "));
        Run r = run(List.of("bash", "-c", "source '" + script + "'; COMP_WORDS=(" + array + "); COMP_CWORD=" + (words.length - 1)
                + "; COMP_LINE=\"${COMP_WORDS[*]}\"; COMP_POINT=${#COMP_LINE}; _complete_t3-reconciler; printf '%s\\n' \"${COMPREPLY[@]}\""));
        assertEquals(0, r.code(), r.output());
        return r.output().lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    }

    @Test
    void aSecondRunKeepsTheEditedDesiredStateAndRepairsModes() throws Exception {
        Path root = tmp.resolve("root");
        install(root);
        Path conf = root.resolve("etc/t3-reconciler/desired-state.yaml");
        Files.writeString(conf, Files.readString(conf).replace("freeze: true", "freeze: false") + "# edited by the operator\n");
        byte[] edited = Files.readAllBytes(conf);
        Files.setPosixFilePermissions(root.resolve("var/lib/t3-reconciler"), PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.setPosixFilePermissions(root.resolve("var/backups/t3-state"), PosixFilePermissions.fromString("rwxrwxr-x"));

        Run r = install(root);
        assertArrayEquals(edited, Files.readAllBytes(conf), "the operator's desired-state file was overwritten");
        assertTrue(r.output().contains("desired-state.yaml.dist"), r.output());
        Path dist = root.resolve("etc/t3-reconciler/desired-state.yaml.dist");
        assertNode(dist, "root", "rw-r--r--");
        assertTrue(Files.readAllLines(dist).contains("freeze: true"));
        assertNode(root.resolve("var/lib/t3-reconciler"), "root", "rwxr-xr-x");
        assertNode(root.resolve("var/backups/t3-state"), "root", "rwx------");

        // Unedited counts too: once present, the file is the operator's.
        Run again = install(root);
        assertArrayEquals(edited, Files.readAllBytes(conf));
        assertTrue(again.output().contains("kept your"), again.output());
    }

    @Test
    void uninstallRemovesTheProgramAndKeepsEveryPieceOfData() throws Exception {
        Path root = tmp.resolve("root");
        install(root);
        Path conf = root.resolve("etc/t3-reconciler/desired-state.yaml");
        byte[] config = Files.readAllBytes(conf);
        Path state = Files.writeString(root.resolve("var/lib/t3-reconciler/state.db"), "state");
        Path backup = Files.createDirectories(root.resolve("var/backups/t3-state/alice")).resolve("state-1.sqlite");
        Files.writeString(backup, "backup");

        Run r = run(List.of(repo.resolve("packaging/install.sh").toString(), "--destdir", root.toString(), "--uninstall"));
        assertEquals(0, r.code(), r.output());

        for (String gone : List.of("opt/t3-reconciler/t3-reconciler.jar", "opt/t3-reconciler/bin/t3-reconciler", "opt/t3-reconciler",
                "etc/systemd/system/t3-reconciler.service", "usr/lib/sysusers.d/t3-reconciler.conf", "usr/lib/tmpfiles.d/t3-reconciler.conf")) {
            assertFalse(Files.exists(root.resolve(gone), LinkOption.NOFOLLOW_LINKS), gone + " was left behind");
        }
        assertArrayEquals(config, Files.readAllBytes(conf));
        assertEquals("state", Files.readString(state));
        assertEquals("backup", Files.readString(backup));
        assertNode(root.resolve("var/lib/t3-reconciler"), "root", "rwxr-xr-x");
        assertNode(root.resolve("var/backups/t3-state"), "root", "rwx------");
    }

    @Test
    void anotherPrefixGetsADropInForExecStart() throws Exception {
        Path root = tmp.resolve("root");
        install(root, "--prefix", "/usr/local/lib/t3-reconciler");
        assertNode(root.resolve("usr/local/lib/t3-reconciler/t3-reconciler.jar"), "root", "rw-r--r--");
        Path dropIn = root.resolve("etc/systemd/system/t3-reconciler.service.d/prefix.conf");
        assertNode(dropIn, "root", "rw-r--r--");
        assertEquals("[Service]\nExecStart=\nExecStart=/usr/local/lib/t3-reconciler/bin/t3-reconciler run\n", Files.readString(dropIn));
        assertArrayEquals(Files.readAllBytes(repo.resolve("packaging/t3-reconciler.service")),
                Files.readAllBytes(root.resolve("etc/systemd/system/t3-reconciler.service")));

        Run r = run(List.of(repo.resolve("packaging/install.sh").toString(), "--destdir", root.toString(), "--prefix", "/usr/local/lib/t3-reconciler", "--uninstall"));
        assertEquals(0, r.code(), r.output());
        assertFalse(Files.exists(dropIn));
        assertFalse(Files.exists(root.resolve("usr/local/lib/t3-reconciler")));
    }
}
