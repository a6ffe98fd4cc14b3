package dev.onnxskip.report;

import dev.onnxskip.eval.LayerMetrics;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;
import java.util.List;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.StandardChartTheme;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.data.category.DefaultCategoryDataset;

/**
 * {@code block-influence.png} / {@code .svg}: each layer's Block Influence, overall and per gold
 * label side by side, so that a layer that changes one label's examples more than the others' shows.
 */
final class BlockInfluenceChart {
  private static final int WIDTH = 900;
  private static final int HEIGHT = 480;

  private BlockInfluenceChart() {}

  static JFreeChart chart(LayerMetrics metrics) {
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    List<String> groups = metrics.groups();
    int overall = groups.size() - 1;
    for (LayerMetrics.LayerFigures layer : metrics.layers()) {
      String category = "layer " + layer.layer();
      // Overall first, then the labels in their order.
      data.addValue(layer.blockInfluence()[overall], groups.get(overall), category);
      for (int g = 0; g < overall; g++) {
        data.addValue(layer.blockInfluence()[g], groups.get(g), category);
      }
    }
    Font font = FontStack.standard().fontFor(new Font(Font.SANS_SERIF, Font.PLAIN, 13), String.join(" ", groups));
    StandardChartTheme theme = (StandardChartTheme) StandardChartTheme.createJFreeTheme();
    theme.setExtraLargeFont(font.deriveFont(Font.BOLD, 18f));
    theme.setLargeFont(font.deriveFont(Font.BOLD, 14f));
    theme.setRegularFont(font.deriveFont(12f));
    theme.setSmallFont(font.deriveFont(10f));
    JFreeChart chart = ChartFactory.createBarChart("Block Influence per layer, overall and per gold label", "encoder layer",
        "1 − cos(h_k, h_k+1), mean over real tokens", data, PlotOrientation.VERTICAL, true, false, false);
    theme.apply(chart);
    chart.setBackgroundPaint(Color.WHITE);
    chart.getPlot().setBackgroundPaint(Color.WHITE);
    BarRenderer bars = (BarRenderer) chart.getCategoryPlot().getRenderer();
    bars.setBarPainter(new StandardBarPainter());
    bars.setShadowVisible(false);
    bars.setSeriesPaint(0, new Color(0x3B3B3B));
    return chart;
  }

  /** The chart as a figure of the run, written as the others are. */
  static Figure figure(LayerMetrics metrics) {
    JFreeChart chart = chart(metrics);
    return new Figure() {
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
        chart.draw(g, new Rectangle2D.Double(0, 0, WIDTH, HEIGHT));
      }
    };
  }
}
