package dev.onnxskip.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxskip.eval.Metrics;
import dev.onnxskip.eval.RunResults;
import dev.onnxskip.eval.VariantResult;
import dev.onnxskip.rewrite.SkipSpan;
import java.awt.Color;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.NodeList;

class HeatmapsTest {
  private static final int NEG = 0;
  private static final int POS = 1;

  /** The figures of the hand-made run, written once: drawing is the slow part of these tests. */
  @TempDir static Path dir;
  private static List<Path> files;

  @BeforeAll
  static void writeFigures() {
    files = Heatmaps.write(HandRun.results(), dir);
  }

  @Test
  void writesEveryFigureAsPngAndSvg() throws Exception {
    List<String> names = files.stream().map(p -> p.getFileName().toString()).toList();
    assertEquals(List.of(
        "heatmap-neg.png", "heatmap-neg.svg", "heatmap-neg-delta.png", "heatmap-neg-delta.svg",
        "heatmap-pos.png", "heatmap-pos.svg", "heatmap-pos-delta.png", "heatmap-pos-delta.svg",
        "heatmaps.png", "heatmaps.svg"), names);
    try (Stream<Path> inDir = Files.list(dir)) {
      assertEquals(new HashSet<>(files), new HashSet<>(inDir.toList()), "nothing else, no temporary files");
    }
    for (Path file : files) {
      if (file.toString().endsWith(".png")) {
        BufferedImage image = ImageIO.read(file.toFile());
        assertNotNull(image, file + " must load as an image");
        assertTrue(image.getWidth() >= 600 && image.getWidth() <= 4000, file + " width " + image.getWidth());
        assertTrue(image.getHeight() >= 400 && image.getHeight() <= 2000, file + " height " + image.getHeight());
      } else {
        svgTexts(Files.readString(file, StandardCharsets.UTF_8));
      }
    }
    BufferedImage overview = ImageIO.read(dir.resolve("heatmaps.png").toFile());
    HeatmapFigure figure = Heatmaps.overview(HandRun.results());
    assertEquals((int) figure.width() * HeatmapFigure.PNG_SCALE, overview.getWidth());
    assertEquals((int) figure.height() * HeatmapFigure.PNG_SCALE, overview.getHeight());
  }

  @Test
  void cellsHaveTheColourOfTheirAccuracy() throws IOException {
    BufferedImage image = ImageIO.read(dir.resolve("heatmaps.png").toFile());
    HeatmapFigure figure = Heatmaps.overview(HandRun.results());
    ColorScale scale = ColorScale.accuracy();
    // Span 0-1 predicts neg always (neg 1.0, pos 0.0), span 0-2 pos always (neg 0.0, pos 1.0).
    assertEquals(scale.colorOf(1.0), pixel(image, figure.cellBounds(NEG, 0, 1)));
    assertEquals(scale.colorOf(0.0), pixel(image, figure.cellBounds(NEG, 0, 2)));
    assertEquals(scale.colorOf(0.0), pixel(image, figure.cellBounds(POS, 0, 1)));
    assertEquals(scale.colorOf(1.0), pixel(image, figure.cellBounds(POS, 0, 2)));
    assertEquals(scale.colorOf(0.7), pixel(image, figure.cellBounds(NEG, 2, 2)));
    assertEquals(new Color(0x440154), scale.colorOf(0.0));
    // The baseline box beside the grid is on the same scale: neg .9, pos .8.
    assertEquals(scale.colorOf(0.9), pixel(image, figure.baselineBounds(NEG)));
    assertEquals(scale.colorOf(0.8), pixel(image, figure.baselineBounds(POS)));
    Rectangle2D grid = figure.cellBounds(NEG, 0, 0).createUnion(figure.cellBounds(NEG, 2, 2));
    assertFalse(grid.intersects(figure.baselineBounds(NEG)), "the baseline box stands apart from the grid");
    // Above the diagonal there is no span: it stays white.
    assertEquals(Color.WHITE, pixel(image, figure.cellBounds(NEG, 1, 0)));
  }

