package dev.onnxskip.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.awt.Color;
import org.junit.jupiter.api.Test;

class ColorScaleTest {

  @Test
  void accuracyScaleRunsFromDarkPurpleToYellow() {
    ColorScale s = ColorScale.accuracy();
    assertEquals(new Color(0x440154), s.colorOf(0));
    assertEquals(new Color(0xFDE725), s.colorOf(1));
    // Halfway between the 5th (0x26828E) and 6th (0x1F9E89) of ten anchors.
    assertEquals(new Color(35, 144, 140), s.colorOf(0.5));
    assertEquals(s.colorOf(1), s.colorOf(1.7), "values outside the scale are clamped");
  }

  @Test
  void changeScaleIsCentredOnNearWhite() {
    ColorScale s = ColorScale.change(0.2);
    assertEquals(-0.2, s.min());
    assertEquals(0.2, s.max());
    assertEquals(new Color(0xF7F7F7), s.colorOf(0));
    assertEquals(new Color(0x67001F), s.colorOf(-0.2));
    assertEquals(new Color(0x053061), s.colorOf(0.2));
    Color loss = s.colorOf(-0.1);
    Color gain = s.colorOf(0.1);
    // A loss is red, a gain blue.
    assertEquals(true, loss.getRed() > loss.getBlue());
    assertEquals(true, gain.getBlue() > gain.getRed());
  }

  @Test
  void changeRangeIsARoundNumberAboveTheLargestChange() {
    assertEquals(0.05, ColorScale.changeRange(0));
    assertEquals(0.05, ColorScale.changeRange(0.05));
    assertEquals(0.1, ColorScale.changeRange(0.051));
    assertEquals(0.3, ColorScale.changeRange(0.25));
    assertEquals(1.0, ColorScale.changeRange(0.9));
  }

  @Test
  void ticks() {
    ColorScale accuracy = ColorScale.accuracy();
    assertArrayEquals(new double[] {0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}, accuracy.ticks(), 1e-12);
    assertEquals("0", accuracy.tickLabel(0));
    assertEquals("0.6", accuracy.tickLabel(0.6000000000000001));
    assertEquals("1", accuracy.tickLabel(1));
    ColorScale change = ColorScale.change(0.05);
    assertArrayEquals(new double[] {-0.05, -0.025, 0, 0.025, 0.05}, change.ticks(), 1e-12);
    assertEquals("\u22120.025", change.tickLabel(-0.025));
    assertEquals("0", change.tickLabel(0));
    assertEquals("+0.05", change.tickLabel(0.05));
  }
}
