package dev.onnxskip.report;

import java.awt.Color;
import java.awt.LinearGradientPaint;
import java.awt.geom.Point2D;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Maps values to colours by linear interpolation between evenly spaced anchor colours from
 * {@code min} to {@code max}; values outside are clamped. The same anchors make the colour bar's
 * gradient, so the bar shows exactly the colours of the cells.
 */
record ColorScale(double min, double max, List<Color> anchors, String title) {

  /** Viridis: perceptually uniform, readable in grey and by colour-blind readers. */
  private static final List<Color> VIRIDIS = colors(
      0x440154, 0x482878, 0x3E4A89, 0x31688E, 0x26828E, 0x1F9E89, 0x35B779, 0x6DCD59, 0xB4DE2C, 0xFDE725);

  /** ColorBrewer RdBu: red for a loss, blue for a gain, near-white at no change. */
  private static final List<Color> RED_BLUE = colors(
      0x67001F, 0xB2182B, 0xD6604D, 0xF4A582, 0xFDDBC7, 0xF7F7F7, 0xD1E5F0, 0x92C5DE, 0x4393C3, 0x2166AC, 0x053061);

  ColorScale {
    anchors = List.copyOf(anchors);
    if (!(max > min) || anchors.size() < 2) {
      throw new IllegalArgumentException("a colour scale needs min < max and two colours");
    }
  }

  /** The fixed accuracy scale 0..1, the same in every figure so figures compare. */
  static ColorScale accuracy() {
    return new ColorScale(0, 1, VIRIDIS, "accuracy");
  }

  /** A diverging scale centred at 0 from {@code -range} to {@code range}. */
  static ColorScale change(double range) {
    return new ColorScale(-range, range, RED_BLUE, "change vs. baseline");
  }

  /**
   * The symmetric range of a change scale: the smallest of a few round numbers that holds the
   * largest absolute change, so colour bars have readable ends and small changes stay visible.
   */
  static double changeRange(double maxAbsChange) {
    for (double r : new double[] {0.05, 0.1, 0.2, 0.3, 0.5}) {
      if (maxAbsChange <= r) {
        return r;
      }
    }
    return 1;
  }

  Color colorOf(double value) {
    double t = (Math.min(max, Math.max(min, value)) - min) / (max - min) * (anchors.size() - 1);
    int i = Math.min((int) t, anchors.size() - 2);
    double f = t - i;
    Color a = anchors.get(i);
    Color b = anchors.get(i + 1);
    return new Color(
        (int) Math.round(a.getRed() + f * (b.getRed() - a.getRed())),
        (int) Math.round(a.getGreen() + f * (b.getGreen() - a.getGreen())),
        (int) Math.round(a.getBlue() + f * (b.getBlue() - a.getBlue())));
  }

  /** A gradient from {@code min} at {@code from} to {@code max} at {@code to}. */
  LinearGradientPaint gradient(Point2D from, Point2D to) {
    float[] fractions = new float[anchors.size()];
    for (int i = 0; i < fractions.length; i++) {
      fractions[i] = (float) i / (fractions.length - 1);
    }
    return new LinearGradientPaint(from, to, fractions, anchors.toArray(Color[]::new));
  }

  /** Evenly spaced ticks from min to max: steps of 0.2 on the accuracy scale, quarters on a change scale. */
  double[] ticks() {
    double[] ticks = new double[min < 0 ? 5 : 6];
    for (int i = 0; i < ticks.length; i++) {
      ticks[i] = min + (max - min) * i / (ticks.length - 1);
    }
    return ticks;
  }

  /** A tick label: as few decimals as the value needs, a sign on changes. */
  String tickLabel(double value) {
    String digits = String.format(Locale.ROOT, "%.3f", Math.abs(value)).replaceAll("0+$", "").replaceAll("\\.$", "");
    if (min < 0 && value != 0) {
      return (value < 0 ? "\u2212" : "+") + digits;
    }
    return digits;
  }

  private static List<Color> colors(int... rgb) {
    return Arrays.stream(rgb).mapToObj(Color::new).toList();
  }
}
