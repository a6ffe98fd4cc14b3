package dev.onnxskip.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class WilsonTest {

  /** Published to 4 decimals, so a bound may differ from the table by half a unit in the last place. */
  private static final double TABLE = 0.5e-4;

  /** Newcombe (1998), Statistics in Medicine 17:857-872, Table I, method 3 (score, no continuity correction). */
  @Test
  void matchesNewcombesTable() {
    assertBounds(81, 263, 0.2553, 0.3662);
    assertBounds(15, 148, 0.0624, 0.1605);
    assertBounds(0, 20, 0.0, 0.1611);
    assertBounds(1, 29, 0.0061, 0.1718);
    assertBounds(29, 29, 0.8830, 1.0);
  }

  @Test
  void theBoundsAtZeroAndAllSuccessesAreExact() {
    assertEquals(0.0, Wilson.of(0, 20).orElseThrow().lower());
    assertEquals(1.0, Wilson.of(29, 29).orElseThrow().upper());
  }

  /**
   * With no successes the upper bound is z²/(n + z²). At 99%, z = 2.5758 (normal table), z² = 6.6348,
   * so for n = 20 the bound is 6.6348 / 26.6348 = 0.24910.
   */
  @Test
  void takesAnotherConfidence() {
    Wilson w = Wilson.of(0, 20, 0.99).orElseThrow();
    assertEquals(0.24910, w.upper(), 1e-5);
    assertEquals(0.99, w.confidence());
  }

  @Test
  void aLabelWithoutExamplesHasNoInterval() {
    assertEquals(Optional.empty(), Wilson.of(0, 0));
  }

  @Test
  void refusesImpossibleCounts() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Wilson.of(5, 4));
    assertEquals("5 successes out of 4 trials", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Wilson.of(-1, 4));
    e = assertThrows(IllegalArgumentException.class, () -> Wilson.of(1, 4, 1.0));
    assertTrue(e.getMessage().startsWith("confidence 1.0"), e.getMessage());
  }

  private static void assertBounds(long k, long n, double lower, double upper) {
    Wilson w = Wilson.of(k, n).orElseThrow();
    assertEquals(lower, w.lower(), TABLE, k + "/" + n + " lower");
    assertEquals(upper, w.upper(), TABLE, k + "/" + n + " upper");
    assertEquals(k, w.successes());
    assertEquals(n, w.trials());
  }
}
