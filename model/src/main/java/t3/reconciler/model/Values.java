package t3.reconciler.model;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Parsers for the value types of the desired-state file. Each returns the value or throws
 * {@link IllegalArgumentException} whose message is written for the operator and names the bad text.
 */
public final class Values {
    private Values() {}

    /** Ten years: far past any sensible wait, and far from overflowing {@code Instant.plus}. */
    public static final Duration MAX_DURATION = Duration.ofDays(3650);

    private static final Pattern SHORT_DURATION = Pattern.compile("([0-9]{1,9})(s|m|h|d)");
    private static final Pattern TIME = Pattern.compile("([01][0-9]|2[0-3]):([0-5][0-9])");
    /**
     * npm's rule for new package names (lowercase, URL-safe, optional scope), narrowed so a name can never be read
     * as a command-line option or a path: no leading {@code -}, {@code .} or {@code _} in the scope or the name. The
     * one rule for {@code validate} and for the controller's npm command lines alike.
     */
    private static final Pattern NPM_NAME = Pattern.compile("(?:@[a-z0-9~][a-z0-9._~-]*/)?[a-z0-9~][a-z0-9._~-]*");
    public static final int MAX_PACKAGE_NAME = 214;
    private static final Pattern UNIT = Pattern.compile("[A-Za-z0-9:_.@\\\\-]*");
    private static final Pattern HOST_PORT = Pattern.compile("(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):([0-9]{1,5})");
    private static final Pattern DBUS_UNIX = Pattern.compile("unix:[a-z]+=[^,;\\s]+(,[a-z]+=[^,;\\s]+)*");
    static final String DURATION_HELP = "use 90s, 15m, 2h, 3d or ISO-8601 such as PT15M";

