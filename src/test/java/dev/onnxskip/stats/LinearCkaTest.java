package dev.onnxskip.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class LinearCkaTest {

  private static double cka(float[][] x, float[][] y, int[] rows) {
    return LinearCka.of(LinearCka.centred(x, rows), LinearCka.centred(y, rows));
  }

  /**
   * X = [[1, 0], [0, 1], [1, 1], [2, 0]] and Y = [[1], [2], [0], [1]]. Centred: X̃ = X − (1, 0.5),
   * Ỹ = Y − 1 = [0, 1, −1, 0]. Ỹᵀ X̃ = [0·0 + 1·(−1) + (−1)·0 + 0·1, 0·(−0.5) + 1·0.5 + (−1)·0.5 + 0·(−0.5)]
   * = [−1, 0], so ‖ỸᵀX̃‖² = 1. X̃ᵀX̃ = [[2, −1], [−1, 1]] (Frobenius norm √7), ỸᵀỸ = [[2]] (norm 2):
   * CKA = 1 / (2√7).
   */
  @Test
  void aWorkedExample() {
    float[][] x = {{1, 0}, {0, 1}, {1, 1}, {2, 0}};
    float[][] y = {{1}, {2}, {0}, {1}};
    assertEquals(1 / (2 * Math.sqrt(7)), cka(x, y, new int[] {0, 1, 2, 3}), 1e-12);
  }

  /** The Gram-matrix form, written out here: ⟨HKH, HLH⟩ / (‖HKH‖ ‖HLH‖) over the subset. */
  private static double gramForm(float[][] x, float[][] y, int[] rows) {
    double[][] k = centredGram(x, rows);
    double[][] l = centredGram(y, rows);
    double kl = 0;
    double kk = 0;
    double ll = 0;
    for (int i = 0; i < rows.length; i++) {
      for (int j = 0; j < rows.length; j++) {
        kl += k[i][j] * l[i][j];
        kk += k[i][j] * k[i][j];
        ll += l[i][j] * l[i][j];
      }
    }
    return kl / Math.sqrt(kk * ll);
  }

  private static double[][] centredGram(float[][] x, int[] rows) {
    int m = rows.length;
    double[][] k = new double[m][m];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < m; j++) {
        for (int h = 0; h < x[0].length; h++) {
          k[i][j] += (double) x[rows[i]][h] * x[rows[j]][h];
        }
      }
    }
    double[] rowMean = new double[m];
    double grand = 0;
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < m; j++) {
        rowMean[i] += k[i][j] / m;
      }
      grand += rowMean[i] / m;
    }
    double[][] c = new double[m][m];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < m; j++) {
        c[i][j] = k[i][j] - rowMean[i] - rowMean[j] + grand;
      }
    }
    return c;
  }

  @Test
  void equalsTheGramMatrixFormOnRandomFeaturesAndSubsets() {
    Random random = new Random(7);
    float[][] x = new float[60][12];
    float[][] y = new float[60][9];
    for (int i = 0; i < 60; i++) {
      for (int h = 0; h < 12; h++) {
        x[i][h] = (float) random.nextGaussian();
      }
      for (int h = 0; h < 9; h++) {
        // Partly a linear function of x, partly noise: CKA well inside (0, 1).
        y[i][h] = (float) (0.6 * x[i][h] - 0.3 * x[i][h + 3] + random.nextGaussian());
      }
    }
    int[] all = IntStream.range(0, 60).toArray();
    int[] some = {3, 5, 8, 13, 21, 34, 55, 1, 2};
    double value = cka(x, y, all);
    assertTrue(value > 0.1 && value < 0.9, "a partial relation: " + value);
    assertEquals(gramForm(x, y, all), value, 1e-9);
    assertEquals(gramForm(x, y, some), cka(x, y, some), 1e-9);
  }

  @Test
  void aRotationScalingAndShiftOfTheSameRepresentationScoresOne() {
    float[][] x = {{1, 2}, {3, -1}, {0, 4}, {2, 2}, {-1, 0}};
    float[][] y = new float[x.length][2];
    double c = Math.cos(0.7);
    double s = Math.sin(0.7);
    for (int i = 0; i < x.length; i++) {
      y[i][0] = (float) (3 * (c * x[i][0] - s * x[i][1]) + 5);
      y[i][1] = (float) (3 * (s * x[i][0] + c * x[i][1]) - 2);
    }
    assertEquals(1.0, cka(x, y, new int[] {0, 1, 2, 3, 4}), 1e-6);
    // A subset is centred on its own mean.
    assertEquals(1.0, cka(x, y, new int[] {1, 3, 4}), 1e-6);
  }

  @Test
  void undefinedForOneExampleOrAConstantRepresentation() {
    float[][] x = {{1, 0}, {0, 1}, {2, 2}};
    float[][] constant = {{1, 1}, {1, 1}, {1, 1}};
    assertTrue(Double.isNaN(cka(x, x, new int[] {2})));
    assertTrue(Double.isNaN(cka(x, constant, new int[] {0, 1, 2})));
  }
}
