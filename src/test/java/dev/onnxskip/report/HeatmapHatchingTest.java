package dev.onnxskip.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxskip.eval.RunResults;
import dev.onnxskip.eval.ShiftLossRun;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A cell whose change is not significant after the Holm correction is hatched; a significant one is
 * a flat fill. On {@link ShiftLossRun}, label a: span 0-0 is a significant drop,
 * span 2-2 (one broken example) is not.
 */
class HeatmapHatchingTest {

  /** The colours inside a cell, away from its centre where the value is written. */
  static Set<Integer> colours(BufferedImage image, Rectangle2D cell) {
    Set<Integer> seen = new HashSet<>();
    int scale = HeatmapFigure.PNG_SCALE;
    int x0 = (int) Math.ceil(cell.getX() * scale) + 1;
    int y0 = (int) Math.ceil(cell.getY() * scale) + 1;
    int band = (int) (cell.getHeight() * scale / 5);
    for (int y = y0; y < y0 + band; y++) {
      for (int x = x0; x < (int) (cell.getMaxX() * scale) - 1; x++) {
        seen.add(image.getRGB(x, y));
      }
    }
    return seen;
  }

  @Test
  void uncertainCellsAreHatchedAndTheSubtitleSaysSo() {
    for (HeatmapFigure figure : new HeatmapFigure[] {Heatmaps.labelFigure(ShiftLossRun.results(), 0),
        Heatmaps.changeFigure(ShiftLossRun.results(), 0)}) {
      BufferedImage image = figure.toImage();
      assertEquals(1, colours(image, figure.cellBounds(0, 0, 0)).size(), "a significant change: one flat colour");
      assertTrue(colours(image, figure.cellBounds(0, 2, 2)).size() > 1, "not significant: hatched");
    }
    String svg = Heatmaps.labelFigure(ShiftLossRun.results(), 0).toSvg();
    assertTrue(svg.contains(">hatched: not significant (McNemar, Holm, alpha 0.05)<"),
        java.util.regex.Pattern.compile(">[^<]{3,}<").matcher(svg).results().map(m -> m.group()).toList().toString());
  }

  /**
   * The shift-or-loss figure puts a label's accuracy, recalibrated accuracy and AUROC in one row: on
   * label a, span 0-0 (a shift) is dark on accuracy and bright on the other two.
   */
  @Test
  void theShiftOrLossFigureShowsAShiftAsDarkThenBright() {
    RunResults results = ShiftLossRun.results();
    HeatmapFigure figure = Heatmaps.shiftVersusLoss(results, results.findings().orElseThrow());
    BufferedImage image = figure.toImage();
    ColorScale scale = ColorScale.accuracy();
    dev.onnxskip.eval.Findings.Figures shift = results.findings().get().variants().get(1).groups().get(0);
    assertEquals(scale.colorOf(0.0).getRGB(), cornerColour(image, figure.cellBounds(0, 0, 0)));
    assertEquals(scale.colorOf(shift.recalibratedAccuracy().getAsDouble()).getRGB(), cornerColour(image, figure.cellBounds(1, 0, 0)));
    assertEquals(scale.colorOf(shift.auroc().getAsDouble()).getRGB(), cornerColour(image, figure.cellBounds(2, 0, 0)));
    assertTrue(shift.recalibratedAccuracy().getAsDouble() > 0.9 && shift.auroc().getAsDouble() > 0.9);
  }

  /** The colour at the top left of a cell, clear of its value. */
  private static int cornerColour(BufferedImage image, Rectangle2D cell) {
    int scale = HeatmapFigure.PNG_SCALE;
    return image.getRGB((int) Math.ceil(cell.getX() * scale) + 2, (int) Math.ceil(cell.getY() * scale) + 2);
  }
}
