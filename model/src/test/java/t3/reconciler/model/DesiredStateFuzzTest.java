package t3.reconciler.model;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Mutates the example file at random (fixed seed, so a failure reproduces) and checks the loader's
 * contract: it returns a state or throws {@link InvalidDesiredStateException} whose every problem names a
 * field and a real position. Anything else (a stack trace, an internal error) would reach the operator raw.
 */
class DesiredStateFuzzTest {
    private static final long SEED = 20260608L;
    private static final int CASES = 2000;
    private static final String[] SNIPPETS = {
            ":", ": ", "- ", "[", "]", "{", "}", ",", "&a ", "*a", "!!str ", "!!binary ", "|", ">", "#", "'", "\"", "\\", "\t", "\n",
            "\r\n", "\u0000", "\u0085", "\u2028", "\uFEFF", "\uD83D\uDE00", "\u0661", "---\n", "...\n", "? ", "<<: ", "%YAML 1.2\n",
            "~", "null", "yes", "no", "off", "0x1F", "1e9", "-1", "99999999999999999999", ".inf", "''", "\"\\u0000\"",
            "/", "//", "..", "{user}", "v", "0.0.25", "PT", "0s", "24:00", "always", "@", "%", "\u00e9", "\u0130"};

    @Test
    void mutatedExampleFilesOnlyEverYieldAStateOrPositionedProblems() throws Exception {
        String example = Files.readString(DesiredStateLoaderTest.exampleFile());
        Random random = new Random(SEED);
        int[] outcomes = new int[2];
        // One deadline for the lot: a hang or a blow-up in the parser fails instead of stalling the build.
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int i = 0; i < CASES; i++) {
                outcomes[check(i, mutate(example, random, 1 + random.nextInt(4))) ? 0 : 1]++;
            }
        });
        // Both outcomes must actually occur, or the mutations are not exercising anything.
        assertTrue(outcomes[0] > 50 && outcomes[1] > 500, "valid " + outcomes[0] + ", invalid " + outcomes[1]);
    }

    private static boolean check(int n, String yaml) {
        long lines = yaml.lines().count() + 2;
        try {
            DesiredStateLoader.parse(yaml, Path.of("fuzz.yaml"));
            return true;
        } catch (InvalidDesiredStateException e) {
            assertFalse(e.problems().isEmpty());
            for (Problem p : e.problems()) {
                String where = "case " + n + ": " + p + "\n--- input ---\n" + yaml;
                assertTrue(p.line() >= 1 && p.column() >= 1, where);
                assertTrue(p.file().equals(Path.of("fuzz.yaml")) || p.field().equals("usersFile"), where);
                assertTrue(p.line() <= lines || !p.file().equals(Path.of("fuzz.yaml")), where);
                assertFalse(p.field().isBlank(), where);
                assertFalse(p.message().isBlank(), where);
                assertFalse(p.message().contains("internal error"), where);
                assertFalse(p.toString().chars().anyMatch(c -> c < 0x20), where);
            }
            return false;
        } catch (RuntimeException e) {
            fail("case " + n + " threw " + e + "\n--- input ---\n" + yaml, e);
            return false;
        }
    }

    private static String mutate(String text, Random r, int times) {
        List<String> lines = new ArrayList<>(Arrays.asList(text.split("\n", -1)));
        for (int t = 0; t < times; t++) {
            int i = r.nextInt(lines.size());
            String line = lines.get(i);
            int at = line.isEmpty() ? 0 : r.nextInt(line.length() + 1);
            switch (r.nextInt(9)) {
                case 0 -> lines.set(i, line.substring(0, at) + SNIPPETS[r.nextInt(SNIPPETS.length)] + line.substring(at));
                case 1 -> lines.remove(i);
                case 2 -> lines.add(i, line);
                case 3 -> lines.set(i, line.substring(0, at) + (at < line.length() ? line.substring(at + 1) : ""));
                case 4 -> lines.set(i, " ".repeat(r.nextInt(4)) + line.stripLeading());
                case 5 -> {
                    int colon = line.indexOf(": ");
                    if (colon > 0) lines.set(i, line.substring(0, colon + 2) + SNIPPETS[r.nextInt(SNIPPETS.length)]);
                }
                case 6 -> {
                    int j = r.nextInt(lines.size());
                    lines.set(i, lines.get(j));
                    lines.set(j, line);
                }
                case 7 -> lines.set(i, line.startsWith("# ") ? line.substring(2) : "# " + line);
                default -> lines.set(i, line.replaceFirst("[a-z]", String.valueOf((char) ('A' + r.nextInt(26)))));
            }
            if (lines.isEmpty()) lines.add("");
        }
        return String.join("\n", lines);
    }
}
