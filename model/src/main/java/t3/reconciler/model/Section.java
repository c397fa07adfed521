package t3.reconciler.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.IntPredicate;

/**
 * One mapping of the file being read into a record. The getters never throw: a bad value becomes a
 * problem at the value's position and the default is returned, so reading goes on and every problem
 * is found in one pass. {@link #finish} rejects keys no getter is declared for.
 */
final class Section {
    private final Problems problems;
    private final String path;
    private final YamlNode.Mapping map;
    private final List<String> known;

    private Section(Problems problems, String path, YamlNode.Mapping map, List<String> known) {
        this.problems = problems;
        this.path = path;
        this.map = map;
        this.known = known;
    }

    /** Reads {@code node} as a mapping; anything else (other than null) is a problem and reads as empty. */
    static Section of(Problems problems, String path, YamlNode node, YamlNode.Mark absentAt, List<String> known) {
        if (node instanceof YamlNode.Mapping m) return new Section(problems, path, m, known);
        if (node != null && !isUnset(node) && !isRejected(node)) {
            problems.add(node.mark(), path, "expected a mapping, got " + YamlNode.describe(node));
        }
        return new Section(problems, path, new YamlNode.Mapping(node == null ? absentAt : node.mark(), List.of()), known);
    }

    String field(String key) { return path.isEmpty() ? key : path + "." + key; }

    YamlNode.Mark mark() { return map.mark(); }

    /** The value written for {@code key}; empty when absent or null. */
    Optional<YamlNode> node(String key) {
        if (!known.contains(key)) throw new IllegalStateException(field(key) + " is not declared");
        return map.entry(key).map(YamlNode.Entry::value).filter(n -> !isUnset(n));
    }

    boolean has(String key) { return node(key).isPresent(); }

    /** Where {@code key}'s value is, or where this section is when the key is absent. */
    YamlNode.Mark markOf(String key) { return node(key).map(YamlNode::mark).orElse(map.mark()); }

    Section section(String key, List<String> knownKeys) {
        return of(problems, field(key), node(key).orElse(null), map.mark(), knownKeys);
    }

    /** A string value run through {@code parse}; {@code expected} names the type in wrong-type messages. */
    <T> T value(String key, T otherwise, String expected, Function<String, T> parse) {
        Optional<YamlNode> n = node(key);
        return n.isPresent() ? convert(n.get(), field(key), otherwise, expected, parse) : otherwise;
    }

    <T> Optional<T> optional(String key, String expected, Function<String, T> parse) {
        return value(key, Optional.empty(), expected, s -> Optional.of(parse.apply(s)));
    }

    /** A plain decimal integer in range; YAML's hex, octal and {@code 1_000} forms are refused as easy to misread. */
    int integer(String key, int otherwise, IntPredicate ok, String range) {
        Optional<YamlNode> n = node(key);
        if (n.isEmpty() || isRejected(n.get())) return otherwise;
        if (n.get() instanceof YamlNode.Scalar s && s.kind() == YamlNode.Kind.INTEGER && s.text().matches("0|-?[1-9][0-9]{0,9}")) {
            long v = Long.parseLong(s.text());
            if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE && ok.test((int) v)) return (int) v;
            problems.add(s.mark(), field(key), "must be " + range + " (got " + s.text() + ")");
            return otherwise;
        }
        problems.add(n.get().mark(), field(key), "expected an integer " + range + ", got " + describeForNumber(n.get()));
        return otherwise;
    }

    boolean bool(String key, boolean otherwise) {
        Optional<YamlNode> n = node(key);
        if (n.isEmpty() || isRejected(n.get())) return otherwise;
        if (n.get() instanceof YamlNode.Scalar s && s.kind() == YamlNode.Kind.BOOLEAN) {
            return s.text().toLowerCase(Locale.ROOT).matches("true|yes|on|y");
        }
        problems.add(n.get().mark(), field(key), "expected true or false, got " + YamlNode.describe(n.get()).replace(" (quote it to mean the text)", ""));
        return otherwise;
    }

    /** A list of strings, each run through {@code parse}; a problem names the item as {@code key[i]}. */
    <T> List<T> list(String key, List<T> otherwise, String expected, Function<String, T> parse) {
        Optional<YamlNode> n = node(key);
        if (n.isEmpty() || isRejected(n.get())) return otherwise;
        if (!(n.get() instanceof YamlNode.Sequence seq)) {
            problems.add(n.get().mark(), field(key), "expected a list of " + expected + ", got " + YamlNode.describe(n.get()));
            return otherwise;
        }
        List<T> out = new ArrayList<>();
        for (int i = 0; i < seq.items().size(); i++) {
            T v = convert(seq.items().get(i), field(key) + "[" + i + "]", null, expected, parse);
            if (v != null) out.add(v);
        }
        return out;
    }

    /** Rejects keys nobody reads, suggesting the known key the operator probably meant. */
    void finish() {
        for (YamlNode.Entry e : map.entries()) {
            if (known.contains(e.key())) continue;
            problems.add(e.keyMark(), field(Values.printable(e.key())), "unknown key" + Suggest.closest(e.key(), known)
                    .map(k -> " (did you mean '" + k + "'?)")
                    .orElse(" (known keys: " + String.join(", ", known) + ")"));
        }
    }

    <T> T convert(YamlNode n, String field, T otherwise, String expected, Function<String, T> parse) {
        if (isRejected(n)) return otherwise;
        if (n instanceof YamlNode.Scalar s && s.kind() == YamlNode.Kind.STRING) {
            try {
                return parse.apply(s.text());
            } catch (IllegalArgumentException e) {
                problems.add(s.mark(), field, e.getMessage());
                return otherwise;
            }
        }
        problems.add(n.mark(), field, "expected " + expected + ", got " + YamlNode.describe(n));
        return otherwise;
    }

    void problem(YamlNode.Mark at, String field, String message) { problems.add(at, field, message); }

    Problems problems() { return problems; }

    private static String describeForNumber(YamlNode n) {
        if (n instanceof YamlNode.Scalar s && (s.kind() == YamlNode.Kind.INTEGER || s.kind() == YamlNode.Kind.FLOAT || s.kind() == YamlNode.Kind.STRING)) {
            return Values.quote(s.text());
        }
        return YamlNode.describe(n).replace(" (quote it to mean the text)", "");
    }

    static boolean isUnset(YamlNode n) { return n instanceof YamlNode.Scalar s && s.kind() == YamlNode.Kind.NULL; }

    static boolean isRejected(YamlNode n) { return n instanceof YamlNode.Scalar s && s.kind() == YamlNode.Kind.REJECTED; }
}
