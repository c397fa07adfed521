package t3.reconciler.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads {@code users} (names, or {@code {name, login}} mappings) and merges the optional users file, whose
 * lines are {@code authentik_login=os_user}. A user listed in both gets the file's login unless the YAML
 * gave one explicitly; a user only in the file is added after the listed ones, in file order.
 */
final class UsersReader {
    static final List<String> USER_KEYS = List.of("name", "login");

    /** Where a user came from, for "first at line N" messages. */
    private record Entry(User user, boolean explicitLogin, String where) {}

    private final Problems problems;
    private final Map<String, Entry> byName = new LinkedHashMap<>();
    private final Map<String, String> nameByLogin = new LinkedHashMap<>();

    private UsersReader(Problems problems) { this.problems = problems; }

    static List<User> read(Section root, Optional<Path> usersFile) {
        UsersReader r = new UsersReader(root.problems());
        r.fromYaml(root);
        usersFile.ifPresent(f -> r.fromFile(f, root.markOf("usersFile")));
        return r.byName.values().stream().map(Entry::user).toList();
    }

    private void fromYaml(Section root) {
        Optional<YamlNode> node = root.node("users");
        if (node.isEmpty() || Section.isRejected(node.get())) return;
        if (!(node.get() instanceof YamlNode.Sequence seq)) {
            problems.add(node.get().mark(), "users", "expected a list of user names or {name, login} mappings, got " + YamlNode.describe(node.get()));
            return;
        }
        for (int i = 0; i < seq.items().size(); i++) {
            YamlNode item = seq.items().get(i);
            String field = "users[" + i + "]";
            if (item instanceof YamlNode.Mapping) {
                Section s = Section.of(problems, field, item, item.mark(), USER_KEYS);
                String name = s.value("name", null, "a user name", Values::userName);
                if (!s.has("name")) s.problem(item.mark(), s.field("name"), "missing: every user needs a name");
                Optional<String> login = s.optional("login", "a login", l -> l);
                s.finish();
                if (name != null) add(name, login, s.markOf(login.isPresent() ? "login" : "name"), field, item.mark());
            } else {
                String name = root.convert(item, field, null, "a user name or a {name, login} mapping", Values::userName);
                if (name != null) add(name, Optional.empty(), item.mark(), field, item.mark());
            }
        }
    }

    private void add(String name, Optional<String> login, YamlNode.Mark loginAt, String field, YamlNode.Mark at) {
        User user;
        try {
            user = new User(name, login.orElse(name));
        } catch (IllegalArgumentException e) {
            problems.add(loginAt, field + ".login", e.getMessage());
            return;
        }
        Entry first = byName.get(name);
        if (first != null) {
            problems.add(at, field, "duplicate user '" + name + "' (first at " + first.where + ")");
            return;
        }
        String other = nameByLogin.get(user.login());
        if (other != null) {
            problems.add(loginAt, field, "login '" + Values.printable(user.login()) + "' is already the login of user '" + other + "'");
            return;
        }
        byName.put(name, new Entry(user, login.isPresent(), "line " + at.line()));
        nameByLogin.put(user.login(), name);
    }

    private void fromFile(Path file, YamlNode.Mark at) {
        Optional<String> text = readText(file, at);
        if (text.isEmpty()) return;
        Map<String, Integer> fileLineOfName = new LinkedHashMap<>();
        String[] lines = text.get().split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            int lineNo = i + 1;
            String line = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
            String t = line.strip();
            if (t.isEmpty() || t.startsWith("#")) continue;
            int eq = line.indexOf('=');
            int start = line.length() - line.stripLeading().length() + 1;
            if (eq < 0) {
                fileProblem(file, lineNo, start, "expected authentik_login=os_user, got " + Values.quote(t));
                continue;
            }
            String login = line.substring(0, eq).strip(), name = line.substring(eq + 1).strip();
            int nameCol = eq + 2 + (line.substring(eq + 1).length() - line.substring(eq + 1).stripLeading().length());
            if (!User.isValidName(name)) {
                fileProblem(file, lineNo, nameCol, Values.oneLine(invalidName(name)));
                continue;
            }
            User user;
            try {
                user = new User(name, login);
            } catch (IllegalArgumentException e) {
                fileProblem(file, lineNo, start, e.getMessage());
                continue;
            }
            Integer firstLine = fileLineOfName.putIfAbsent(name, lineNo);
            if (firstLine != null) {
                fileProblem(file, lineNo, nameCol, "user '" + name + "' is mapped twice (first at line " + firstLine + "); one login per user");
                continue;
            }
            String other = nameByLogin.get(login);
            if (other != null && !other.equals(name)) {
                fileProblem(file, lineNo, start, "login '" + Values.printable(login) + "' is already the login of user '" + other + "'");
                continue;
            }
            Entry listed = byName.get(name);
            if (listed != null && listed.explicitLogin && !listed.user.login().equals(login)) {
                fileProblem(file, lineNo, start, "user '" + name + "' already has login '" + Values.printable(listed.user.login()) + "' in users (" + listed.where + ")");
                continue;
            }
            if (listed != null) nameByLogin.remove(listed.user.login());
            // Replacing keeps the user's place in the order: a listed user stays where the YAML put them.
            byName.put(name, new Entry(user, true, file + ":" + lineNo));
            nameByLogin.put(login, name);
        }
    }

    private static String invalidName(String name) {
        try {
            User.requireValidName(name);
            return "invalid user name";
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    private void fileProblem(Path file, int line, int column, String message) {
        problems.add(file, line, column, "usersFile", message);
    }

    private Optional<String> readText(Path file, YamlNode.Mark at) {
        Optional<String> untrusted = FileTrust.problem(file);
        if (untrusted.isPresent()) {
            problems.add(at, "usersFile", file + ": " + untrusted.get());
            return Optional.empty();
        }
        try {
            return Optional.of(BoundedText.read(file, DesiredStateLoader.MAX_FILE_BYTES));
        } catch (IOException e) {
            problems.add(at, "usersFile", file + " " + BoundedText.why(e));
            return Optional.empty();
        }
    }
}
