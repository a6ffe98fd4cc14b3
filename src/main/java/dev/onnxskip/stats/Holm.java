package dev.onnxskip.stats;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Holm–Bonferroni adjusted p-values. A run tests every span on every label, so some p-values fall
 * below 0.05 by chance alone; rejecting where the adjusted value is below alpha keeps the chance of
 * any false rejection among the whole family at most alpha, with more power than plain Bonferroni and
 * no assumption about how the tests depend on each other.
 */
public final class Holm {

  private Holm() {}

  /**
   * The adjusted p-values, in the order given. Sorted ascending, the i-th smallest (from 0) of m is
   * multiplied by {@code m - i}, capped at 1, and raised to the largest adjusted value before it, so
   * that the adjustment never reverses the order of two p-values.
   */
  public static double[] adjust(double[] pValues) {
    for (int i = 0; i < pValues.length; i++) {
      if (!(pValues[i] >= 0 && pValues[i] <= 1)) {
        throw new IllegalArgumentException("p-value " + i + " is " + pValues[i] + ", not in [0, 1]");
      }
    }
    int m = pValues.length;
    Integer[] ascending = IntStream.range(0, m).boxed().toArray(Integer[]::new);
    Arrays.sort(ascending, Comparator.comparingDouble(i -> pValues[i]));
    double[] adjusted = new double[m];
    double running = 0;
    for (int rank = 0; rank < m; rank++) {
      int i = ascending[rank];
      running = Math.max(running, Math.min(1, (m - rank) * pValues[i]));
      adjusted[i] = running;
    }
    return adjusted;
  }
}
