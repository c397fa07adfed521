package t3.reconciler.model;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** "Did you mean": the known key nearest to a misspelt one, if any is near enough to be a likely typo. */
final class Suggest {
    private Suggest() {}

    static Optional<String> closest(String typed, List<String> known) {
        String t = normal(typed);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : known) {
            int d = distance(t, normal(k));
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        // A third of the key's length catches typos and case or separator slips without offering nonsense.
        return best != null && bestDistance <= Math.max(2, best.length() / 3) ? Optional.of(best) : Optional.empty();
    }

    /** health_check, Health-Check and healthcheck all mean healthCheck. */
    private static String normal(String s) {
        return s.toLowerCase(Locale.ROOT).replace("_", "").replace("-", "");
    }

    /** Levenshtein distance; keys are short, and an over-long typed key is cut to keep this cheap. */
    static int distance(String a, String b) {
        if (a.length() > 64) a = a.substring(0, 64);
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j], cur[j - 1]) + 1);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
