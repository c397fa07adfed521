package t3.reconciler.model;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.events.AliasEvent;
import org.yaml.snakeyaml.events.CollectionEndEvent;
import org.yaml.snakeyaml.events.CollectionStartEvent;
import org.yaml.snakeyaml.events.Event;
import org.yaml.snakeyaml.events.NodeEvent;
import org.yaml.snakeyaml.events.ScalarEvent;
import org.yaml.snakeyaml.events.StreamEndEvent;
import org.yaml.snakeyaml.parser.Parser;
import org.yaml.snakeyaml.parser.ParserImpl;
import org.yaml.snakeyaml.reader.ReaderException;
import org.yaml.snakeyaml.reader.StreamReader;

/**
 * Turns YAML text into a {@link YamlNode} tree with positions, using Jackson's streaming {@link YAMLParser}.
 *
 * <p>It refuses, each with a problem of its own: syntax errors (with the parser's line and column),
 * aliases and anchors (no alias bombs; nothing here needs them), explicit tags, duplicate keys, more than
 * one document, and nesting deeper than {@link #MAX_DEPTH}. Jackson drops the anchor of a scalar value,
 * so a first pass over snakeyaml's events finds the anchors and tags; the walk reports them where it meets them.
 */
final class YamlTreeReader {
    /** The real file nests three levels deep (healthCheck.pairingEndpoints[0]); the rest is headroom. */
    static final int MAX_DEPTH = 8;

