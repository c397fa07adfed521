package t3.reconciler.controller.fake;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.DesiredStateLoader;
import t3.reconciler.model.InvalidDesiredStateException;

/**
 * A desired-state file whose every path lies under one temp directory, with an (empty) database per user so the
 * observer sees data to back up. {@code extra} is appended as YAML (e.g. {@code "pin: ...\n"}).
 */
public final class FakeSpec {
    public static final String UNIT = "t3-serve@{user}.service";

    private FakeSpec() {}

    public static String yaml(Path dir, List<String> users, String extra) {
        return "users: [" + String.join(", ", users) + "]\n"
                + "unit: \"" + UNIT + "\"\n"
                + "database: \"" + dir.resolve("home/{user}/.t3/userdata/state.sqlite") + "\"\n"
                + "install:\n  versionsDir: " + dir.resolve("versions") + "\n  link: " + dir.resolve("bin/t3") + "\n"
                + "backup:\n  dir: " + dir.resolve("backups") + "\n"
                + "healthCheck:\n  scratchDir: " + dir.resolve("scratch") + "\n"
                + "schedule:\n  window: always\n  zone: UTC\n"
                + "controller:\n  stateDb: " + dir.resolve("state/state.db") + "\n  freezeFile: " + dir.resolve("state/freeze") + "\n"
                + "  pidFile: " + dir.resolve("run/t3-reconciler.pid") + "\n  metrics: \"off\"\n"
                + extra;
    }

    /** Writes {@code dir/desired-state.yaml} and each user's database file; returns the loaded state. */
    public static DesiredState write(Path dir, List<String> users, String extra) throws IOException, InvalidDesiredStateException {
        Path file = dir.resolve("desired-state.yaml");
        Files.writeString(file, yaml(dir, users, extra));
        DesiredState s = DesiredStateLoader.load(file);
        for (String u : users) {
            Path db = s.databaseOf(u);
            Files.createDirectories(db.getParent());
            if (!Files.exists(db)) Files.createFile(db);
        }
        Files.createDirectories(s.controller().stateDb().getParent());
        Files.createDirectories(s.healthCheck().scratchDir());
        return s;
    }
}
