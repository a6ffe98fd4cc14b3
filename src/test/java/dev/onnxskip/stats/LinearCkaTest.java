package dev.onnxskip.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LinearCkaTest {

  /**
   * X = [[1, 0], [0, 1], [1, 1], [2, 0]] and Y = [[1], [2], [0], [1]]. Centred: X̃ = X − (1, 0.5),
   * Ỹ = Y − 1 = [0, 1, −1, 0]. Ỹᵀ X̃ = [0·0 + 1·(−1) + (−1)·0 + 0·1, 0·(−0.5) + 1·0.5 + (−1)·0.5 + 0·(−0.5)]
   * = [−1, 0], so ‖ỸᵀX̃‖² = 1. X̃ᵀX̃ = [[2, −1], [−1, 1]] (Frobenius norm √7), ỸᵀỸ = [[2]] (norm 2):
   * CKA = 1 / (2√7), in the feature-space form, against the Gram-matrix form under test.
   */
  @Test
  void aWorkedExampleInTheFeatureSpaceForm() {
    float[][] x = {{1, 0}, {0, 1}, {1, 1}, {2, 0}};
    float[][] y = {{1}, {2}, {0}, {1}};
    int[] all = {0, 1, 2, 3};
    assertEquals(1 / (2 * Math.sqrt(7)), LinearCka.of(LinearCka.gram(x), LinearCka.gram(y), all), 1e-12);
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
    assertEquals(1.0, LinearCka.of(LinearCka.gram(x), LinearCka.gram(y), new int[] {0, 1, 2, 3, 4}), 1e-6);
    // A subset is centred on its own mean.
    assertEquals(1.0, LinearCka.of(LinearCka.gram(x), LinearCka.gram(y), new int[] {1, 3, 4}), 1e-6);
  }

  @Test
  void undefinedForOneExampleOrAConstantRepresentation() {
    float[][] x = {{1, 0}, {0, 1}, {2, 2}};
    float[][] constant = {{1, 1}, {1, 1}, {1, 1}};
    assertTrue(Double.isNaN(LinearCka.of(LinearCka.gram(x), LinearCka.gram(x), new int[] {2})));
    assertTrue(Double.isNaN(LinearCka.of(LinearCka.gram(x), LinearCka.gram(constant), new int[] {0, 1, 2})));
  }
}
