package dev.onnxskip.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BalancedAccuracyTest {

  /**
   * Recalls 45/50 = 0.9 and 30/40 = 0.75: balanced accuracy 0.825. Var = (0.9·0.1/50 + 0.75·0.25/40)/4
   * = 0.001621875, so n_eff = 0.825·0.175/0.001621875 = 89.0173...; the bounds are Wilson's score
   * interval at that n, written out here.
   */
  @Test
  void theMeanRecallAndAWilsonIntervalAtTheEffectiveSampleSize() {
    BalancedAccuracy b = BalancedAccuracy.of(new long[] {45, 30}, new long[] {50, 40}, 0.95).orElseThrow();
    assertEquals(0.825, b.value(), 1e-12);
    assertEquals(0.144375 / 0.001621875, b.effectiveTrials(), 1e-9);
    double z = 1.959963984540054;
    double n = 0.144375 / 0.001621875;
    double p = 0.825;
    double centre = (p + z * z / (2 * n)) / (1 + z * z / n);
    double half = z / (1 + z * z / n) * Math.sqrt(p * (1 - p) / n + z * z / (4 * n * n));
    assertEquals(centre - half, b.lower(), 1e-12);
    assertEquals(centre + half, b.upper(), 1e-12);
  }

  @Test
  void labelsWithoutExamplesAreLeftOutAndPerfectRecallReachesOne() {
    BalancedAccuracy b = BalancedAccuracy.of(new long[] {10, 0, 20}, new long[] {10, 0, 20}, 0.95).orElseThrow();
    assertEquals(1.0, b.value());
    assertEquals(1.0, b.upper());
    assertEquals(30, b.effectiveTrials(), 1e-12, "no variance: every example counts");
    assertTrue(b.lower() < 1 && b.lower() > 0.85, "Wilson's lower bound for 30 of 30 is about 0.886: " + b.lower());
    assertTrue(BalancedAccuracy.of(new long[] {0}, new long[] {0}, 0.95).isEmpty());
  }

  @Test
  void aCollapseOntoTheMajorityLabelScoresOneOverTheLabels() {
    BalancedAccuracy b = BalancedAccuracy.of(new long[] {90, 0}, new long[] {90, 10}, 0.95).orElseThrow();
    assertEquals(0.5, b.value(), 1e-12);
  }
}
