package dev.onnxskip.stats;

import org.apache.commons.math3.distribution.BinomialDistribution;

/**
 * The exact McNemar test of whether a variant and the baseline differ in accuracy on the same
 * examples. Only the discordant examples carry information: under the null hypothesis each of the
 * {@code fixed + broken} is equally likely to fall either way, so the smaller count is referred to
 * Bin(fixed + broken, 1/2) and the two-sided p-value is {@code min(1, 2·P(X ≤ min(fixed, broken)))}.
 * The exact binomial rather than the chi-squared approximation, because per-label discordant counts
 * are often a handful.
 *
 * @param fixed examples the baseline got wrong and the variant right
 * @param broken examples the baseline got right and the variant wrong
 * @param pValue the two-sided p-value; 1 when there are no discordant examples (no evidence either way)
 */
public record McNemar(int fixed, int broken, double pValue) {

  public static McNemar test(int fixed, int broken) {
    if (fixed < 0 || broken < 0) {
      throw new IllegalArgumentException("negative discordant count: fixed " + fixed + ", broken " + broken);
    }
    int discordant = Math.addExact(fixed, broken);
    if (discordant == 0) {
      return new McNemar(fixed, broken, 1);
    }
    // The tail as a sum of point probabilities: cumulativeProbability goes through the regularized
    // beta function and returns 0 for tails far below 1e-16, which a clear effect on a few hundred
    // examples reaches, and a p-value of 0 would claim certainty.
    BinomialDistribution chance = new BinomialDistribution(null, discordant, 0.5);
    double tail = 0;
    for (int k = 0; k <= Math.min(fixed, broken); k++) {
      tail += chance.probability(k);
    }
    return new McNemar(fixed, broken, Math.min(1, 2 * tail));
  }
}
