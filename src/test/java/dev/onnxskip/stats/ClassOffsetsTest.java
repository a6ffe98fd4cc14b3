package dev.onnxskip.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class ClassOffsetsTest {

  private static final double[][] LOGITS = {
      {2.0, 0.5, -1.0}, {0.3, 1.2, 0.1}, {-0.5, 0.0, 1.5}, {1.0, 1.1, 0.9}, {0.2, -0.3, 0.4},
      {1.7, 0.2, 0.3}, {0.0, 2.2, -0.4}, {0.6, 0.5, 0.7}, {-1.0, 0.8, 0.1}, {0.4, 0.3, -0.2},
  };
  private static final int[] GOLD = {0, 1, 2, 2, 0, 0, 1, 2, 1, 2};

  /**
   * With every logit 0 the model is the softmax of the offsets alone, whose likelihood is largest at
   * the gold frequencies 1/8, 2/8, 5/8. Less their mean: ln 1 = 0, ln 2 = 0.693147, ln 5 = 1.609438,
   * mean 0.767528, so -0.767528, -0.074381, 0.841910.
   */
  @Test
  void zeroLogitsGiveTheLogFrequencies() {
    double[][] zeros = new double[8][3];
    int[] gold = {0, 1, 1, 2, 2, 2, 2, 2};
    assertArrayEquals(new double[] {-0.767528, -0.074381, 0.841910}, values(ClassOffsets.fit(zeros, gold)), 1e-6);
  }

  /**
   * Shifting class 1's logits by s = 3 is undone by lowering its offset by 3; fixing the mean at 0 then
   * raises all three by s/3 = 1.
   */
  @Test
  void aShiftOfOneClassIsUndone() {
    double[] before = values(ClassOffsets.fit(LOGITS, GOLD));
    double[][] shifted = new double[LOGITS.length][];
    for (int i = 0; i < LOGITS.length; i++) {
      shifted[i] = LOGITS[i].clone();
      shifted[i][1] += 3;
    }
    double[] after = values(ClassOffsets.fit(shifted, GOLD));
    assertArrayEquals(new double[] {before[0] + 1, before[1] - 2, before[2] + 1}, after, 1e-8);
  }

  /** At the maximum the gradient vanishes: the predicted probabilities of each class sum to its count. */
  @Test
  void theFittedProbabilitiesMatchTheGoldCounts() {
    double[] b = values(ClassOffsets.fit(LOGITS, GOLD));
    assertArrayEquals(goldCounts(GOLD, 3), probabilitySums(LOGITS, b), 1e-8);
    assertEquals(0, b[0] + b[1] + b[2], 1e-12);
  }

  /**
   * Class 1 leads by 60 on every other example, so at offsets of 0 the softmax gives it all the
   * probability there in floating point; the fit must still reach the maximum.
   */
  @Test
  void fitsLogitsThatSaturateTheSoftmax() {
    double[][] logits = new double[40][3];
    int[] gold = new int[40];
    for (int i = 0; i < 40; i++) {
      gold[i] = i % 5 == 0 ? 1 : i % 3 == 0 ? 2 : 0;
      logits[i][gold[i]] = 2 + (i % 7) * 0.3;
      logits[i][1] += i % 2 == 0 ? 60 : 0;
      logits[i][2] -= 35;
    }
    double[] b = values(ClassOffsets.fit(logits, gold));
    assertArrayEquals(goldCounts(gold, 3), probabilitySums(logits, b), 1e-6);
  }

  /** Class 1 has no gold examples: it is never predicted, and classes 0 and 2 take ln(1/3) and ln(2/3) less their mean. */
  @Test
  void aClassWithoutExamplesIsNeverPredicted() {
    ClassOffsets fitted = ClassOffsets.fit(new double[3][3], new int[] {0, 2, 2});
    double half = Math.log(2) / 2;
    assertArrayEquals(new double[] {-half, Double.NEGATIVE_INFINITY, half}, values(fitted), 1e-12);
    // Class 1's logit of 50 loses to -∞; then -0.35 against 0.35 is class 2, and 0.65 against 0.35 class 0.
    assertArrayEquals(new int[] {2, 0}, fitted.predict(new double[][] {{0, 50, 0}, {1, 0, 0}}));
  }

  @Test
  void predictsTheLargestShiftedLogit() {
    ClassOffsets offsets = new ClassOffsets(List.of(1.0, -1.0));
    // Shifted: 1.5 against 1, class 0; 1 against 2, class 1; 2 against 2, a tie, the first class.
    assertArrayEquals(new int[] {0, 1, 0}, offsets.predict(new double[][] {{0.5, 2}, {0, 3}, {1, 3}}));
  }

  /**
   * Leaving one out of two examples of each class with zero logits: the other folds hold one example
   * of the left-out example's class and two of the other, so every prediction is the other class.
   */
  @Test
  void crossFittingPredictsFromTheOtherFoldsOnly() {
    double[][] zeros = new double[4][2];
    int[] gold = {0, 0, 1, 1};
    assertArrayEquals(new int[] {1, 1, 0, 0}, ClassOffsets.crossFitted(zeros, gold, 4));
  }

  @Test
  void crossFittingIsTheSameEveryRun() {
    int[] first = ClassOffsets.crossFitted(LOGITS, GOLD, 3);
    assertArrayEquals(first, ClassOffsets.crossFitted(LOGITS, GOLD, 3));
  }

  @Test
  void refusesBadInput() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClassOffsets.crossFitted(LOGITS, GOLD, 1));
    assertEquals("1 folds for 10 examples: need between 2 and the number of examples", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ClassOffsets.crossFitted(LOGITS, GOLD, 11));
    e = assertThrows(IllegalArgumentException.class, () -> ClassOffsets.fit(new double[][] {{0, Double.NaN}}, new int[] {0}));
    assertEquals("logit row 0 holds NaN", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> ClassOffsets.fit(new double[][] {{0, 1}}, new int[] {2}));
    assertEquals("gold class 2 of example 0 is outside the 2 classes", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new ClassOffsets(List.of(0.0, Double.NaN)));
    assertEquals("class offsets [0.0, NaN] must each be finite or -Infinity", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> ClassOffsets.fit(new double[0][], new int[0]));
    assertEquals("no examples to fit class offsets on", e.getMessage());
  }

  private static double[] goldCounts(int[] gold, int classes) {
    double[] counts = new double[classes];
    for (int y : gold) {
      counts[y]++;
    }
    return counts;
  }

  /** Per class, the sum over examples of its softmax probability after the offsets. */
  private static double[] probabilitySums(double[][] logits, double[] b) {
    double[] sums = new double[b.length];
    for (double[] row : logits) {
      double max = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < b.length; c++) {
        max = Math.max(max, row[c] + b[c]);
      }
      double z = 0;
      for (int c = 0; c < b.length; c++) {
        z += Math.exp(row[c] + b[c] - max);
      }
      for (int c = 0; c < b.length; c++) {
        sums[c] += Math.exp(row[c] + b[c] - max) / z;
      }
    }
    return sums;
  }

  private static double[] values(ClassOffsets offsets) {
    return offsets.offsets().stream().mapToDouble(Double::doubleValue).toArray();
  }
}
