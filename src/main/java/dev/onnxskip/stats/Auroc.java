package dev.onnxskip.stats;

import java.util.OptionalDouble;
import org.apache.commons.math3.stat.ranking.NaNStrategy;
import org.apache.commons.math3.stat.ranking.NaturalRanking;
import org.apache.commons.math3.stat.ranking.TiesStrategy;

/**
 * Area under the ROC curve: the probability that a random example of a class scores higher for it
 * than a random example of another class, a tie counting one half. Accuracy only sees the argmax; the
 * AUROC says whether a variant still ranks a label's examples above the rest, so a variant whose
 * accuracy collapsed because its logits shifted towards one label, but whose ordering survived, shows
 * as such (and {@link ClassOffsets} can recover it).
 */
public final class Auroc {

  private Auroc() {}

  /**
   * One class against the rest, from the Mann–Whitney statistic with mid-ranks for ties:
   * {@code (R - P(P+1)/2) / (P·N)} with R the rank sum of the P positives and N negatives. Empty when
   * either side has no examples.
   *
   * @param scores each example's score for the class, higher meaning more likely
   * @param positive whether each example belongs to the class
   */
  public static OptionalDouble oneVsRest(double[] scores, boolean[] positive) {
    if (scores.length != positive.length) {
      throw new IllegalArgumentException(scores.length + " scores but " + positive.length + " labels");
    }
    for (int i = 0; i < scores.length; i++) {
      if (Double.isNaN(scores[i])) {
        throw new IllegalArgumentException("score of example " + i + " is NaN");
      }
    }
    long positives = 0;
    double rankSum = 0;
    double[] ranks = new NaturalRanking(NaNStrategy.FAILED, TiesStrategy.AVERAGE).rank(scores);
    for (int i = 0; i < scores.length; i++) {
      if (positive[i]) {
        positives++;
        rankSum += ranks[i];
      }
    }
    long negatives = scores.length - positives;
    if (positives == 0 || negatives == 0) {
      return OptionalDouble.empty();
    }
    return OptionalDouble.of((rankSum - positives * (positives + 1) / 2.0) / ((double) positives * negatives));
  }

  /**
   * The mean one-vs-rest AUROC over the classes that have both examples and non-examples; empty when
   * none has.
   *
   * @param scores {@code scores[i][c]}, example i's score (a logit or probability) for class c
   * @param gold each example's class index
   */
  public static OptionalDouble macro(double[][] scores, int[] gold) {
    if (scores.length != gold.length) {
      throw new IllegalArgumentException(scores.length + " score rows but " + gold.length + " gold labels");
    }
    if (scores.length == 0) {
      return OptionalDouble.empty();
    }
    int classes = scores[0].length;
    double[][] columns = new double[classes][scores.length];
    for (int i = 0; i < scores.length; i++) {
      if (scores[i].length != classes) {
        throw new IllegalArgumentException("score row " + i + " has " + scores[i].length + " classes, not " + classes);
      }
      if (gold[i] < 0 || gold[i] >= classes) {
        throw new IllegalArgumentException("gold class " + gold[i] + " of example " + i + " is outside the " + classes + " classes");
      }
      for (int c = 0; c < classes; c++) {
        columns[c][i] = scores[i][c];
      }
    }
    double sum = 0;
    int counted = 0;
    for (int c = 0; c < classes; c++) {
      boolean[] positive = new boolean[gold.length];
      for (int i = 0; i < gold.length; i++) {
        positive[i] = gold[i] == c;
      }
      OptionalDouble auroc = oneVsRest(columns[c], positive);
      if (auroc.isPresent()) {
        sum += auroc.getAsDouble();
        counted++;
      }
    }
    return counted == 0 ? OptionalDouble.empty() : OptionalDouble.of(sum / counted);
  }
}
