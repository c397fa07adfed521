package t3.reconciler.controller.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Issue 15's table from made-up figures: each row against its own baseline, "met" exactly when at most the goal. */
class Issue15RowsTest {
    static ScriptBench.Result script(double ctl3, double scr3, double gap, double fineGap) {
        Map<Integer, double[]> wall = new LinkedHashMap<>();
        wall.put(3, new double[] {scr3, ctl3});
        wall.put(20, new double[] {30, 19});
        return new ScriptBench.Result("x", 3, 20, wall, 150, gap, 160, 140, fineGap, 150, 0.12, 0.2, 0.5, 0.08, 0.4, 0.2, 2.0, 31, 22.5, 500, 40, 0.4, 0.3);
    }

    static Issue15Rows.Row row(List<Issue15Rows.Row> rows, String prefix) {
        return rows.stream().filter(r -> r.figure().startsWith(prefix)).findFirst().orElseThrow(() -> new AssertionError("no row " + prefix + " in " + rows));
    }

    @Test
    void aRatioGoalIsMetAtMostAtItsLimitAgainstTheSameRunsBaseline() {
        Issue15Rows.Side after = new Issue15Rows.Side(script(1.5, 3.0, 180, 169), null, null);
        Issue15Rows.Side before = new Issue15Rows.Side(script(9.0, 3.0, 200, 200), null, null);
        List<Issue15Rows.Row> rows = Issue15Rows.rows(before, after, new Issue15Rows.Baselines(3, 1000, 500, 1000), List.of());
        Issue15Rows.Row bump = row(rows, "good bump, 3 users");
        assertEquals(1.0, bump.ofGoal(), 1e-9);
        assertEquals("**met**", bump.met());
        assertTrue(bump.before().contains("3.00×"), bump.before());
        // 180 / 150 = 1.2×: exactly the goal; at 10 ms, 169 / 140 is above it.
        assertEquals("**met**", row(rows, "per-user unavailability").met());
        assertEquals("missed", row(rows, "the same at a 10 ms probe").met());
        assertEquals("**met**", row(rows, "good bump, 20 users").met()); // 19 s ≤ 20 s
        assertEquals("missed", row(rows, "converged `run --once`").met()); // 0.4 / 0.3 > 0.5
    }

    @Test
    void aListOfMoreThanOneCallMissesWhateverItsTime() {
        Issue15Rows.Actuators a = new Issue15Rows.Actuators(50, 2, 5, 1, 10, 7001, 1200);
        List<Issue15Rows.Row> rows = Issue15Rows.rows(null, new Issue15Rows.Side(null, a, null), new Issue15Rows.Baselines(3, 1000, 500, 1000), List.of());
        assertEquals("**met**", row(rows, "converged unit list, 3 units").met());
        assertEquals("missed", row(rows, "converged unit list, 1000 units").met());
        assertEquals("**met**", row(rows, "backup of 500 MB").met()); // 1.2× ≤ 1.3×
        assertEquals("-", row(rows, "channel resolution").before());
    }

    @Test
    void aPartNotRunIsSaidSoAndAChildWithoutItsResultLineIsAnError() {
        Issue15Rows.Row r = new Issue15Rows.Row("x", "≤ 1", "-", "-", Double.NaN);
        assertEquals("not measured", r.met());
        assertEquals(Map.of("ms", "7.5", "calls", "1"), Issue15Rows.parseResult("noise\nRESULT ms=7.5 calls=1\n"));
        assertThrows(IllegalStateException.class, () -> Issue15Rows.parseResult("Exception in thread main"));
    }
}
