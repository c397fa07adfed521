package t3.reconciler.controller.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/** A markdown table: printed to stdout and appended to {@code controller/target/bench/results.md} for the doc. */
final class Table {
    private final String title;
    private final List<String> head;
    private final List<List<String>> rows = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    Table(String title, String... head) {
        this.title = title;
        this.head = List.of(head);
    }

    Table row(Object... cells) {
        List<String> r = new ArrayList<>();
        for (Object c : cells) r.add(String.valueOf(c));
        rows.add(r);
        return this;
    }

    Table note(String n) {
        notes.add(n);
        return this;
    }

    String markdown() {
        StringBuilder b = new StringBuilder("\n#### ").append(title).append("\n\n");
        b.append("| ").append(String.join(" | ", head)).append(" |\n|");
        for (int i = 0; i < head.size(); i++) b.append("---|");
        b.append('\n');
        for (List<String> r : rows) b.append("| ").append(String.join(" | ", r)).append(" |\n");
        for (String n : notes) b.append("\n").append(n).append('\n');
        return b.toString();
    }

    void print() throws IOException {
        String md = markdown();
        System.out.print(md);
        System.out.flush();
        Path out = Bench.resultsFile();
        Files.createDirectories(out.getParent());
        Files.writeString(out, md, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    static String ms(double v) { return v >= 100 ? String.format("%.0f", v) : String.format("%.1f", v); }

    static String x(double ratio) { return String.format("%.2f×", ratio); }
}
