package dev.onnxskip.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class McNemarTest {

  /** Bin(5, 1/2): P(X ≤ 0) = 1/32, so p = 2/32. */
  @Test
  void allDiscordantPairsOneWay() {
    assertEquals(0.0625, McNemar.test(0, 5).pValue(), 1e-12);
    assertEquals(0.0625, McNemar.test(5, 0).pValue(), 1e-12);
  }

  /** Bin(10, 1/2): P(X ≤ 1) = (C(10,0) + C(10,1)) / 1024 = 11/1024, so p = 22/1024. */
  @Test
  void oneAgainstNine() {
    McNemar m = McNemar.test(1, 9);
    assertEquals(0.021484375, m.pValue(), 1e-12);
    assertEquals(1, m.fixed());
    assertEquals(9, m.broken());
  }

  /** Bin(6, 1/2): P(X ≤ 2) = (1 + 6 + 15) / 64 = 22/64, so p = 44/64. */
  @Test
  void twoAgainstFour() {
    assertEquals(0.6875, McNemar.test(4, 2).pValue(), 1e-12);
  }

  /** Twice P(X ≤ b) exceeds 1 when b = c, since the middle term is counted on both sides. */
  @Test
  void equalCountsAreCappedAtOne() {
    assertEquals(1.0, McNemar.test(3, 3).pValue());
    assertEquals(1.0, McNemar.test(1, 1).pValue());
  }

  @Test
  void noDiscordantPairsIsNoEvidence() {
    assertEquals(1.0, McNemar.test(0, 0).pValue());
  }

  @Test
  void refusesNegativeCounts() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> McNemar.test(-1, 2));
    assertEquals("negative discordant count: fixed -1, broken 2", e.getMessage());
  }

  /** Far in the tail: 2 * (1 + 100 + 4950) / 2^100 by hand, not the 0 a cumulative beta gives. */
  @Test
  void aTinyPValueIsNotZero() {
    assertEquals(2 * 5051 / Math.pow(2, 100), McNemar.test(2, 98).pValue(), 1e-40);
  }
}
