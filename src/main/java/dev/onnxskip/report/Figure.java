package dev.onnxskip.report;

import dev.onnxskip.AtomicFiles;
import dev.onnxskip.OnnxSkipException;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import javax.imageio.ImageIO;
import org.jfree.svg.SVGGraphics2D;
import org.jfree.svg.ViewBox;

/**
 * A picture drawn once by one routine into both formats a run writes: a PNG at {@link #PNG_SCALE}
 * pixels per layout unit and a standalone SVG.
 */
interface Figure {

  /** PNG pixels per layout unit: sharp in print and on high-density screens. */
  int PNG_SCALE = 2;

  /** The width in layout units. */
  double width();

  double height();

  /** The one drawing routine behind both formats, in layout units. */
  void draw(Graphics2D g);

  default BufferedImage toImage() {
    BufferedImage image = new BufferedImage((int) width() * PNG_SCALE, (int) height() * PNG_SCALE, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.scale(PNG_SCALE, PNG_SCALE);
      draw(g);
    } finally {
      g.dispose();
    }
    return image;
  }

  /** A standalone SVG document. */
  default String toSvg() {
    SVGGraphics2D g = new SVGGraphics2D(width(), height());
    // The default prefix holds a clock reading; a fixed one keeps the same figure the same bytes.
    g.setDefsKeyPrefix("onnx-skip-");
    draw(g);
    // A view box lets the picture scale with the width a page gives it instead of being cropped.
    String element = g.getSVGElement(null, true, new ViewBox(0, 0, width(), height()), null, null);
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + element + "\n";
  }

  /** A figure to be drawn and written as {@code stem.png} and {@code stem.svg}. */
  record Planned(String stem, Supplier<Figure> figure) {}

  /**
   * Draws and writes every planned figure, side by side on the machine's cores, and returns the
   * files in plan order. A run writes a dozen or more figures once its engine has finished and left
   * the cores idle; one at a time, they took a few seconds of every run.
   */
  static List<Path> writeAll(List<Planned> figures, Path dir) {
    return figures.parallelStream().map(p -> write(p.figure().get(), dir, p.stem())).flatMap(List::stream).toList();
  }

  /** Writes {@code stem.png} and {@code stem.svg} into {@code dir}, each atomically. */
  static List<Path> write(Figure figure, Path dir, String stem) {
    Path png = dir.resolve(stem + ".png");
    Path svg = dir.resolve(stem + ".svg");
    BufferedImage image = figure.toImage();
    AtomicFiles.write(png, out -> {
      if (!ImageIO.write(image, "png", out)) {
        throw new OnnxSkipException("cannot write " + png + ": no PNG writer in this Java runtime");
      }
    });
    byte[] text = figure.toSvg().getBytes(StandardCharsets.UTF_8);
    AtomicFiles.write(svg, out -> out.write(text));
    return List.of(png, svg);
  }
}
