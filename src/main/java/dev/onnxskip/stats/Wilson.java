package dev.onnxskip.stats;

import java.util.Optional;
import org.apache.commons.math3.distribution.NormalDistribution;

/**
 * The Wilson score interval for a proportion: the range of true accuracies with which {@code
 * successes} right out of {@code trials} is compatible at the given confidence. Unlike the plain
 * normal interval {@code p ± z·sqrt(p(1-p)/n)} it stays inside [0, 1] and keeps close to its nominal
 * coverage for small labels and for accuracies near 0 or 1, which is where a skipped span leaves many
 * labels (Newcombe 1998, method 3).
 *
 * @param successes examples predicted correctly
 * @param trials examples of the label (its support)
 * @param confidence the interval's nominal coverage, such as 0.95
 * @param lower the lower bound, 0 when there are no successes
 * @param upper the upper bound, 1 when every trial succeeded
 */
public record Wilson(long successes, long trials, double confidence, double lower, double upper) {

  public static final double DEFAULT_CONFIDENCE = 0.95;

  /** The 95% interval; empty when there are no trials, since a label without examples has no accuracy. */
  public static Optional<Wilson> of(long successes, long trials) {
    return of(successes, trials, DEFAULT_CONFIDENCE);
  }

  /** The interval at {@code confidence}; empty when there are no trials. */
  public static Optional<Wilson> of(long successes, long trials, double confidence) {
    if (trials < 0 || successes < 0 || successes > trials) {
      throw new IllegalArgumentException(successes + " successes out of " + trials + " trials");
    }
    if (!(confidence > 0 && confidence < 1)) {
      throw new IllegalArgumentException("confidence " + confidence + " is not between 0 and 1");
    }
    if (trials == 0) {
      return Optional.empty();
    }
    double[] bounds = bounds((double) successes / trials, trials, confidence);
    // The bounds meet 0 and 1 exactly in theory; rounding must not push them outside.
    double lower = successes == 0 ? 0 : bounds[0];
    double upper = successes == trials ? 1 : bounds[1];
    return Optional.of(new Wilson(successes, trials, confidence, lower, upper));
  }

  /**
   * The Wilson bounds for proportion {@code p} observed over {@code n} trials, where n need not be
   * whole (an effective sample size), clipped to [0, 1].
   */
  static double[] bounds(double p, double n, double confidence) {
    double z = twoSidedZ(confidence);
    double z2n = z * z / n;
    double centre = (p + z2n / 2) / (1 + z2n);
    double halfWidth = z / (1 + z2n) * Math.sqrt(p * (1 - p) / n + z2n / (4 * n));
    return new double[] {Math.max(0, centre - halfWidth), Math.min(1, centre + halfWidth)};
  }

  /** The standard normal quantile that leaves {@code (1 - confidence) / 2} in each tail. */
  private static double twoSidedZ(double confidence) {
    return new NormalDistribution().inverseCumulativeProbability(1 - (1 - confidence) / 2);
  }
}
