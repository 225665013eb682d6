package io.compozy.cache.bench;

import java.util.Arrays;
import java.util.List;

/** Medians and percentiles, nothing more. */
final class Stats {

    private Stats() {
    }

    static double median(final List<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    static double percentile(final long[] nanos, final int count, final double p) {
        long[] sorted = Arrays.copyOf(nanos, count);
        Arrays.sort(sorted);
        return sorted[Math.min(count - 1, (int) Math.ceil(p / 100.0 * count) - 1)] / 1_000_000.0;
    }
}
