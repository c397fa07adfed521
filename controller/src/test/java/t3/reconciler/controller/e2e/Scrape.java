package t3.reconciler.controller.e2e;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One scrape of the controller's {@code /metrics} (Prometheus text format), read back as samples: what a Prometheus
 * server would store, so an alert rule can be tested on what the controller really exports.
 *
 * @param samples every sample line: {@code name}, its labels as written ({@code a="x",b="y"}, maybe empty), the value
 */
record Scrape(List<Sample> samples) {
    record Sample(String name, String labels, String value) {
        /** The series as promtool's {@code input_series} writes it, with {@code job} and {@code instance} added as Prometheus would. */
        String series(String job, String instance) {
            String extra = "job=\"" + job + "\",instance=\"" + instance + "\"";
            return name + "{" + extra + (labels.isEmpty() ? "" : "," + labels) + "}";
        }
    }

    private static final Pattern LINE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)\\})? (\\S+)$");

    static Scrape parse(String body) {
        List<Sample> out = new ArrayList<>();
        for (String line : body.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) continue;
            Matcher m = LINE.matcher(line);
            if (!m.matches()) throw new IllegalArgumentException("not a sample line: " + line);
            String labels = m.group(2) == null ? "" : m.group(2).replaceAll(",$", "");
            out.add(new Sample(m.group(1), labels, m.group(3)));
        }
        return new Scrape(out);
    }

    /** The value of the sample with exactly this name and these labels (as written, in the exporter's order). */
    Optional<String> value(String name, String labels) {
        return samples.stream().filter(s -> s.name().equals(name) && s.labels().equals(labels)).map(Sample::value).findFirst();
    }
}