  /**
   * Where each span's cell lies, by the layout {@link HeatmapFigure} documents (column = first skipped
   * layer from the left, row = last skipped layer from the top), with the grid's place and cell pitch
   * measured from the PNG alone instead of taken from the figure's own cell bounds. Every span has a
   * value of its own, so a grid drawn transposed or mirrored shows another colour, or none, at the spot
   * where a cell must be.
   */
  @Test
  void eachCellSitsInTheColumnOfItsFirstAndTheRowOfItsLastSkippedLayer(@TempDir Path out) throws IOException {
    // Accuracies of label x as twentieths. The diagonal is light, so its values are written in dark
    // ink and only the gaps between cells are pure white along it (see MeasuredGrid).
    long[][] right = {{16, 2, 6}, {0, 18, 11}, {0, 0, 20}};
    List<String> labels = List.of("x", "y");
    List<VariantResult> variants = new ArrayList<>();
    variants.add(VariantResult.baseline(new Metrics(labels, new long[][] {{12, 8}, {0, 20}})));
    for (int s = 0; s < 3; s++) {
      for (int e = s; e < 3; e++) {
        variants.add(new VariantResult(new SkipSpan(s, e), new Metrics(labels, new long[][] {{right[s][e], 20 - right[s][e]}, {0, 20}})));
      }
    }
    Heatmaps.write(new RunResults(Map.of(), Map.of(), labels, 3, variants, "2025-01-01T00:00:00Z"), out);
    BufferedImage image = ImageIO.read(out.resolve("heatmap-x.png").toFile());
    MeasuredGrid grid = MeasuredGrid.of(image, 3);
    for (int s = 0; s < 3; s++) {
      for (int e = s; e < 3; e++) {
        assertEquals(ColorScale.accuracy().colorOf(right[s][e] / 20.0), grid.colorAt(image, s, e), "span " + s + "-" + e);
      }
    }
  }

  /**
   * The grid of a one-panel figure as its pixels show it: the top-left corner of the top-left cell and
   * the distance from one cell to the next, in PNG pixels.
   */
  private record MeasuredGrid(int left, int top, double pitch) {

    /**
     * Nothing left of or above the grid is coloured (titles, tick numbers and axis names are grey), so
     * the first coloured column and, in it, the first coloured row are the top-left cell's corner. That
     * cell and every cell on the diagonal are filled whichever way the grid runs; walking down the
     * diagonal from the corner, each of them begins where a pure white gap ends.
     */
    static MeasuredGrid of(BufferedImage image, int layers) {
      int left = Integer.MAX_VALUE;
      for (int y = 0; y < image.getHeight(); y++) {
        for (int x = 0; x < Math.min(left, image.getWidth()); x++) {
          if (coloured(image.getRGB(x, y))) {
            left = x;
          }
        }
      }
      int top = 0;
      while (!coloured(image.getRGB(left + 2, top))) {
        top++;
      }
      List<Integer> starts = new ArrayList<>();
      boolean inCell = false;
      for (int t = 0; left + t < image.getWidth() && top + t < image.getHeight() && starts.size() < layers; t++) {
        boolean white = (image.getRGB(left + t, top + t) & 0xFFFFFF) == 0xFFFFFF;
        if (!white && !inCell) {
          starts.add(t);
        }
        inCell = !white;
      }
      assertEquals(layers, starts.size(), "cells found along the diagonal");
      double pitch = (double) (starts.get(layers - 1) - starts.get(0)) / (layers - 1);
      assertTrue(pitch > 20, "cell pitch " + pitch + " px");
      return new MeasuredGrid(left, top, pitch);
    }

    /** The colour three layout units inside the top-left corner of the cell in {@code column} and {@code row}. */
    Color colorAt(BufferedImage image, int column, int row) {
      int inset = 3 * HeatmapFigure.PNG_SCALE;
      return new Color(image.getRGB(left + (int) Math.round(column * pitch) + inset,
          top + (int) Math.round(row * pitch) + inset) & 0xFFFFFF);
    }

