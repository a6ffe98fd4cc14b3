package dev.onnxskip.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

class MinimumDetectableChangeTest {

  /**
   * p = 0.5, n = 100, z_{0.975} = 1.96, z_{0.8} = 0.8416 (normal table). The null term is
   * 1.96·sqrt(0.25/100) = 0.098 and p'(1-p') = 0.25 - d², so d = 0.098 + 0.08416·sqrt(0.25 - d²).
   * Iterating from d = 0.14: sqrt(0.2304) = 0.48 gives 0.13840; sqrt(0.23085) = 0.48047 gives
   * 0.13844; once more gives 0.13844. The equation is the same on either side of 0.5.
   */
  @Test
  void halfRightOnAHundredExamples() {
    MinimumDetectableChange m = MinimumDetectableChange.of(0.5, 100);
    assertEquals(0.13844, m.drop().orElseThrow(), 1e-4);
    assertEquals(0.13844, m.rise().orElseThrow(), 1e-4);
    assertEquals(0.05, m.alpha());
    assertEquals(0.8, m.power());
  }

  /**
   * p = 1: the null term vanishes and d = 0.8416·sqrt(d(1 - d)/n), so d = z²/(n + z²) with
   * z² = 0.70829: for n = 100, 0.70829/100.70829 = 0.0070331. Nothing can rise above 1.
   */
  @Test
  void aPerfectBaselineHasAClosedForm() {
    MinimumDetectableChange m = MinimumDetectableChange.of(1.0, 100);
    assertEquals(0.0070331, m.drop().orElseThrow(), 1e-6);
    assertEquals(OptionalDouble.empty(), m.rise());
  }

  /** p = 0.5, n = 2: even a fall to 0 is short of the null term alone, 1.96·sqrt(0.25/2) = 0.693. */
  @Test
  void twoExamplesDetectNothing() {
    MinimumDetectableChange m = MinimumDetectableChange.of(0.5, 2);
    assertEquals(OptionalDouble.empty(), m.drop());
    assertEquals(OptionalDouble.empty(), m.rise());
  }

  @Test
  void morePowerOrAStricterLevelNeedsALargerChange() {
    double d = MinimumDetectableChange.of(0.8, 200).drop().orElseThrow();
    assertTrue(MinimumDetectableChange.of(0.8, 200, 0.05, 0.9).drop().orElseThrow() > d);
    assertTrue(MinimumDetectableChange.of(0.8, 200, 0.01, 0.8).drop().orElseThrow() > d);
    assertTrue(MinimumDetectableChange.of(0.8, 800).drop().orElseThrow() < d);
  }

  @Test
  void refusesValuesOutOfRange() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MinimumDetectableChange.of(1.2, 10));
    assertEquals("baseline accuracy 1.2 is not in [0, 1]", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> MinimumDetectableChange.of(0.5, 0));
    assertEquals("support 0 has no examples to detect a change in", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> MinimumDetectableChange.of(0.5, 10, 0.05, 1.0));
  }
}
