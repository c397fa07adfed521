package t3.reconciler.model;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Collects problems while reading goes on, so the operator sees all of them at once. */
final class Problems {
    private final Path file;
    private final List<Problem> list = new ArrayList<>();

    Problems(Path file) { this.file = file; }

    Path file() { return file; }

    void add(YamlNode.Mark at, String field, String message) {
        add(file, at.line(), at.column(), field, message);
    }

    void add(Path in, int line, int column, String field, String message) {
        list.add(new Problem(in, Math.max(1, line), Math.max(1, column), field.isEmpty() ? Problem.DOCUMENT : field, Values.escape(message, 2000)));
    }

    boolean isEmpty() { return list.isEmpty(); }

    int size() { return list.size(); }

    /** Files in the order they were first mentioned, then by position: reads like the file, top to bottom. */
    List<Problem> sorted() {
        Map<Path, Integer> order = new LinkedHashMap<>();
        for (Problem p : list) order.putIfAbsent(p.file(), order.size());
        List<Problem> out = new ArrayList<>(list);
        out.sort(Comparator.comparing((Problem p) -> order.get(p.file()))
                .thenComparingInt(Problem::line)
                .thenComparingInt(Problem::column));
        return out;
    }

    void throwIfAny() throws InvalidDesiredStateException {
        if (!list.isEmpty()) throw new InvalidDesiredStateException(sorted());
    }
}
