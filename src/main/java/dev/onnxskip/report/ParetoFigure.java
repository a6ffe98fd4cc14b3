package dev.onnxskip.report;

import dev.onnxskip.eval.Findings;
import dev.onnxskip.eval.LabelScore;
import dev.onnxskip.eval.Latencies;
import dev.onnxskip.eval.RunResults;
import dev.onnxskip.eval.VariantResult;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.font.FontRenderContext;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code pareto.png} and {@code .svg}: measured speed-up against the baseline (x) and accuracy (y) of
 * every variant, in two series, the overall accuracy and the accuracy of the variant's worst label,
 * each point named by its span, the baseline at speed-up 1. Each series' Pareto front (the variants
 * that no other beats on both speed and accuracy) is joined by a line. Where the run has statistics, a
 * filled marker is a change against the baseline that is significant after the Holm correction and a
 * hollow one a change that is not. Drawn once against {@link Graphics2D}, so both files show the same
 * picture, as the heatmaps are.
 */
final class ParetoFigure implements Figure {
  static {
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  /** Which accuracy a point shows. */
  enum Series {
    OVERALL("overall accuracy", new Color(0x1F5FA8)),
    WORST_LABEL("worst label's accuracy", new Color(0xC2452D));

    final String title;
    final Color color;

    Series(String title, Color color) {
      this.title = title;
      this.color = color;
    }
  }

  /**
   * One point.
   *
   * @param name "baseline" or the span
   * @param significant whether its change against the baseline is Holm-significant; empty for the
   *     baseline and for runs without statistics
   * @param front whether it lies on its series' Pareto front
   */
  record Point(String name, Series series, double speedup, double accuracy, Optional<Boolean> significant, boolean front) {}

  private static final FontRenderContext FRC = new FontRenderContext(null, true, true);
  private static final Color INK = new Color(0x1A1A1A);
  private static final Color MUTED = new Color(0x5C5C5C);
  private static final Color GRID = new Color(0xE6E6E6);
  private static final double WIDTH = 900;
  private static final double HEIGHT = 640;
  private static final double LEFT = 78;
  private static final double RIGHT = 220;
  private static final double TOP = 88;
  private static final double BOTTOM = 70;
  private static final double MARKER = 9;

  private final String title;
  private final String subtitle;
  private final List<Point> points;
  private final boolean withSignificance;
  private final double[] xRange;
  private final double[] yRange;
  /** Speed-ups spread over more than {@link #LOG_RATIO} times are drawn on a logarithmic axis. */
  private final boolean logX;
  private static final double LOG_RATIO = 4;
  private final Font titleFont = new Font(Font.SANS_SERIF, Font.BOLD, 20);
  private final Font subtitleFont = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
  private final Font axisFont = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
  private final Font tickFont = new Font(Font.SANS_SERIF, Font.PLAIN, 11);
  private final Font pointFont = new Font(Font.SANS_SERIF, Font.PLAIN, 10);

  ParetoFigure(String title, String subtitle, List<Point> points, boolean withSignificance) {
    if (points.isEmpty()) {
      throw new IllegalArgumentException("a figure needs at least one point");
    }
    this.title = title;
    this.subtitle = subtitle;
    this.points = List.copyOf(points);
    this.withSignificance = withSignificance;
    double minX = Math.min(1, points.stream().mapToDouble(Point::speedup).min().orElseThrow());
    double maxX = Math.max(1, points.stream().mapToDouble(Point::speedup).max().orElseThrow());
    double minY = points.stream().mapToDouble(Point::accuracy).min().orElseThrow();
    double maxY = points.stream().mapToDouble(Point::accuracy).max().orElseThrow();
    logX = maxX / minX > LOG_RATIO;
    xRange = logX ? new double[] {minX / 1.15, maxX * 1.15} : niceRange(minX, maxX, 0, Double.POSITIVE_INFINITY);
    yRange = niceRange(minY, Math.max(maxY, minY + 0.01), 0, 1);
  }

  /** The figure of a run whose variants' speed was measured. */
  static ParetoFigure of(RunResults results, Latencies latencies) {
    List<Point> points = new ArrayList<>();
    for (Series series : Series.values()) {
      List<Point> ofSeries = new ArrayList<>();
      for (int i = 0; i < results.variants().size(); i++) {
        VariantResult v = results.variants().get(i);
        Optional<Latencies.VariantLatency> measured = latencies.of(v.variant());
        if (measured.isEmpty()) {
          continue;
        }
        int worst = worstLabel(v);
        double accuracy = series == Series.OVERALL ? v.metrics().accuracy() : v.metrics().perLabel().get(worst).accuracy();
        int at = i;
        Optional<Boolean> significant = results.findings().flatMap(f -> {
          Findings.VariantFindings vf = f.variants().get(at);
          Findings.Figures group = series == Series.OVERALL ? vf.overall() : vf.groups().get(worst);
          return group.change().map(Findings.Change::significant);
        });
        ofSeries.add(new Point(v.name(), series, latencies.speedup(measured.get()), accuracy, significant, false));
      }
      boolean[] front = front(ofSeries.stream().map(p -> new double[] {p.speedup(), p.accuracy()}).toList());
      for (int i = 0; i < ofSeries.size(); i++) {
        Point p = ofSeries.get(i);
        points.add(new Point(p.name(), p.series(), p.speedup(), p.accuracy(), p.significant(), front[i]));
      }
    }
    Latencies.Settings s = latencies.settings();
    String subtitle = String.format(Locale.ROOT, "%s, %s; batch 1, %d tokens; median of %d runs after %d warm-up",
        s.device(), s.threads() == 0 ? "default threads" : s.threads() + (s.threads() == 1 ? " thread" : " threads"),
        s.sequenceLength(), s.repeats(), s.warmup());
    return new ParetoFigure("Speed-up and accuracy of each variant", subtitle, points, results.findings().isPresent());
  }

  /** The label with examples that the variant gets right least often; the first of equals. */
  static int worstLabel(VariantResult v) {
    List<LabelScore> scores = v.metrics().perLabel();
    int worst = -1;
    for (int i = 0; i < scores.size(); i++) {
      if (scores.get(i).support() > 0 && (worst < 0 || scores.get(i).accuracy() < scores.get(worst).accuracy())) {
        worst = i;
      }
    }
    return Math.max(worst, 0);
  }

  /**
   * Which points lie on the Pareto front of (x, y), both to be maximised: those that no other point
   * matches on both and beats on one.
   */
  static boolean[] front(List<double[]> xy) {
    boolean[] on = new boolean[xy.size()];
    for (int i = 0; i < xy.size(); i++) {
      on[i] = true;
      for (int j = 0; j < xy.size() && on[i]; j++) {
        double[] a = xy.get(i);
        double[] b = xy.get(j);
        if (j != i && b[0] >= a[0] && b[1] >= a[1] && (b[0] > a[0] || b[1] > a[1])) {
          on[i] = false;
        }
      }
    }
    return on;
  }

  List<Point> points() {
    return points;
  }

  @Override
  public double width() {
    return WIDTH;
  }

  @Override
  public double height() {
    return HEIGHT;
  }

  @Override
  public void draw(Graphics2D g) {
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
    g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
    g.setColor(Color.WHITE);
    g.fill(new Rectangle2D.Double(0, 0, WIDTH, HEIGHT));
    text(g, title, titleFont, INK, 24, 44);
    text(g, subtitle, subtitleFont, MUTED, 24, 66);

    double plotW = WIDTH - LEFT - RIGHT;
    double plotH = HEIGHT - TOP - BOTTOM;
    g.setStroke(new BasicStroke(1f));
    for (double t : logX ? logTicks(xRange) : ticks(xRange)) {
      double x = x(t);
      g.setColor(GRID);
      g.draw(new Line2D.Double(x, TOP, x, TOP + plotH));
      String label = (t >= 10 ? String.format(Locale.ROOT, "%.0f", t) : String.format(Locale.ROOT, "%.2f", t).replaceFirst("\\.?0+$", ""))
          + "\u00d7";
      centered(g, label, tickFont, MUTED, x, TOP + plotH + 16);
    }
    for (double t : ticks(yRange)) {
      double y = y(t);
      g.setColor(GRID);
      g.draw(new Line2D.Double(LEFT, y, LEFT + plotW, y));
      String label = String.format(Locale.ROOT, "%.2f", t);
      text(g, label, tickFont, MUTED, LEFT - 8 - width(tickFont, label), y + 4);
    }
    g.setColor(MUTED);
    g.draw(new Rectangle2D.Double(LEFT, TOP, plotW, plotH));
    // The baseline's speed: points left of it are slower than the model they came from.
    g.setStroke(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {4f, 4f}, 0f));
    g.draw(new Line2D.Double(x(1), TOP, x(1), TOP + plotH));
    centered(g, "speed-up against the baseline (\u00d7, median batch-1 latency" + (logX ? ", logarithmic" : "") + ")", axisFont, INK, LEFT + plotW / 2, HEIGHT - 24);
    AffineTransform saved = g.getTransform();
    g.translate(24, TOP + plotH / 2);
    g.rotate(-Math.PI / 2);
    centered(g, "accuracy (share of examples right)", axisFont, INK, 0, 0);
    g.setTransform(saved);

    for (Series series : Series.values()) {
      List<Point> front = points.stream().filter(p -> p.series() == series && p.front())
          .sorted(Comparator.comparingDouble(Point::speedup)).toList();
      Path2D line = new Path2D.Double();
      for (int i = 0; i < front.size(); i++) {
        if (i == 0) {
          line.moveTo(x(front.get(i).speedup()), y(front.get(i).accuracy()));
        } else {
          line.lineTo(x(front.get(i).speedup()), y(front.get(i).accuracy()));
        }
      }
      g.setColor(series.color);
      g.setStroke(new BasicStroke(1.5f));
      g.draw(line);
    }
    for (Point p : points) {
      drawPoint(g, p);
    }
    drawLegend(g, LEFT + plotW + 18, TOP);
  }

