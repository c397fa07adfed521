package t3.reconciler.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An npm semver version (strict form, as {@code semver.valid(v)} without {@code loose}), ordered
 * exactly as node-semver orders it: build metadata is kept but ignored for precedence.
 *
 * <p>Parsing is also the gate that keeps registry and operator strings off command lines and out of
 * paths: whatever {@link #parse} accepts is made only of {@code [0-9A-Za-z.+-]}.
 */
public final class Version implements Comparable<Version> {
    /** node-semver's MAX_LENGTH. */
    public static final int MAX_LENGTH = 256;
    private static final long MAX_SAFE_INTEGER = 9007199254740991L;
    private static final String NUM = "0|[1-9]\\d*";
    private static final String PRE_ID = "(?:" + NUM + "|\\d*[a-zA-Z-][a-zA-Z0-9-]*)";
    private static final Pattern STRICT = Pattern.compile(
            "(" + NUM + ")\\.(" + NUM + ")\\.(" + NUM + ")"
                    + "(?:-(" + PRE_ID + "(?:\\." + PRE_ID + ")*))?"
                    + "(?:\\+([0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*))?");

    private final long major, minor, patch;
    private final List<Object> prerelease; // Long or String, as node-semver keeps them
    private final String build;
    private final String text;

    private Version(long major, long minor, long patch, List<Object> prerelease, String build, String text) {
        this.major = major;
        this.minor = minor;
        this.patch = patch;
        this.prerelease = List.copyOf(prerelease);
        this.build = build;
        this.text = text;
    }

    /** Parses a strict semver string; throws {@link IllegalArgumentException} naming what is wrong. */
    public static Version parse(String s) {
        if (s == null) throw new IllegalArgumentException("version is missing");
        if (s.length() > MAX_LENGTH) throw new IllegalArgumentException("version is longer than " + MAX_LENGTH + " characters");
        Matcher m = STRICT.matcher(s);
        if (!m.matches()) throw new IllegalArgumentException("'" + printable(s) + "' is not a semver version (expected MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD])");
        long major = number(m.group(1)), minor = number(m.group(2)), patch = number(m.group(3));
        List<Object> pre = new ArrayList<>();
        if (m.group(4) != null) {
            for (String id : m.group(4).split("\\.")) {
                pre.add(id.chars().allMatch(Character::isDigit) ? (Object) number(id) : id);
            }
        }
        return new Version(major, minor, patch, pre, m.group(5), s);
    }

    /** True when {@link #parse} would accept {@code s}. */
    public static boolean isValid(String s) {
        try {
            parse(s);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Reads {@code t3 --version} output such as {@code "t3 v0.0.25-nightly.20260608.497"}. */
    public static Version fromVersionOutput(String output) {
        String s = output == null ? "" : output.strip();
        int space = s.lastIndexOf(' ');
        if (space >= 0) s = s.substring(space + 1);
        if (s.startsWith("v")) s = s.substring(1);
        return parse(s);
    }

    private static long number(String digits) {
        if (digits.length() > 16 || Long.parseLong(digits) > MAX_SAFE_INTEGER) {
            throw new IllegalArgumentException("version number " + digits + " is larger than " + MAX_SAFE_INTEGER);
        }
        return Long.parseLong(digits);
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(80).forEach(c -> {
            if (c >= 0x20 && c < 0x7f) b.appendCodePoint(c);
            else b.append(String.format("\\u%04x", c));
        });
        return b.toString();
    }

    public long major() { return major; }
    public long minor() { return minor; }
    public long patch() { return patch; }
    public boolean isPrerelease() { return !prerelease.isEmpty(); }

    /** A nightly build: its first prerelease identifier is {@code nightly} ({@code 0.0.25-nightly.20260608.497}). */
    public boolean isNightly() { return isPrerelease() && "nightly".equals(prerelease.get(0)); }

    @Override
    public int compareTo(Version o) {
        int c = Long.compare(major, o.major);
        if (c == 0) c = Long.compare(minor, o.minor);
        if (c == 0) c = Long.compare(patch, o.patch);
        if (c != 0) return c;
        // A version without prerelease outranks any prerelease of the same triple.
        if (prerelease.isEmpty() || o.prerelease.isEmpty()) return Boolean.compare(prerelease.isEmpty(), o.prerelease.isEmpty());
        for (int i = 0; ; i++) {
            if (i == prerelease.size() || i == o.prerelease.size()) return Integer.compare(prerelease.size(), o.prerelease.size());
            c = compareIdentifier(prerelease.get(i), o.prerelease.get(i));
            if (c != 0) return c;
        }
    }

    private static int compareIdentifier(Object a, Object b) {
        if (a instanceof Long x && b instanceof Long y) return Long.compare(x, y);
        if (a instanceof Long) return -1; // numeric identifiers have lower precedence
        if (b instanceof Long) return 1;
        return ((String) a).compareTo((String) b);
    }

    public boolean isNewerThan(Version o) { return compareTo(o) > 0; }
    public boolean isOlderThan(Version o) { return compareTo(o) < 0; }

    /** Equality follows the text, so {@code 1.0.0+a} and {@code 1.0.0+b} are different installs of equal precedence. */
    @Override
    public boolean equals(Object o) { return o instanceof Version v && v.text.equals(text); }

    @Override
    public int hashCode() { return Objects.hash(text); }

    @Override
    public String toString() { return text; }
}
