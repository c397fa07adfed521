package t3.reconciler.model;

import java.util.List;
import java.util.Optional;

/**
 * The desired-state document as a small tree in which every node remembers where it was written, so a
 * problem found while reading a value can point at the exact line and column.
 */
sealed interface YamlNode permits YamlNode.Scalar, YamlNode.Mapping, YamlNode.Sequence {

    Mark mark();

    /** 1-based line and column, as editors count them. */
    record Mark(int line, int column) {
        static final Mark START = new Mark(1, 1);
    }

    /**
     * How YAML resolved a plain scalar. {@code REJECTED} marks a node already reported (an alias, a
     * binary value) so readers skip it instead of piling a second message onto the same spot.
     */
    enum Kind { STRING, INTEGER, FLOAT, BOOLEAN, NULL, REJECTED }

    record Scalar(Mark mark, Kind kind, String text) implements YamlNode {}

    record Entry(String key, Mark keyMark, YamlNode value) {}

    record Mapping(Mark mark, List<Entry> entries) implements YamlNode {
        public Mapping {
            entries = List.copyOf(entries);
        }

        Optional<Entry> entry(String key) {
            return entries.stream().filter(e -> e.key().equals(key)).findFirst();
        }
    }

    record Sequence(Mark mark, List<YamlNode> items) implements YamlNode {
        public Sequence {
            items = List.copyOf(items);
        }
    }

    /** How a problem message names what was found instead of what was expected. */
    static String describe(YamlNode n) {
        if (n instanceof Mapping) return "a mapping";
        if (n instanceof Sequence) return "a list";
        Scalar s = (Scalar) n;
        return switch (s.kind()) {
            case STRING -> Values.quote(s.text());
            case INTEGER, FLOAT -> "the number " + Values.quote(s.text()) + " (quote it to mean the text)";
            case BOOLEAN -> "the boolean " + Values.quote(s.text()) + " (quote it to mean the text)";
            case NULL -> "nothing";
            case REJECTED -> "a rejected value";
        };
    }
}