  private void drawPoint(Graphics2D g, Point p) {
    double cx = x(p.speedup());
    double cy = y(p.accuracy());
    boolean baseline = p.name().equals("baseline");
    java.awt.Shape marker = p.series() == Series.OVERALL
        ? new Ellipse2D.Double(cx - MARKER / 2, cy - MARKER / 2, MARKER, MARKER)
        : diamond(cx, cy, MARKER * 0.65);
    boolean filled = baseline || p.significant().orElse(true);
    g.setColor(p.series().color);
    if (filled) {
      g.fill(marker);
    } else {
      g.setColor(Color.WHITE);
      g.fill(marker);
      g.setColor(p.series().color);
    }
    g.setStroke(new BasicStroke(baseline ? 2.5f : 1.3f));
    g.draw(marker);
    if (baseline) {
      g.setColor(INK);
      g.draw(new Ellipse2D.Double(cx - MARKER, cy - MARKER, 2 * MARKER, 2 * MARKER));
    }
    // The baseline is one model: named once, beside its overall point.
    if (!baseline || p.series() == Series.OVERALL) {
      text(g, p.name(), baseline ? axisFont : pointFont, p.front() || baseline ? INK : MUTED, cx + MARKER * 0.8, cy - MARKER * 0.6);
    }
  }

