package dev.onnxskip.stats;

import java.util.Arrays;
import java.util.Optional;
import java.util.Random;

/**
 * A paired bootstrap 95% percentile interval for the change in accuracy from the baseline to a variant
 * on the same examples. Each resample draws as many example indices as there are examples, with
 * replacement, and takes the change over them, so the pairing is kept: an example fixed or broken by
 * the variant counts in both accuracies at once, which gives a narrower and more honest interval than
 * two independent intervals would.
 *
 * <p>The bounds are nearest-rank percentiles of the sorted resampled changes: the {@code ⌈0.025·N⌉}-th
 * and the {@code ⌈0.975·N⌉}-th of N. Indices are drawn by {@link Random}, whose sequence for a seed is
 * fixed by its specification, so a seed gives the same interval on every JVM.
 *
 * @param observed the change over all examples: variant accuracy minus baseline accuracy
 * @param lower the lower bound of the change
 * @param upper the upper bound of the change
 * @param resamples how many resamples the bounds come from
 * @param seed the seed the indices were drawn from
 */
public record PairedBootstrap(double observed, double lower, double upper, int resamples, long seed) {

  /** The tails left out on each side, in thousandths, so that ranks are found in exact integers. */
  private static final int TAIL_PER_MILLE = 25;

  /**
   * The interval over {@code resamples} resamples; empty when there are no resamples or no examples.
   * {@code baseline[i]} and {@code variant[i]} say whether each got example {@code i} right.
   */
  public static Optional<PairedBootstrap> of(boolean[] baseline, boolean[] variant, int resamples, long seed) {
    if (baseline.length != variant.length) {
      throw new IllegalArgumentException(
          baseline.length + " baseline examples but " + variant.length + " variant examples");
    }
    if (resamples < 0) {
      throw new IllegalArgumentException("negative number of resamples " + resamples);
    }
    int n = baseline.length;
    if (resamples == 0 || n == 0) {
      return Optional.empty();
    }
    // Per example the variant gains 1 (fixed), loses 1 (broken) or neither: the change is their mean.
    int[] gain = new int[n];
    long total = 0;
    for (int i = 0; i < n; i++) {
      gain[i] = (variant[i] ? 1 : 0) - (baseline[i] ? 1 : 0);
      total += gain[i];
    }
    Random random = new Random(seed);
    double[] changes = new double[resamples];
    for (int r = 0; r < resamples; r++) {
      long sum = 0;
      for (int j = 0; j < n; j++) {
        sum += gain[random.nextInt(n)];
      }
      changes[r] = (double) sum / n;
    }
    Arrays.sort(changes);
    double lower = changes[nearestRank(TAIL_PER_MILLE, resamples)];
    double upper = changes[nearestRank(1000 - TAIL_PER_MILLE, resamples)];
    return Optional.of(new PairedBootstrap((double) total / n, lower, upper, resamples, seed));
  }

  /** The 0-based index of the {@code ⌈n·perMille/1000⌉}-th smallest of n values. */
  private static int nearestRank(int perMille, int n) {
    long rank = ((long) n * perMille + 999) / 1000;
    return (int) Math.max(0, rank - 1);
  }
}