    /** Clearly not grey: the colour scales' colours are, text on white and its edges are not. */
    private static boolean coloured(int rgb) {
      Color c = new Color(rgb & 0xFFFFFF);
      int max = Math.max(c.getRed(), Math.max(c.getGreen(), c.getBlue()));
      int min = Math.min(c.getRed(), Math.min(c.getGreen(), c.getBlue()));
      return max - min > 40;
    }
  }

  @Test
  void changeCellsAreColouredAroundZero() throws IOException {
    BufferedImage image = ImageIO.read(dir.resolve("heatmap-neg-delta.png").toFile());
    HeatmapFigure figure = Heatmaps.changeFigure(HandRun.results(), NEG);
    // Changes on neg reach -0.9 (span 0-2), so the symmetric range is 1.
    ColorScale scale = ColorScale.change(1.0);
    assertEquals(scale.colorOf(0.0 - 0.9), pixel(image, figure.cellBounds(0, 0, 2)));
    assertEquals(new Color(0xF7F7F7), pixel(image, figure.cellBounds(0, 1, 1)), "no change is near-white");
    Color gain = pixel(image, figure.cellBounds(0, 0, 1));
    assertEquals(scale.colorOf(1.0 - 0.9), gain);
    assertTrue(gain.getBlue() > gain.getRed(), "a gain is blue");
  }

  @Test
  void svgCarriesTheValuesAsText() throws Exception {
    List<String> overview = svgTexts(Files.readString(dir.resolve("heatmaps.svg"), StandardCharsets.UTF_8));
    for (String expected : List.of("neg (n=10)", "pos (n=10)", "baseline", ".90", ".80", "1.00", ".00", ".70",
        "first skipped layer", "last skipped layer", "accuracy", "0", "1", "2")) {
      assertTrue(overview.contains(expected), expected + " in " + overview);
    }
    assertTrue(overview.stream().anyMatch(t -> t.contains("model: models/tiny/model.onnx")), overview.toString());
    // Neg cells, column by column: 0-0 .8, 0-1 1.0, 0-2 0, 1-1 .9, 1-2 .9, 2-2 .7; then the baseline .9.
    assertEquals(List.of(".80", "1.00", ".00", ".90", ".90", ".70", "baseline", ".90"), overview.subList(
        overview.indexOf("neg (n=10)") + 1, overview.indexOf("neg (n=10)") + 9));

    List<String> change = svgTexts(Files.readString(dir.resolve("heatmap-neg-delta.svg"), StandardCharsets.UTF_8));
    assertEquals(List.of("\u2212.10", "+.10", "\u2212.90", "0", "0", "\u2212.20"), change.subList(
        change.indexOf("neg (n=10)") + 1, change.indexOf("neg (n=10)") + 7));
    assertTrue(change.contains("change vs. baseline"));
  }

  @Test
  void sameFigureSameSvg() {
    assertEquals(Heatmaps.overview(HandRun.results()).toSvg(), Heatmaps.overview(HandRun.results()).toSvg());
  }

  @Test
  void twentyFourLayersStayLegible() throws Exception {
    RunResults run = SyntheticRuns.run(24, List.of("a", "b", "c"), 20);
    HeatmapFigure figure = Heatmaps.overview(run);
    assertFalse(figure.showsValues(), "300 cells per grid are too small for numbers");
    BufferedImage image = figure.toImage();
    assertTrue(image.getWidth() <= 4000, "width " + image.getWidth());
    double cellSide = figure.cellBounds(0, 0, 0).getWidth();
    assertTrue(cellSide >= 12, "cell side " + cellSide);
    for (int s = 0; s < 24; s += 7) {
      for (int e = s; e < 24; e += 5) {
        double accuracy = run.variant(new dev.onnxskip.rewrite.SkipSpan(s, e)).orElseThrow()
            .metrics().perLabel().get(2).accuracy();
        assertEquals(ColorScale.accuracy().colorOf(accuracy), pixel(image, figure.cellBounds(2, s, e)));
      }
    }
    List<String> texts = svgTexts(figure.toSvg());
    assertTrue(texts.containsAll(List.of("0", "12", "23")), "every layer keeps its axis number");
    assertEquals(3, texts.stream().filter(t -> t.matches("1\\.00|\\.\\d\\d")).count(),
        "only the three baseline boxes carry a value");
  }

