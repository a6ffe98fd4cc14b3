package dev.onnxskip.stats;

import java.util.Optional;

/**
 * Balanced accuracy, the mean of the labels' recalls, with a Wilson-type interval: it weighs every
 * label alike, so a variant that sends every example to the majority label scores 1/labels, not the
 * majority's share.
 *
 * <p>The interval is Wilson's score interval at the effective sample size (Kish) of the mean: the
 * n at which a single proportion equal to the balanced accuracy would have the same binomial variance,
 * n_eff = BA(1 − BA) / Var, with Var = Σ_k r_k(1 − r_k)/n_k / K² over the K labels with examples. It
 * keeps Wilson's behaviour near 0 and 1; where every recall is 0 or 1 the variance estimate is 0 and
 * the interval uses all examples as n.
 *
 * @param value the mean recall over labels with examples
 * @param effectiveTrials n_eff
 */
public record BalancedAccuracy(double value, double effectiveTrials, double confidence, double lower, double upper) {

  /**
   * @param right examples predicted right, per label
   * @param support examples, per label; labels without examples are left out of the mean
   * @return empty when no label has examples
   */
  public static Optional<BalancedAccuracy> of(long[] right, long[] support, double confidence) {
    int labels = 0;
    double sum = 0;
    double variance = 0;
    long total = 0;
    for (int k = 0; k < support.length; k++) {
      if (support[k] > 0) {
        double r = (double) right[k] / support[k];
        labels++;
        sum += r;
        variance += r * (1 - r) / support[k];
        total += support[k];
      }
    }
    if (labels == 0) {
      return Optional.empty();
    }
    double value = sum / labels;
    variance /= (double) labels * labels;
    double n = variance > 0 ? value * (1 - value) / variance : total;
    double[] bounds = Wilson.bounds(value, n, confidence);
    // As for Wilson's own bounds: exactly 0 and 1 at the ends, whatever the rounding.
    return Optional.of(new BalancedAccuracy(value, n, confidence, value == 0 ? 0 : bounds[0], value == 1 ? 1 : bounds[1]));
  }
}
