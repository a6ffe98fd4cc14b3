package dev.onnxskip.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.Stroke;
import java.awt.font.FontRenderContext;
import java.awt.geom.AffineTransform;
import java.awt.geom.Line2D;
import java.awt.geom.Point2D;
import java.awt.geom.Rectangle2D;
import java.awt.geom.RoundRectangle2D;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleFunction;

/**
 * A figure of one or more triangular span grids on one colour scale, laid out once and drawn by one
 * routine against {@link Graphics2D}, so the PNG and the SVG show the same picture.
 *
 * <p>In each grid the column is the first skipped layer S and the row the last skipped layer E, top
 * to bottom, so the filled cells (E &ge; S) form the lower-left triangle: the top-left cell skips only
 * layer 0, the bottom-left cell every layer. Both axes run along full edges of the triangle, and the
 * empty upper-right corner holds the baseline box when it is large enough (else it stands to the
 * right of the grid). Sizes are in layout units; PNGs are drawn at {@link #PNG_SCALE} pixels per unit.
 */
final class HeatmapFigure implements Figure {
  static {
    // Drawing needs no display; a server without one must not try to reach it.
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  /**
   * One grid.
   *
   * @param cells {@code cells[start][end]} for {@code end >= start}; NaN where there is no value
   *     (span not evaluated, or a label without examples)
   * @param baseline the baseline's value, shown in the baseline box
   * @param note written across the grid when every cell is empty for one reason (a label without
   *     examples), so that the grey does not read as "not evaluated"; null for none
   * @param uncertain {@code uncertain[start][end]} for cells whose change against the baseline is
   *     not significant after the Holm correction, drawn hatched; null where the run has no statistics
   */
  record Panel(String title, double[][] cells, double baseline, String note, boolean[][] uncertain) {
    Panel(String title, double[][] cells, double baseline) {
      this(title, cells, baseline, null, null);
    }
  }

  /** Hatching of uncertain cells: lines this far apart, in layout units. */
  private static final double HATCH_GAP = 5;

  private static final FontRenderContext FRC = new FontRenderContext(null, true, true);
  private static final String FAMILY = Font.SANS_SERIF;
  private static final Color INK = new Color(0x1A1A1A);
  private static final Color MUTED = new Color(0x5C5C5C);
  private static final Color MISSING = new Color(0xE3E3E3);
  private static final Color BOX_EDGE = new Color(0x9A9A9A);
  /** En spaces around a middle dot: ordinary double spaces would collapse to one in SVG. */
  private static final String SEPARATOR = "\u2002\u00b7\u2002";

  private static final double MARGIN = 24;
  /** The side a grid aims at; the cell size follows from the number of layers. */
  private static final double GRID_TARGET = 432;
  private static final double MAX_CELL = 56;
  private static final double MIN_CELL = 16;
  private static final double MIN_GRID = 150;
  /** Below this cell size values are left out: they would be too small to read. */
  private static final double MIN_CELL_WITH_VALUES = 24;
  private static final double MIN_VALUE_FONT = 7.5;
  private static final double MAX_BOX = 88;
  private static final double MIN_INSIDE_BOX = 60;
  private static final double OUTSIDE_BOX = 72;
  private static final double PANEL_GAP_X = 30;
  private static final double PANEL_GAP_Y = 26;
  private static final double BAR_WIDTH = 14;
  private static final double MIN_BAR_HEIGHT = 150;

  private final String title;
  private final List<String> subtitleLines;
  private final List<Panel> panels;
  private final int layers;
  private final ColorScale scale;
  private final DoubleFunction<String> cellText;
  private final boolean baselineOnScale;

  private final Font titleFont = new Font(FAMILY, Font.BOLD, 20);
  private final Font subtitleFont = new Font(FAMILY, Font.PLAIN, 13);
  private final Font panelTitleFont = new Font(FAMILY, Font.BOLD, 15);
  private final Font axisFont = new Font(FAMILY, Font.PLAIN, 13);
  private final Font barFont = new Font(FAMILY, Font.PLAIN, 11);
  private final Font tickFont;
  private final Font valueFont;
  private final Font boxLabelFont;
  private final Font boxValueFont;

  private final double cell;
  private final double gap;
  private final double grid;
  private final double leftWidth;
  private final double titleHeight;
  private final double headerHeight;
  private final double boxSide;
  private final boolean boxInside;
  private final double panelWidth;
  private final double panelHeight;
  private final int columns;
  private final double barX;
  private final double barY;
  private final double barHeight;
  private final double barTickWidth;
  private final double width;
  private final double height;

  /**
   * @param subtitle pieces of the line under the title, wrapped between pieces to the figure's width
   * @param cellText how a value is written in its cell (the baseline box always uses
   *     {@link #accuracyText})
   * @param baselineOnScale whether the baseline box takes its value's colour from the scale; a change
   *     figure shows the baseline's accuracy there, which is not on its scale
   */
  HeatmapFigure(String title, List<String> subtitle, List<Panel> panels, int layers, ColorScale scale,
      DoubleFunction<String> cellText, boolean baselineOnScale) {
    this(title, subtitle, panels, layers, scale, cellText, baselineOnScale, Math.min(panels.size(), 4));
  }

  /** @param columns panels per row, so that a figure of several panels per label keeps one label to a row */
  HeatmapFigure(String title, List<String> subtitle, List<Panel> panels, int layers, ColorScale scale,
      DoubleFunction<String> cellText, boolean baselineOnScale, int columns) {
    if (panels.isEmpty()) {
      throw new IllegalArgumentException("a figure needs at least one panel");
    }
    this.title = title;
    this.panels = List.copyOf(panels);
    this.layers = layers;
    this.scale = scale;
    this.cellText = cellText;
    this.baselineOnScale = baselineOnScale;

    // Few layers get large cells, but the grid never gets shorter than its axis titles are long.
    double fitted = Math.max(MIN_CELL, Math.min(MAX_CELL, Math.floor(GRID_TARGET / layers)));
    cell = Math.max(Math.ceil(MIN_GRID / layers), fitted);
    gap = cell >= 24 ? 2 : 1;
    grid = layers * cell;
    tickFont = new Font(FAMILY, Font.PLAIN, 1).deriveFont((float) Math.max(9, Math.min(12, cell * 0.42)));
    valueFont = valueFont();

    // The baseline box sits in the empty corner above the diagonal if a box of useful size fits with
    // half a cell of air to the diagonal cells; the corner is floor(L/2) cells wide.
    double corner = Math.floor(layers / 2.0) * cell - cell / 2;
    boxInside = corner >= MIN_INSIDE_BOX;
    boxSide = boxInside ? Math.min(MAX_BOX, corner) : OUTSIDE_BOX;
    boxLabelFont = new Font(FAMILY, Font.PLAIN, 1).deriveFont((float) Math.min(12, boxSide * 0.16));
    boxValueFont = new Font(FAMILY, Font.BOLD, 1).deriveFont((float) Math.min(22, boxSide * 0.27));

    double tickWidth = textWidth(tickFont, Integer.toString(layers - 1));
    leftWidth = axisFont.getSize2D() + 10 + tickWidth + 6;
    titleHeight = 28;
    double bottomHeight = 6 + tickFont.getSize2D() + 10 + axisFont.getSize2D() + 4;
    panelWidth = leftWidth + grid + (boxInside ? 0 : 14 + boxSide);
    panelHeight = titleHeight + grid + bottomHeight;
    this.columns = columns;
    int rows = (panels.size() + columns - 1) / columns;

    barX = MARGIN + columns * panelWidth + (columns - 1) * PANEL_GAP_X + 28;
    barTickWidth = maxTickWidth(barFont, scale);
    double barRight = barX + BAR_WIDTH + 8 + barTickWidth + 8 + axisFont.getSize2D();
    // The panels and the colour bar set the width; the title may widen it, the subtitle wraps to it.
    double lineWidth = Math.max(barRight - MARGIN, textWidth(titleFont, title));
    subtitleLines = wrap(subtitle, subtitleFont, lineWidth);
    headerHeight = (title.isEmpty() ? 0 : 28) + subtitleLines.size() * 20 + 12;
    double panelsBottom = MARGIN + headerHeight + rows * panelHeight + (rows - 1) * PANEL_GAP_Y;
    barY = MARGIN + headerHeight + titleHeight;
    barHeight = Math.max(grid, MIN_BAR_HEIGHT);
    width = Math.ceil(MARGIN + lineWidth + MARGIN);
    height = Math.ceil(Math.max(panelsBottom, barY + barHeight + tickFont.getSize2D()) + MARGIN);
  }

  private static double maxTickWidth(Font font, ColorScale scale) {
    double widest = 0;
    for (double t : scale.ticks()) {
      widest = Math.max(widest, textWidth(font, scale.tickLabel(t)));
    }
    return widest;
  }

  /** Joins pieces with a middle dot into lines no wider than {@code maxWidth} where possible. */
  private static List<String> wrap(List<String> pieces, Font font, double maxWidth) {
    List<String> lines = new ArrayList<>();
    String line = "";
    for (String piece : pieces) {
      String longer = line.isEmpty() ? piece : line + SEPARATOR + piece;
      if (!line.isEmpty() && textWidth(font, longer) > maxWidth) {
        lines.add(line);
        line = piece;
      } else {
        line = longer;
      }
    }
    if (!line.isEmpty()) {
      lines.add(line);
    }
    return lines.stream().map(l -> fit(l, font, maxWidth)).toList();
  }

  /**
   * The largest font up to 15 units that fits every value in its cell, or null when values would be
   * unreadably small; the figure then relies on colour alone.
   */
  private Font valueFont() {
    if (cell < MIN_CELL_WITH_VALUES) {
      return null;
    }
    float size = (float) Math.min(15, cell * 0.36);
    Font font = new Font(FAMILY, Font.PLAIN, 1).deriveFont(size);
    while (size >= MIN_VALUE_FONT && widestValue(font) > cell - gap - 6) {
      size -= 0.5f;
      font = font.deriveFont(size);
    }
    return size >= MIN_VALUE_FONT ? font : null;
  }

  private double widestValue(Font font) {
    double widest = 0;
    for (Panel p : panels) {
      for (int s = 0; s < layers; s++) {
        for (int e = s; e < layers; e++) {
          double v = p.cells()[s][e];
          if (!Double.isNaN(v)) {
            widest = Math.max(widest, textWidth(font, cellText.apply(v)));
          }
        }
      }
    }
    return widest;
  }

  @Override
  public double width() {
    return width;
  }

  @Override
  public double height() {
    return height;
  }

  /** Whether cells carry their values as text (false only when cells are too small to read them). */
  boolean showsValues() {
    return valueFont != null;
  }

  /** The coloured area of a span's cell. */
  Rectangle2D cellBounds(int panel, int start, int end) {
    return new Rectangle2D.Double(gridX(panel) + start * cell + gap / 2, gridY(panel) + end * cell + gap / 2,
        cell - gap, cell - gap);
  }

  /** The baseline box of a panel. */
  Rectangle2D baselineBounds(int panel) {
    double x = boxInside ? gridX(panel) + grid - boxSide : gridX(panel) + grid + 14;
    return new Rectangle2D.Double(x, gridY(panel), boxSide, boxSide);
  }

  private double panelX(int panel) {
    return MARGIN + (panel % columns) * (panelWidth + PANEL_GAP_X);
  }

  private double panelY(int panel) {
    return MARGIN + headerHeight + (panel / columns) * (panelHeight + PANEL_GAP_Y);
  }

  private double gridX(int panel) {
    return panelX(panel) + leftWidth;
  }

  private double gridY(int panel) {
    return panelY(panel) + titleHeight;
  }

  @Override
  public void draw(Graphics2D g) {
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
    g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
    g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
    g.setColor(Color.WHITE);
    g.fill(new Rectangle2D.Double(0, 0, width, height));

    double y = MARGIN;
    if (!title.isEmpty()) {
      text(g, title, titleFont, INK, MARGIN, y + 20);
      y += 28;
    }
    for (String line : subtitleLines) {
      text(g, line, subtitleFont, MUTED, MARGIN, y + 14);
      y += 20;
    }
    for (int i = 0; i < panels.size(); i++) {
      drawPanel(g, i);
    }
    drawColorBar(g);
  }

  private void drawPanel(Graphics2D g, int index) {
    Panel panel = panels.get(index);
    double gx = gridX(index);
    double gy = gridY(index);
    double panelRight = panelX(index) + panelWidth;
    String heading = fit(panel.title(), panelTitleFont, panelRight - gx);
    centered(g, heading, panelTitleFont, INK, gx + Math.min(grid, panelRight - gx) / 2, gy - 10);

    for (int s = 0; s < layers; s++) {
      for (int e = s; e < layers; e++) {
        double v = panel.cells()[s][e];
        Rectangle2D r = cellBounds(index, s, e);
        Color fill = Double.isNaN(v) ? MISSING : scale.colorOf(v);
        g.setColor(fill);
        g.fill(r);
        if (panel.uncertain() != null && panel.uncertain()[s][e] && !Double.isNaN(v)) {
          hatch(g, r, textOn(fill));
        }
        if (valueFont != null && !Double.isNaN(v)) {
          middle(g, cellText.apply(v), valueFont, textOn(fill), r.getCenterX(), r.getCenterY());
        }
      }
    }
    if (panel.note() != null) {
      // At the centroid of the triangle of cells, where the grid is widest around it.
      middle(g, panel.note(), axisFont, MUTED, gx + grid / 3, gy + grid * 2 / 3);
    }
    drawBaseline(g, index, panel.baseline());

    for (int layer = 0; layer < layers; layer++) {
      String label = Integer.toString(layer);
      double labelWidth = textWidth(tickFont, label);
      middle(g, label, tickFont, MUTED, gx - 6 - labelWidth / 2, gy + layer * cell + cell / 2);
      centered(g, label, tickFont, MUTED, gx + layer * cell + cell / 2, gy + grid + 6 + tickFont.getSize2D());
    }
    centered(g, "first skipped layer", axisFont, INK, gx + grid / 2,
        gy + grid + 6 + tickFont.getSize2D() + 10 + axisFont.getSize2D());
    // Grids in a row share the vertical axis; its title is written once, at the left.
    if (index % columns == 0) {
      rotated(g, "last skipped layer", axisFont, INK, panelX(index) + axisFont.getSize2D(), gy + grid / 2);
    }
  }

  private void drawBaseline(Graphics2D g, int index, double value) {
    Rectangle2D box = baselineBounds(index);
    var shape = new RoundRectangle2D.Double(box.getX(), box.getY(), box.getWidth(), box.getHeight(), 8, 8);
    Color fill = !baselineOnScale ? Color.WHITE : Double.isNaN(value) ? MISSING : scale.colorOf(value);
    g.setColor(fill);
    g.fill(shape);
    if (!baselineOnScale) {
      g.setColor(BOX_EDGE);
      g.setStroke(new BasicStroke(1f));
      g.draw(shape);
    }
    Color ink = textOn(fill);
    middle(g, "baseline", boxLabelFont, ink, box.getCenterX(), box.getY() + box.getHeight() * 0.3);
    middle(g, Double.isNaN(value) ? "n/a" : accuracyText(value), boxValueFont, ink,
        box.getCenterX(), box.getY() + box.getHeight() * 0.64);
  }

  private void drawColorBar(Graphics2D g) {
    g.setPaint(scale.gradient(new Point2D.Double(0, barY + barHeight), new Point2D.Double(0, barY)));
    g.fill(new Rectangle2D.Double(barX, barY, BAR_WIDTH, barHeight));
    g.setColor(MUTED);
    g.setStroke(new BasicStroke(1f));
    for (double t : scale.ticks()) {
      double y = barY + barHeight - (t - scale.min()) / (scale.max() - scale.min()) * barHeight;
      g.draw(new Line2D.Double(barX + BAR_WIDTH, y, barX + BAR_WIDTH + 4, y));
      middle(g, scale.tickLabel(t), barFont, MUTED,
          barX + BAR_WIDTH + 8 + textWidth(barFont, scale.tickLabel(t)) / 2, y);
    }
    double titleX = barX + BAR_WIDTH + 8 + barTickWidth + 8 + axisFont.getSize2D();
    rotated(g, scale.title(), axisFont, INK, titleX, barY + barHeight / 2);
  }

  /** Near-black on light colours, white on dark ones, split at a relative luminance of 0.408. */
  /** Thin diagonal lines across a cell, in the colour its text would have, so that they show on any fill. */
  private static void hatch(Graphics2D g, Rectangle2D r, Color ink) {
    Shape clip = g.getClip();
    Stroke stroke = g.getStroke();
    g.clip(r);
    g.setColor(new Color(ink.getRed(), ink.getGreen(), ink.getBlue(), 90));
    g.setStroke(new BasicStroke(1f));
    for (double d = -r.getHeight(); d < r.getWidth(); d += HATCH_GAP) {
      g.draw(new Line2D.Double(r.getX() + d, r.getMaxY(), r.getX() + d + r.getHeight(), r.getY()));
    }
    g.setStroke(stroke);
    g.setClip(clip);
  }

  static Color textOn(Color fill) {
    double luminance = 0.2126 * linear(fill.getRed()) + 0.7152 * linear(fill.getGreen())
        + 0.0722 * linear(fill.getBlue());
    return luminance > 0.408 ? INK : Color.WHITE;
  }

  /** An sRGB channel (0..255) as linear light (0..1). */
  private static double linear(int channel) {
    double c = channel / 255.0;
    return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  }

  /** An accuracy as in a table of results: two decimals, no leading zero (".93", "1.00"). */
  static String accuracyText(double value) {
    return String.format(Locale.ROOT, "%.2f", value).replaceFirst("^0\\.", ".");
  }

  /** A change with its sign and two decimals, no leading zero ("+.05", "−.12"); "0" if it rounds to 0. */
  static String changeText(double value) {
    String digits = String.format(Locale.ROOT, "%.2f", Math.abs(value)).replaceFirst("^0\\.", ".");
    if (digits.equals(".00")) {
      return "0";
    }
    return (value < 0 ? "\u2212" : "+") + digits;
  }

  /** The font that draws {@code text}: {@code font} unless it lacks glyphs for it (see {@link FontStack}). */
  private static Font display(Font font, String text) {
    return FontStack.standard().fontFor(font, text);
  }

  private static double textWidth(Font font, String text) {
    return text.isEmpty() ? 0 : display(font, text).getStringBounds(text, FRC).getWidth();
  }

  /** The text, cut with an ellipsis to fit {@code maxWidth}. */
  private static String fit(String text, Font font, double maxWidth) {
    if (textWidth(font, text) <= maxWidth) {
      return text;
    }
    int keep = text.length();
    while (keep > 1 && textWidth(font, text.substring(0, keep) + "\u2026") > maxWidth) {
      keep--;
    }
    return text.substring(0, keep) + "\u2026";
  }

  private static void text(Graphics2D g, String text, Font font, Color color, double x, double baseline) {
    g.setFont(display(font, text));
    g.setColor(color);
    g.drawString(text, (float) x, (float) baseline);
  }

  /** Centred horizontally on {@code cx}, baseline at {@code baseline}. */
  private static void centered(Graphics2D g, String text, Font font, Color color, double cx, double baseline) {
    text(g, text, font, color, cx - textWidth(font, text) / 2, baseline);
  }

  /**
   * Centred on ({@code cx}, {@code cy}). The baseline is placed from the font size rather than from
   * measured glyph bounds, which SVG viewers would not reproduce: digits are about 0.72 em tall.
   */
  private static void middle(Graphics2D g, String text, Font font, Color color, double cx, double cy) {
    centered(g, text, font, color, cx, cy + 0.36 * font.getSize2D());
  }

  /** Turned a quarter to the left, reading upwards, centred on y, baseline at x. */
  private static void rotated(Graphics2D g, String text, Font font, Color color, double x, double cy) {
    AffineTransform saved = g.getTransform();
    g.translate(x, cy);
    g.rotate(-Math.PI / 2);
    centered(g, text, font, color, 0, 0);
    g.setTransform(saved);
  }
}
