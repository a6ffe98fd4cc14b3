package dev.onnxskip.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class RunTimesTest {

  @Test
  void summariesAreOfTheRecordedRuns() {
    RunTimes t = new RunTimes(8, 16, 2, new double[] {5, 1, 3, 2, 4});
    assertEquals(3, t.median(), 0);
    // Quartiles by the (n + 1) p rule: positions 1.5 and 4.5 of the sorted runs.
    assertEquals(1.5, t.q1(), 1e-12);
    assertEquals(4.5, t.q3(), 1e-12);
    assertEquals(1, t.min(), 0);
    assertEquals(5, t.max(), 0);
    assertEquals(8 / 0.003, t.examplesPerSecond(), 1e-9);
    assertEquals(5, t.repeats());
    assertArrayEquals(new double[] {5, 1, 3, 2, 4}, t.millis(), 0, "in the order run");
  }

  @Test
  void refusesRunsThatCannotBeTimes() {
    assertThrows(IllegalArgumentException.class, () -> new RunTimes(1, 1, 0, new double[0]));
    assertThrows(IllegalArgumentException.class, () -> new RunTimes(1, 1, 0, new double[] {1, 0}));
    assertThrows(IllegalArgumentException.class, () -> new RunTimes(1, 1, 0, new double[] {Double.NaN}));
    assertThrows(IllegalArgumentException.class, () -> new RunTimes(0, 1, 0, new double[] {1}));
    assertThrows(IllegalArgumentException.class, () -> new ModelTimer.Plan(0, 0));
  }
}
