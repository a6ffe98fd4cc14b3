package dev.onnxskip.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class HolmTest {

  /**
   * m = 4. Ascending: 0.005 × 4 = 0.02; 0.01 × 3 = 0.03; 0.03 × 2 = 0.06; 0.04 × 1 = 0.04, raised to
   * the 0.06 before it. Back in the given order: 0.03, 0.06, 0.06, 0.02.
   */
  @Test
  void stepsDownAndKeepsTheGivenOrder() {
    assertArrayEquals(new double[] {0.03, 0.06, 0.06, 0.02},
        Holm.adjust(new double[] {0.01, 0.04, 0.03, 0.005}), 1e-15);
  }

  /** 0.01 × 3 = 0.03; 0.6 × 2 = 1.2, capped at 1; 0.7 × 1 = 0.7, raised to 1. */
  @Test
  void capsAtOne() {
    assertArrayEquals(new double[] {1, 1, 0.03}, Holm.adjust(new double[] {0.6, 0.7, 0.01}), 1e-15);
  }

  /** Tied values: 0.02 × 2 = 0.04, then 0.02 × 1 raised to 0.04. */
  @Test
  void tiesGetTheSameValue() {
    assertArrayEquals(new double[] {0.04, 0.04}, Holm.adjust(new double[] {0.02, 0.02}), 1e-15);
  }

  @Test
  void oneOrNoValueIsUnchanged() {
    assertArrayEquals(new double[] {0.2}, Holm.adjust(new double[] {0.2}));
    assertArrayEquals(new double[] {}, Holm.adjust(new double[] {}));
  }

  @Test
  void leavesItsInputAlone() {
    double[] p = {0.01, 0.02};
    Holm.adjust(p);
    assertArrayEquals(new double[] {0.01, 0.02}, p);
  }

  @Test
  void refusesValuesOutsideTheUnitInterval() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Holm.adjust(new double[] {0.1, Double.NaN}));
    assertEquals("p-value 1 is NaN, not in [0, 1]", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Holm.adjust(new double[] {1.5}));
  }
}