    /** {@code 90s}, {@code 15m}, {@code 2h}, {@code 3d}, or ISO-8601 ({@code PT15M}, any case); positive and at most ten years. */
    public static Duration duration(String s) {
        Duration d;
        Matcher m = SHORT_DURATION.matcher(s);
        try {
            if (m.matches()) {
                long n = Long.parseLong(m.group(1));
                d = switch (m.group(2)) {
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
            } else if (s.length() <= 64 && (s.startsWith("P") || s.startsWith("p"))) {
                d = Duration.parse(s);
            } else {
                throw new IllegalArgumentException(quote(s) + " is not a duration (" + DURATION_HELP + ")");
            }
        } catch (DateTimeParseException | ArithmeticException e) {
            throw new IllegalArgumentException(quote(s) + " is not a duration (" + DURATION_HELP + ")");
        }
        if (d.isNegative() || d.isZero()) throw new IllegalArgumentException("must be positive (got " + quote(s) + ")");
        if (d.compareTo(MAX_DURATION) > 0) throw new IllegalArgumentException("must be at most " + format(MAX_DURATION) + " (got " + quote(s) + ")");
        return d;
    }

    /** The shortest of {@code 3d}, {@code 6h}, {@code 15m}, {@code 90s} that is exact, else ISO-8601. */
    public static String format(Duration d) {
        long s = d.getSeconds();
        if (d.getNano() != 0 || s <= 0) return d.toString();
        if (s % 86400 == 0) return s / 86400 + "d";
        if (s % 3600 == 0) return s / 3600 + "h";
        if (s % 60 == 0) return s / 60 + "m";
        return s + "s";
    }

    /** {@code HH:MM}, 24-hour. */
    public static LocalTime timeOfDay(String s) {
        Matcher m = TIME.matcher(s);
        if (!m.matches()) throw new IllegalArgumentException(quote(s) + " is not a time of day (use HH:MM, 00:00 to 23:59)");
        return LocalTime.of(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
    }

    /** {@code always} (no window: empty) or {@code HH:MM-HH:MM}; an end before the start spans midnight. */
    public static Optional<DesiredState.Window> window(String s) {
        if (s.equals("always")) return Optional.empty();
        int dash = s.indexOf('-');
        if (dash < 0 || !TIME.matcher(s.substring(0, dash)).matches() || !TIME.matcher(s.substring(dash + 1)).matches()) {
            throw new IllegalArgumentException(quote(s) + " is not a window (use HH:MM-HH:MM such as 03:00-06:00, or always)");
        }
        LocalTime start = timeOfDay(s.substring(0, dash)), end = timeOfDay(s.substring(dash + 1));
        if (start.equals(end)) throw new IllegalArgumentException("window starts and ends at " + start + " (use always for no window)");
        return Optional.of(new DesiredState.Window(start, end));
    }

    /** An IANA time-zone id such as {@code Europe/Berlin} or {@code UTC}; fixed offsets are refused as they ignore daylight saving. */
    public static ZoneId zone(String s) {
        if (!ZoneId.getAvailableZoneIds().contains(s)) {
            throw new IllegalArgumentException(quote(s) + " is not an IANA time zone (such as Europe/Berlin or UTC)");
        }
        return ZoneId.of(s);
    }

    /** An absolute http or https URL with a host. */
    public static URI httpUrl(String s) {
        try {
            URI u = new URI(s);
            if (u.getScheme() != null && (u.getScheme().equalsIgnoreCase("http") || u.getScheme().equalsIgnoreCase("https"))
                    && u.getHost() != null && !u.getHost().isEmpty()) {
                return u;
            }
        } catch (URISyntaxException e) {
            // same message as a wrong scheme: the operator needs the expected form, not the parser's complaint
        }
        throw new IllegalArgumentException(quote(s) + " is not an http or https URL");
    }

    /**
     * Alertmanager's base URL (http/https, maybe with the path prefix of its {@code --web.route-prefix}): the alerts go
     * to {@code <url>/api/v2/alerts}, so a URL that already names the API, a query or a fragment is a mistake.
     */
    public static URI alertmanagerUrl(String s) {
        URI u = httpUrl(s);
        String path = u.getPath() == null ? "" : u.getPath();
        if (path.contains("/api/") || u.getRawQuery() != null || u.getRawFragment() != null) {
            throw new IllegalArgumentException(quote(s) + " must be Alertmanager's base URL (e.g. http://127.0.0.1:9093): the controller adds /api/v2/alerts itself");
        }
        return u;
    }

    /**
     * An http(s) URL as for {@link #httpUrl}, without {@code user:password@}: the registry URL is handed to npm on its
     * command line, where every local user can read it in {@code ps}, and it is echoed in logs and events.
     */
    public static URI registryUrl(String s) {
        URI u = httpUrl(s);
        if (u.getRawUserInfo() != null) {
            String shown = u.getScheme() + "://***@" + u.getRawAuthority().substring(u.getRawAuthority().lastIndexOf('@') + 1) + (u.getRawPath() == null ? "" : u.getRawPath());
            throw new IllegalArgumentException(quote(shown) + " carries credentials (user:password@); a command line shows them to every local user:"
                    + " put them in npmrc (//host/:_authToken=... in /root/.npmrc or the file in NPM_CONFIG_USERCONFIG) and write the URL without them");
        }
        return u;
    }

    /** An absolute path without control characters. */
    public static Path absolutePath(String s) {
        if (hasControl(s)) throw new IllegalArgumentException(quote(s) + " contains a control character");
        if (!s.startsWith("/")) throw new IllegalArgumentException(quote(s) + " is not an absolute path");
        return Path.of(s);
    }

    public static Pattern regex(String s) {
        try {
            return Pattern.compile(s);
        } catch (PatternSyntaxException e) {
            return error("invalid regular expression " + quote(s) + ": " + e.getDescription()
                    + (e.getIndex() >= 0 ? " near index " + e.getIndex() : ""));
        }
    }

    /** An npm package name: lowercase {@code [a-z0-9._~-]}, optional {@code @scope/}, at most 214 characters. */
    public static String packageName(String s) {
        if (s == null || s.length() > MAX_PACKAGE_NAME || !NPM_NAME.matcher(s).matches()) {
            throw new IllegalArgumentException((s == null ? "(none)" : quote(s)) + " is not an npm package name (lowercase letters, digits, . _ ~ -,"
                    + " optionally @scope/, not starting with . _ or -)");
        }
        return s;
    }

    /** A systemd unit name with {@code {user}} exactly once, ending in {@code .service}. */
    public static String unitTemplate(String s) {
        if (count(s, DesiredState.USER_PLACEHOLDER) != 1) throw new IllegalArgumentException("must contain {user} exactly once (got " + quote(s) + ")");
        if (!s.endsWith(".service")) throw new IllegalArgumentException("must end with .service (got " + quote(s) + ")");
        if (!UNIT.matcher(s.replace(DesiredState.USER_PLACEHOLDER, "")).matches() || s.length() > 200) {
            throw new IllegalArgumentException(quote(s) + " is not a unit name (letters, digits and : _ . @ - \\ only)");
        }
        return s;
    }

    /** An absolute path that contains {@code {user}}. */
    public static String databaseTemplate(String s) {
        absolutePath(s);
        if (!s.contains(DesiredState.USER_PLACEHOLDER)) throw new IllegalArgumentException("must contain {user} (got " + quote(s) + ")");
        return s;
    }

    /** A path on the user's server: starts with one {@code /} (two would name another host). */
    public static String endpoint(String s) {
        if (!s.startsWith("/") || s.startsWith("//")) throw new IllegalArgumentException(quote(s) + " must start with / (a path on the server, such as /api/auth/bootstrap)");
        if (hasControl(s) || s.chars().anyMatch(Character::isWhitespace)) throw new IllegalArgumentException(quote(s) + " contains a space or control character");
        return s;
    }

    /** {@code host:port} (IPv6 in brackets) or {@code off}. */
    public static String metrics(String s) {
        if (s.equals("off")) return s;
        Matcher m = HOST_PORT.matcher(s);
        if (!m.matches() || Integer.parseInt(m.group(2)) < 1 || Integer.parseInt(m.group(2)) > 65535) {
            throw new IllegalArgumentException(quote(s) + " is not host:port (such as 127.0.0.1:9464) or off");
        }
        return s;
    }

    /** {@code system}, {@code session}, or a unix D-Bus address such as {@code unix:path=/run/user/1000/bus}. */
    public static String bus(String s) {
        if (s.equals("system") || s.equals("session") || DBUS_UNIX.matcher(s).matches()) return s;
        throw new IllegalArgumentException(quote(s) + " is not a bus (system, session, or unix:path=...)");
    }

    public static Channel channel(String s) { return Channel.fromTag(s); }

    public static DesiredState.BreakerPolicy breakerPolicy(String s) {
        return switch (s) {
            case "freeze" -> DesiredState.BreakerPolicy.FREEZE;
            case "backoff" -> DesiredState.BreakerPolicy.BACKOFF;
            default -> error(quote(s) + " is not a breaker policy (expected freeze or backoff)");
        };
    }

    public static DesiredState.Approval approval(String s) {
        return switch (s) {
            case "auto" -> DesiredState.Approval.AUTO;
            case "manual" -> DesiredState.Approval.MANUAL;
            default -> error(quote(s) + " is not an approval mode (expected auto or manual)");
        };
    }

    /** An account the controller switches to: a valid name, and never root (that would run candidate code as root). */
    public static String accountName(String s) {
        User.requireValidName(s);
        if (s.equals("root")) error("'root' may not run candidate code; name a dedicated unprivileged account");
        return s;
    }

    public static String userName(String s) {
        User.requireValidName(s);
        return s;
    }

    /** {@code 'text'} with control and non-printable characters escaped and long text cut, safe in a one-line message. */
    static String quote(String s) {
        return "'" + printable(s) + "'";
    }

    static String printable(String s) {
        return escape(s, 80);
    }

    /** Control, line-separator and byte-order-mark characters as {@code \\uXXXX}; at most {@code limit} code points. */
    static String escape(String s, int limit) {
        StringBuilder b = new StringBuilder();
        int[] cps = s.codePoints().limit(limit + 1L).toArray();
        for (int i = 0; i < Math.min(cps.length, limit); i++) {
            int c = cps[i];
            if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x2028 || c == 0x2029 || c == 0xfeff) b.append(String.format("\\u%04x", c));
            else b.appendCodePoint(c);
        }
        if (cps.length > limit) b.append("...");
        return b.toString();
    }

    static String oneLine(String s) {
        return s.replaceAll("\\s*[\\r\\n\\u0085\\u2028\\u2029]+\\s*", " ").strip();
    }

    private static boolean hasControl(String s) {
        return s.codePoints().anyMatch(c -> c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0));
    }

    private static int count(String s, String part) {
        int n = 0;
        for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) n++;
        return n;
    }

    private static <T> T error(String message) {
        throw new IllegalArgumentException(message);
    }
}
