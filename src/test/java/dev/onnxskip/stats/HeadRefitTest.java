package dev.onnxskip.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class HeadRefitTest {

  @Test
  void featuresThatSeparateTheLabelsLinearlyAreClassifiedRight() {
    Random random = new Random(1);
    int n = 60;
    float[][] features = new float[n][3];
    int[] gold = new int[n];
    for (int i = 0; i < n; i++) {
      gold[i] = i % 3;
      features[i][gold[i]] = 2 + random.nextFloat();
      features[i][(gold[i] + 1) % 3] = random.nextFloat();
    }
    assertEquals(n, right(HeadRefit.crossFitted(features, gold, Folds.of(n, 5)), gold));
  }

  /**
   * Random labels on random features in more dimensions than examples: any labelling of 40 points in
   * general position in 200 dimensions is linearly separable, so a head fitted on the examples it
   * scores would get them all right; only cross-fitting keeps the accuracy at chance.
   */
  @Test
  void noExampleIsScoredByAHeadFittedOnIt() {
    Random random = new Random(7);
    int n = 40;
    float[][] features = new float[n][200];
    int[] gold = new int[n];
    for (int i = 0; i < n; i++) {
      gold[i] = random.nextInt(2);
      for (int h = 0; h < 200; h++) {
        features[i][h] = (float) random.nextGaussian();
      }
    }
    int crossFitted = right(HeadRefit.crossFitted(features, gold, Folds.of(n, 5)), gold);
    assertTrue(crossFitted < 0.75 * n, crossFitted + " of " + n + " right on random labels");
  }

  @Test
  void theScaleOfTheFeaturesDoesNotMatter() {
    Random random = new Random(3);
    int n = 50;
    float[][] features = new float[n][4];
    float[][] scaled = new float[n][4];
    int[] gold = new int[n];
    for (int i = 0; i < n; i++) {
      gold[i] = i % 2;
      for (int h = 0; h < 4; h++) {
        features[i][h] = (float) random.nextGaussian() + (h == 0 ? gold[i] : 0);
        scaled[i][h] = features[i][h] * 1000 + 5000;
      }
    }
    Folds folds = Folds.of(n, 5);
    assertArrayEquals(HeadRefit.crossFitted(features, gold, folds), HeadRefit.crossFitted(scaled, gold, folds));
  }

  private static int right(int[] predicted, int[] gold) {
    int k = 0;
    for (int i = 0; i < gold.length; i++) {
      k += predicted[i] == gold[i] ? 1 : 0;
    }
    return k;
  }
}
