package dev.onnxskip.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class LayerMetricsTest {

  /**
   * x = 1, 2, 2, 3 ranks as 1, 2.5, 2.5, 4 (the tied pair shares the mean of ranks 2 and 3); y = 1, 3,
   * 2, 4 as itself. Deviations from the mean rank 2.5: (−1.5, 0, 0, 1.5) and (−1.5, 0.5, −0.5, 1.5), so
   * ρ = 4.5 / √(4.5 · 5) = 0.9487.
   */
  @Test
  void spearmanWithTiesIsThePearsonCorrelationOfMeanRanks() {
    List<double[]> pairs = List.of(new double[] {1, 1}, new double[] {2, 3}, new double[] {2, 2}, new double[] {3, 4});
    assertEquals(4.5 / Math.sqrt(4.5 * 5), LayerMetrics.spearman(pairs).getAsDouble(), 1e-12);
  }

  @Test
  void spearmanIsUndefinedForTooFewSpansOrAConstantSide() {
    assertTrue(LayerMetrics.spearman(List.of(new double[] {1, 1}, new double[] {2, 3})).isEmpty());
    assertTrue(LayerMetrics.spearman(List.of(new double[] {1, 1}, new double[] {1, 3}, new double[] {1, 2})).isEmpty());
  }
}
