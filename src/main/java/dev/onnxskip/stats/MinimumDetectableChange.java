package dev.onnxskip.stats;

import java.util.OptionalDouble;
import java.util.function.DoubleUnaryOperator;
import org.apache.commons.math3.analysis.solvers.UnivariateSolverUtils;
import org.apache.commons.math3.distribution.NormalDistribution;

/**
 * The smallest change in a label's accuracy that its support lets a test find: a span whose change is
 * well below it may still matter, the data are just too few to tell. A label of 20 examples cannot
 * tell a drop of 5 points from noise, and the report should say so rather than call the span harmless.
 *
 * <p>The figure is that of a one-sample test of a proportion by the normal approximation, not of the
 * paired McNemar test the variants are judged by: the change d from the baseline accuracy p to p' =
 * p ± d is the smallest at which a two-sided test at level alpha, with the null standard error
 * sqrt(p(1-p)/n), rejects with probability {@code power}:
 * {@code z_{1-alpha/2}·sqrt(p(1-p)/n) + z_power·sqrt(p'(1-p')/n) = d}. It treats the baseline's
 * accuracy as known and ignores the pairing, so it is a yardstick of what a label's support allows,
 * needing nothing but the baseline; the power of the McNemar test itself depends on how many examples
 * a variant changes either way, which is not known before it runs.
 *
 * @param baseline the baseline's accuracy on the label
 * @param support the label's number of examples
 * @param alpha the two-sided test level
 * @param power the probability of detecting a change of this size
 * @param drop the smallest detectable decrease, empty if not even an accuracy of 0 would be detected
 * @param rise the smallest detectable increase, empty if not even an accuracy of 1 would be detected
 */
public record MinimumDetectableChange(
    double baseline, long support, double alpha, double power, OptionalDouble drop, OptionalDouble rise) {

  public static final double DEFAULT_ALPHA = 0.05;
  public static final double DEFAULT_POWER = 0.8;

  /**
   * The power equation can have several roots where p' nears 0 or 1 on a small label; the smallest is
   * found by scanning this many steps from d = 0 before refining the first bracket.
   */
  private static final int SCAN_STEPS = 1000;

  /** At alpha 0.05 and power 0.8. */
  public static MinimumDetectableChange of(double baseline, long support) {
    return of(baseline, support, DEFAULT_ALPHA, DEFAULT_POWER);
  }

  public static MinimumDetectableChange of(double baseline, long support, double alpha, double power) {
    if (!(baseline >= 0 && baseline <= 1)) {
      throw new IllegalArgumentException("baseline accuracy " + baseline + " is not in [0, 1]");
    }
    if (support <= 0) {
      throw new IllegalArgumentException("support " + support + " has no examples to detect a change in");
    }
    if (!(alpha > 0 && alpha < 1) || !(power > 0 && power < 1)) {
      throw new IllegalArgumentException("alpha " + alpha + " and power " + power + " must lie between 0 and 1");
    }
    NormalDistribution normal = new NormalDistribution();
    double zAlpha = normal.inverseCumulativeProbability(1 - alpha / 2);
    double zPower = normal.inverseCumulativeProbability(power);
    double n = support;
    double nullError = zAlpha * Math.sqrt(baseline * (1 - baseline) / n);
    DoubleUnaryOperator shortfallDown = d -> d - nullError - zPower * standardError(baseline - d, n);
    DoubleUnaryOperator shortfallUp = d -> d - nullError - zPower * standardError(baseline + d, n);
    return new MinimumDetectableChange(baseline, support, alpha, power,
        smallestRoot(shortfallDown, baseline), smallestRoot(shortfallUp, 1 - baseline));
  }

  private static double standardError(double accuracy, double n) {
    return Math.sqrt(Math.max(0, accuracy * (1 - accuracy)) / n);
  }

  /**
   * The smallest d in (0, range] where the shortfall reaches 0. The scan starts just above 0: at a
   * baseline of 0 or 1 the shortfall is 0 at d = 0 itself, which is no change.
   */
  private static OptionalDouble smallestRoot(DoubleUnaryOperator shortfall, double range) {
    if (range <= 0) {
      return OptionalDouble.empty();
    }
    double below = range * 1e-12;
    for (int step = 1; step <= SCAN_STEPS; step++) {
      double above = range * step / SCAN_STEPS;
      if (shortfall.applyAsDouble(above) >= 0) {
        // Already reached at the start only on a baseline of 0 or 1 with an enormous support.
        return OptionalDouble.of(shortfall.applyAsDouble(below) >= 0
            ? below
            : UnivariateSolverUtils.solve(shortfall::applyAsDouble, below, above, 1e-12));
      }
      below = above;
    }
    return OptionalDouble.empty();
  }
}
