package t3.reconciler.controller.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Median and p90 (nearest rank) of a sample. */
record Stats(int n, double median, double p90, double min, double max) {
    static Stats of(List<Double> xs) {
        if (xs.isEmpty()) return new Stats(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        int n = s.size();
        double median = n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
        double p90 = s.get(Math.min(n - 1, (int) Math.ceil(0.9 * n) - 1));
        return new Stats(n, median, p90, s.get(0), s.get(n - 1));
    }
}