  private void drawLegend(Graphics2D g, double x, double y) {
    double line = y + 4;
    for (Series s : Series.values()) {
      g.setColor(s.color);
      java.awt.Shape marker = s == Series.OVERALL ? new Ellipse2D.Double(x, line, MARKER, MARKER) : diamond(x + MARKER / 2, line + MARKER / 2, MARKER * 0.65);
      g.fill(marker);
      text(g, s.title, tickFont, INK, x + 16, line + 9);
      line += 20;
    }
    g.setColor(INK);
    g.setStroke(new BasicStroke(1.5f));
    g.draw(new Line2D.Double(x, line + 5, x + MARKER + 2, line + 5));
    text(g, "Pareto front", tickFont, INK, x + 16, line + 9);
    line += 20;
    g.setStroke(new BasicStroke(2.5f));
    g.draw(new Ellipse2D.Double(x, line, MARKER, MARKER));
    text(g, "baseline (speed-up 1)", tickFont, INK, x + 16, line + 9);
    line += 26;
    if (withSignificance) {
      g.setStroke(new BasicStroke(1.3f));
      g.setColor(MUTED);
      g.fill(new Ellipse2D.Double(x, line, MARKER, MARKER));
      text(g, "change significant", tickFont, INK, x + 16, line + 9);
      line += 15;
      text(g, "(McNemar, Holm)", tickFont, MUTED, x + 16, line + 9);
      line += 20;
      g.draw(new Ellipse2D.Double(x, line, MARKER, MARKER));
      text(g, "change not significant", tickFont, INK, x + 16, line + 9);
    }
  }

