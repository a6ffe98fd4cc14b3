package dev.onnxskip.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class PairedBootstrapTest {

  @Test
  void theSameSeedGivesTheSameInterval() {
    boolean[] baseline = pattern(60, 3);
    boolean[] variant = pattern(60, 4);
    PairedBootstrap a = PairedBootstrap.of(baseline, variant, 500, 7).orElseThrow();
    assertEquals(a, PairedBootstrap.of(baseline, variant, 500, 7).orElseThrow());
    PairedBootstrap b = PairedBootstrap.of(baseline, variant, 500, 8).orElseThrow();
    assertNotEquals(a, b);
    assertEquals(a.observed(), b.observed());
  }

  @Test
  void identicalPredictionsChangeNothing() {
    boolean[] same = pattern(40, 3);
    PairedBootstrap b = PairedBootstrap.of(same, same.clone(), 300, 1).orElseThrow();
    assertEquals(0.0, b.observed());
    assertEquals(0.0, b.lower());
    assertEquals(0.0, b.upper());
  }

  /**
   * The variant fixes 40 of 400 examples and breaks none, so a resample's change is Bin(400, 0.1)/400:
   * mean 0.1, standard deviation sqrt(0.1·0.9/400) = 0.015, and a 95% interval of about
   * 0.1 ± 1.96·0.015 = [0.0706, 0.1294]. Percentiles of 2,000 resamples wander by a few thousandths.
   */
  @Test
  void onlyFixesGiveAnIntervalAboveZeroOfTheBinomialWidth() {
    boolean[] baseline = new boolean[400];
    boolean[] variant = new boolean[400];
    for (int i = 0; i < 400; i++) {
      baseline[i] = i % 10 != 0;
      variant[i] = true;
    }
    PairedBootstrap b = PairedBootstrap.of(baseline, variant, 2000, 42).orElseThrow();
    assertEquals(0.1, b.observed(), 1e-15);
    assertTrue(b.lower() > 0, b.toString());
    assertEquals(0.0706, b.lower(), 0.008, b.toString());
    assertEquals(0.1294, b.upper(), 0.008, b.toString());
  }

  @Test
  void theIntervalCoversTheObservedChange() {
    boolean[] baseline = pattern(200, 3);
    boolean[] variant = pattern(200, 5);
    PairedBootstrap b = PairedBootstrap.of(baseline, variant, 1000, 3).orElseThrow();
    assertTrue(b.lower() < b.observed() && b.observed() < b.upper(), b.toString());
  }

  /** One example: every resample is that example, so every bound is its change. */
  @Test
  void aSingleExampleGivesItsOwnChange() {
    PairedBootstrap b = PairedBootstrap.of(new boolean[] {true}, new boolean[] {false}, 10, 0).orElseThrow();
    assertEquals(-1.0, b.observed());
    assertEquals(-1.0, b.lower());
    assertEquals(-1.0, b.upper());
    assertEquals(10, b.resamples());
    assertEquals(0, b.seed());
  }

  @Test
  void noResamplesOrNoExamplesGiveNoInterval() {
    assertEquals(Optional.empty(), PairedBootstrap.of(pattern(5, 2), pattern(5, 3), 0, 1));
    assertEquals(Optional.empty(), PairedBootstrap.of(new boolean[0], new boolean[0], 100, 1));
  }

  @Test
  void refusesVectorsOfDifferentLengths() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PairedBootstrap.of(new boolean[3], new boolean[4], 10, 1));
    assertEquals("3 baseline examples but 4 variant examples", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> PairedBootstrap.of(new boolean[3], new boolean[3], -1, 1));
    assertEquals("negative number of resamples -1", e.getMessage());
  }

  /** Right on every example whose index is not a multiple of {@code every}. */
  private static boolean[] pattern(int n, int every) {
    boolean[] right = new boolean[n];
    for (int i = 0; i < n; i++) {
      right[i] = i % every != 0;
    }
    return right;
  }
}