    private static final YAMLFactory FACTORY = YAMLFactory.builder()
            .enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL) // `key:` with nothing after it means "unset"
            .build();

    private final String text;
    private final Problems problems;
    private final Map<YamlNode.Mark, String> decorations = new HashMap<>();
    private YAMLParser parser;

    private YamlTreeReader(String text, Problems problems) {
        this.text = text;
        this.problems = problems;
    }

    /** The document's root, or empty when it could not be read at all (the problems say why). An empty file is an empty mapping. */
    static Optional<YamlNode> read(String text, Problems problems) {
        return new YamlTreeReader(text, problems).read();
    }

    private static final class TooDeep extends Exception {
        final YamlNode.Mark at;
        final String path;

        TooDeep(YamlNode.Mark at, String path) {
            super(null, null, false, false);
            this.at = at;
            this.path = path;
        }
    }

    private Optional<YamlNode> read() {
        findDecorations();
        try (YAMLParser p = FACTORY.createParser(text)) {
            parser = p;
            JsonToken first = p.nextToken();
            if (first == null) return Optional.of(new YamlNode.Mapping(YamlNode.Mark.START, List.of()));
            YamlNode root = node(first, "", 1);
            JsonToken next = p.nextToken();
            if (next != null) {
                problems.add(here(), "", "only one YAML document is allowed; remove the second '---' and what follows");
                return Optional.empty();
            }
            return Optional.of(root);
        } catch (TooDeep e) {
            problems.add(e.at, e.path, "nested deeper than " + MAX_DEPTH + " levels");
        } catch (JsonProcessingException e) {
            syntaxError(e);
        } catch (IOException | RuntimeException e) {
            // Jackson and snakeyaml wrap their own failures; anything else still becomes a problem, never a stack trace.
            problems.add(here(), "", "unreadable YAML: " + Values.oneLine(String.valueOf(e.getMessage())));
        }
        return Optional.empty();
    }

    private YamlNode node(JsonToken t, String path, int depth) throws IOException, TooDeep {
        YamlNode.Mark at = here();
        decoration(at, path);
        if (parser.isCurrentAlias()) {
            problems.add(at, path, "YAML aliases are not allowed (*" + Values.printable(parser.getText()) + "); write the value out");
            return new YamlNode.Scalar(at, YamlNode.Kind.REJECTED, "");
        }
        switch (t) {
            case START_OBJECT: {
                if (depth > MAX_DEPTH) throw new TooDeep(at, path);
                List<YamlNode.Entry> entries = new ArrayList<>();
                Map<String, YamlNode.Mark> seen = new LinkedHashMap<>();
                for (JsonToken k = parser.nextToken(); k != JsonToken.END_OBJECT; k = parser.nextToken()) {
                    if (k != JsonToken.FIELD_NAME) throw new IOException("unexpected end of a mapping");
                    String key = parser.currentName();
                    YamlNode.Mark keyAt = here();
                    String child = path.isEmpty() ? Values.printable(key) : path + "." + Values.printable(key);
                    decoration(keyAt, child);
                    YamlNode value = node(parser.nextToken(), child, depth + 1);
                    YamlNode.Mark first = seen.putIfAbsent(key, keyAt);
                    if (first != null) {
                        problems.add(keyAt, child, "duplicate key (first at line " + first.line() + ")");
                    } else {
                        entries.add(new YamlNode.Entry(key, keyAt, value));
                    }
                }
                return new YamlNode.Mapping(at, entries);
            }
            case START_ARRAY: {
                if (depth > MAX_DEPTH) throw new TooDeep(at, path);
                List<YamlNode> items = new ArrayList<>();
                for (JsonToken i = parser.nextToken(); i != JsonToken.END_ARRAY; i = parser.nextToken()) {
                    if (i == null) throw new IOException("unexpected end of a list");
                    items.add(node(i, path + "[" + items.size() + "]", depth + 1));
                }
                return new YamlNode.Sequence(at, items);
            }
            case VALUE_STRING:
                return new YamlNode.Scalar(at, YamlNode.Kind.STRING, parser.getText());
            case VALUE_NUMBER_INT:
                return new YamlNode.Scalar(at, YamlNode.Kind.INTEGER, parser.getText());
            case VALUE_NUMBER_FLOAT:
                return new YamlNode.Scalar(at, YamlNode.Kind.FLOAT, parser.getText());
            case VALUE_TRUE:
            case VALUE_FALSE:
                return new YamlNode.Scalar(at, YamlNode.Kind.BOOLEAN, parser.getText());
            case VALUE_NULL:
                return new YamlNode.Scalar(at, YamlNode.Kind.NULL, "");
            default:
                // !!binary and friends; the tag itself was reported already.
                return new YamlNode.Scalar(at, YamlNode.Kind.REJECTED, "");
        }
    }

    private YamlNode.Mark here() {
        JsonLocation l = parser == null ? null : parser.currentTokenLocation();
        return l == null || l.getLineNr() < 1 ? YamlNode.Mark.START : new YamlNode.Mark(l.getLineNr(), Math.max(1, l.getColumnNr()));
    }

    private void decoration(YamlNode.Mark at, String path) {
        String d = decorations.remove(at);
        if (d != null) problems.add(at, path, d);
    }

    /**
     * Records where anchors and tags were written. Stops at the first syntax error (the walk reports it)
     * and past {@link #MAX_DEPTH}: snakeyaml's scanner slows down with every open flow level, so a file of
     * nothing but '[' must not be read to its end.
     */
    private void findDecorations() {
        try {
            Parser events = new ParserImpl(new StreamReader(text), new LoaderOptions());
            int depth = 0;
            for (Event e = events.getEvent(); !(e instanceof StreamEndEvent); e = events.getEvent()) {
                if (e instanceof CollectionStartEvent && ++depth > MAX_DEPTH + 1) return;
                if (e instanceof CollectionEndEvent) depth--;
                if (e instanceof AliasEvent || !(e instanceof NodeEvent n)) continue;
                String tag = e instanceof ScalarEvent s ? s.getTag() : ((CollectionStartEvent) e).getTag();
                String problem = null;
                if (tag != null) problem = "YAML tags are not supported (" + Values.printable(tag.replace("tag:yaml.org,2002:", "!!")) + ")";
                if (n.getAnchor() != null) problem = "YAML anchors are not allowed (&" + Values.printable(n.getAnchor()) + ")";
                if (problem != null) decorations.putIfAbsent(at(e.getStartMark()), problem);
            }
        } catch (RuntimeException e) {
            // The walk meets the same error and reports it with its position.
        }
    }

    private static YamlNode.Mark at(Mark m) {
        return new YamlNode.Mark(m.getLine() + 1, m.getColumn() + 1);
    }

    private void syntaxError(JsonProcessingException e) {
        Throwable cause = e.getCause();
        if (cause instanceof MarkedYAMLException m) {
            Mark where = m.getProblemMark() != null ? m.getProblemMark() : m.getContextMark();
            StringBuilder msg = new StringBuilder("invalid YAML: ").append(m.getProblem() == null ? "syntax error" : m.getProblem());
            if (m.getContext() != null) {
                msg.append(" (").append(m.getContext());
                if (m.getContextMark() != null && where != m.getContextMark()) {
                    msg.append(" at line ").append(m.getContextMark().getLine() + 1).append(", column ").append(m.getContextMark().getColumn() + 1);
                }
                msg.append(")");
            }
            problems.add(where != null ? at(where) : location(e), "", Values.oneLine(msg.toString()));
        } else if (cause instanceof ReaderException r) {
            problems.add(position(r.getPosition()), "", "invalid YAML: character U+" + String.format("%04X", r.getCodePoint()) + " is not allowed");
        } else if (String.valueOf(e.getOriginalMessage()).startsWith("Expected a field name")) {
            problems.add(location(e), "", "invalid YAML: keys must be plain text, not lists or mappings");
        } else {
            problems.add(location(e), "", "invalid YAML: " + Values.oneLine(String.valueOf(e.getOriginalMessage())));
        }
    }

    private YamlNode.Mark location(JsonProcessingException e) {
        JsonLocation l = e.getLocation();
        return l == null || l.getLineNr() < 1 ? here() : new YamlNode.Mark(l.getLineNr(), Math.max(1, l.getColumnNr()));
    }

    /** snakeyaml counts code points and breaks lines as YAML 1.1 does. */
    private YamlNode.Mark position(int codePointIndex) {
        int line = 1, column = 1, i = 0;
        for (int off = 0; off < text.length() && i < codePointIndex; i++) {
            int c = text.codePointAt(off);
            off += Character.charCount(c);
            boolean crlf = c == '\r' && off < text.length() && text.charAt(off) == '\n';
            if (crlf) continue; // the '\n' that follows ends the line
            if (c == '\n' || c == '\r' || c == 0x85 || c == 0x2028 || c == 0x2029) {
                line++;
                column = 1;
            } else {
                column++;
            }
        }
        return new YamlNode.Mark(line, column);
    }
}