  @Test
  void twelveLayersKeepTheirValues() throws Exception {
    RunResults run = SyntheticRuns.run(12, List.of("a", "b", "c"), 20);
    HeatmapFigure figure = Heatmaps.overview(run);
    assertTrue(figure.showsValues());
    List<String> texts = svgTexts(figure.toSvg());
    List<String> expected = new ArrayList<>();
    for (var v : run.spans()) {
      expected.add(HeatmapFigure.accuracyText(v.metrics().perLabel().get(1).accuracy()));
    }
    int start = texts.indexOf("b (n=20)") + 1;
    assertEquals(expected, texts.subList(start, start + expected.size()));
  }

  @Test
  void fileNamesAreSafeAndDistinct() {
    assertEquals(List.of("a_b", "a_b-2", "A_B-3", "_hidden", "_", "x", "x-delta-2", "café", "ok.v1"),
        Heatmaps.fileStems(List.of("a/b", "a_b", "A B", ".hidden", "", "x", "x-delta", "café", "ok.v1")));
  }

  @Test
  void fileNamesKeepLettersOfEveryScript() {
    assertEquals(List.of("正面", "负面", "中性", "неделя", "a_b_c_d_e_f_g_"),
        Heatmaps.fileStems(List.of("正面", "负面", "中性", "неделя", "a\\b:c*d?e\"f<g>")));
    // The same name in decomposed form (as some file systems store it) is the same file.
    assertEquals(List.of("café", "café-2"), Heatmaps.fileStems(List.of("caf\u00e9", "cafe\u0301")));
  }

  @Test
  void valueTexts() {
    assertEquals(".93", HeatmapFigure.accuracyText(0.93));
    assertEquals(".05", HeatmapFigure.accuracyText(0.0512));
    assertEquals("1.00", HeatmapFigure.accuracyText(1.0));
    assertEquals(".00", HeatmapFigure.accuracyText(0.0));
    assertEquals("+.05", HeatmapFigure.changeText(0.05));
    assertEquals("\u2212.12", HeatmapFigure.changeText(-0.12));
    assertEquals("0", HeatmapFigure.changeText(-0.001));
    assertEquals("\u22121.00", HeatmapFigure.changeText(-1.0));
  }

  @Test
  void textStaysReadableOnEveryColour() {
    assertEquals(Color.WHITE, HeatmapFigure.textOn(ColorScale.accuracy().colorOf(0)));
    assertEquals(Color.WHITE, HeatmapFigure.textOn(ColorScale.change(1).colorOf(-1)));
    assertFalse(Color.WHITE.equals(HeatmapFigure.textOn(ColorScale.accuracy().colorOf(1))));
    assertFalse(Color.WHITE.equals(HeatmapFigure.textOn(ColorScale.change(1).colorOf(0))));
  }

  /** The colour a few units inside the top-left corner of an area, clear of any text in its middle. */
  private static Color pixel(BufferedImage image, Rectangle2D area) {
    int x = (int) Math.round((area.getX() + 3) * HeatmapFigure.PNG_SCALE);
    int y = (int) Math.round((area.getY() + 3) * HeatmapFigure.PNG_SCALE);
    return new Color(image.getRGB(x, y) & 0xFFFFFF);
  }

  /** Parses an SVG document as XML and returns the content of its text elements in document order. */
  private static List<String> svgTexts(String svg) throws Exception {
    DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
    factory.setNamespaceAware(true);
    factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    Document doc = factory.newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    assertEquals("svg", doc.getDocumentElement().getLocalName());
    assertEquals("http://www.w3.org/2000/svg", doc.getDocumentElement().getNamespaceURI());
    NodeList nodes = doc.getElementsByTagNameNS("http://www.w3.org/2000/svg", "text");
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < nodes.getLength(); i++) {
      texts.add(nodes.item(i).getTextContent());
    }
    return texts;
  }
}
