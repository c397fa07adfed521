package t3.reconciler.controller.e2e;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * docs/alerts' rules with their durations shortened so that a test sees them fire and resolve in seconds, and
 * nothing else changed: {@link #sameApartFromDurations} is what proves it (both texts with every duration replaced by
 * one placeholder must be identical). Durations are a rule's {@code for:}, a range {@code [..]}, an {@code offset ..}
 * and a number of days written as {@code N * 86400} seconds (20 s is written {@code 20 * 1}, so it is still one).
 */
final class TestRules {
    private static final Pattern FOR = Pattern.compile("(?m)^(\\s*for: )\\d+[smhdwy]$");
    private static final Pattern RANGE = Pattern.compile("\\[\\d+[smhdwy]\\]");
    private static final Pattern OFFSET = Pattern.compile("offset \\d+[smhdwy]\\b");
    private static final Pattern DAYS = Pattern.compile("\\b\\d+ \\* (?:86400|1)\\b");

    private TestRules() {}

    /** {@code for} becomes 2 s; a look-back window (range, offset) and a threshold in days become 20 s. */
    static String shortened(String rules) {
        String s = FOR.matcher(rules).replaceAll("$1" + "2s");
        s = RANGE.matcher(s).replaceAll(Matcher.quoteReplacement("[20s]"));
        s = OFFSET.matcher(s).replaceAll("offset 20s");
        return DAYS.matcher(s).replaceAll("20 * 1");
    }

    static String durationsErased(String rules) {
        String s = FOR.matcher(rules).replaceAll("$1<d>");
        s = RANGE.matcher(s).replaceAll("[<d>]");
        s = OFFSET.matcher(s).replaceAll("offset <d>");
        return DAYS.matcher(s).replaceAll("<d>");
    }

    static boolean sameApartFromDurations(String original, String copy) {
        return durationsErased(original).equals(durationsErased(copy));
    }
}
