package dev.onnxskip.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

class AurocTest {

  /** The scikit-learn roc_auc_score example: 3 of the 4 positive-negative pairs are ordered right. */
  @Test
  void theTextbookExample() {
    assertEquals(0.75, Auroc.oneVsRest(new double[] {0.1, 0.4, 0.35, 0.8},
        new boolean[] {false, false, true, true}).orElseThrow(), 1e-15);
  }

  @Test
  void matchesTheMannWhitneyCountWithTies() {
    double[] scores = {0.3, 0.3, 0.9, 0.1, 0.5, 0.3, 0.9, 0.7, 0.2, 0.5, 0.5, 0.0};
    boolean[] positive = {true, false, true, false, false, true, false, true, false, true, false, false};
    assertEquals(pairCount(scores, positive), Auroc.oneVsRest(scores, positive).orElseThrow(), 1e-12);
  }

  /** Every score equal: every pair is a tie. */
  @Test
  void constantScoresGiveOneHalf() {
    assertEquals(0.5, Auroc.oneVsRest(new double[] {2, 2, 2}, new boolean[] {true, false, false}).orElseThrow());
  }

  @Test
  void oneSidedLabelsHaveNoAuroc() {
    assertEquals(OptionalDouble.empty(), Auroc.oneVsRest(new double[] {1, 2}, new boolean[] {true, true}));
    assertEquals(OptionalDouble.empty(), Auroc.oneVsRest(new double[] {1, 2}, new boolean[] {false, false}));
  }

  /** Class 2 has no examples, so the mean is over classes 0 and 1 only. */
  @Test
  void macroAveragesTheClassesWithBothSides() {
    double[][] scores = {
        {2.0, 0.1, 0.3}, {0.5, 0.5, 0.0}, {1.0, 1.5, 2.0}, {0.2, 0.9, 0.1}, {0.7, 0.7, 0.7}, {1.1, 0.4, 0.2},
    };
    int[] gold = {0, 1, 1, 0, 1, 0};
    double expected = (pairCount(column(scores, 0), is(gold, 0)) + pairCount(column(scores, 1), is(gold, 1))) / 2;
    assertEquals(expected, Auroc.macro(scores, gold).orElseThrow(), 1e-12);
  }

  @Test
  void macroOfOneClassIsEmpty() {
    assertEquals(OptionalDouble.empty(), Auroc.macro(new double[][] {{1, 0}, {2, 0}}, new int[] {0, 0}));
    assertEquals(OptionalDouble.empty(), Auroc.macro(new double[0][], new int[0]));
  }

  @Test
  void refusesBadInput() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Auroc.oneVsRest(new double[] {1, Double.NaN}, new boolean[] {true, false}));
    assertEquals("score of example 1 is NaN", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Auroc.macro(new double[][] {{1, 0}}, new int[] {2}));
    assertEquals("gold class 2 of example 0 is outside the 2 classes", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Auroc.macro(new double[][] {{1, 0}, {1}}, new int[] {0, 1}));
    assertEquals("score row 1 has 1 classes, not 2", e.getMessage());
  }

  /** The share of positive-negative pairs the positive wins, ties counting half: the definition itself. */
  private static double pairCount(double[] scores, boolean[] positive) {
    double wins = 0;
    int pairs = 0;
    for (int i = 0; i < scores.length; i++) {
      for (int j = 0; j < scores.length; j++) {
        if (positive[i] && !positive[j]) {
          pairs++;
          wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
        }
      }
    }
    return wins / pairs;
  }

  private static double[] column(double[][] m, int c) {
    double[] col = new double[m.length];
    for (int i = 0; i < m.length; i++) {
      col[i] = m[i][c];
    }
    return col;
  }

  private static boolean[] is(int[] gold, int c) {
    boolean[] b = new boolean[gold.length];
    for (int i = 0; i < gold.length; i++) {
      b[i] = gold[i] == c;
    }
    return b;
  }
}