  private static java.awt.Shape diamond(double cx, double cy, double r) {
    Path2D d = new Path2D.Double();
    d.moveTo(cx, cy - r);
    d.lineTo(cx + r, cy);
    d.lineTo(cx, cy + r);
    d.lineTo(cx - r, cy);
    d.closePath();
    return d;
  }

  private double x(double value) {
    double share = logX ? Math.log(value / xRange[0]) / Math.log(xRange[1] / xRange[0]) : (value - xRange[0]) / (xRange[1] - xRange[0]);
    return LEFT + share * (WIDTH - LEFT - RIGHT);
  }

  private double y(double value) {
    return TOP + (HEIGHT - TOP - BOTTOM) - (value - yRange[0]) / (yRange[1] - yRange[0]) * (HEIGHT - TOP - BOTTOM);
  }

  /** A range around [min, max] with a margin, its ends on multiples of a round step. */
  static double[] niceRange(double min, double max, double floor, double ceiling) {
    double span = Math.max(max - min, 1e-3);
    double step = step(span);
    double lo = Math.max(floor, Math.floor((min - span * 0.05) / step) * step);
    double hi = Math.min(ceiling, Math.ceil((max + span * 0.05) / step) * step);
    return new double[] {lo, hi};
  }

  /** Ticks of a logarithmic axis: 1, 2 and 5 times the powers of ten within the range, and 1. */
  private static List<Double> logTicks(double[] range) {
    List<Double> ticks = new ArrayList<>();
    for (int power = (int) Math.floor(Math.log10(range[0])); power <= (int) Math.ceil(Math.log10(range[1])); power++) {
      for (double m : new double[] {1, 2, 5}) {
        double t = m * Math.pow(10, power);
        if (t >= range[0] && t <= range[1]) {
          ticks.add(t);
        }
      }
    }
    return ticks;
  }

  /** A step of 1, 2, 2.5 or 5 times a power of ten giving four to ten ticks over {@code span}. */
  private static double step(double span) {
    double raw = span / 6;
    double power = Math.pow(10, Math.floor(Math.log10(raw)));
    for (double m : new double[] {1, 2, 2.5, 5, 10}) {
      if (m * power >= raw) {
        return m * power;
      }
    }
    return 10 * power;
  }

  private static List<Double> ticks(double[] range) {
    double step = step(range[1] - range[0]);
    List<Double> ticks = new ArrayList<>();
    for (double t = Math.ceil(range[0] / step - 1e-9) * step; t <= range[1] + 1e-9; t += step) {
      ticks.add(Math.abs(t) < 1e-12 ? 0 : t);
    }
    return ticks;
  }

  private static Font display(Font font, String text) {
    return FontStack.standard().fontFor(font, text);
  }

  private static double width(Font font, String text) {
    return text.isEmpty() ? 0 : display(font, text).getStringBounds(text, FRC).getWidth();
  }

  private static void text(Graphics2D g, String text, Font font, Color color, double x, double baseline) {
    g.setFont(display(font, text));
    g.setColor(color);
    g.drawString(text, (float) x, (float) baseline);
  }

  private static void centered(Graphics2D g, String text, Font font, Color color, double cx, double baseline) {
    text(g, text, font, color, cx - width(font, text) / 2, baseline);
  }
}
