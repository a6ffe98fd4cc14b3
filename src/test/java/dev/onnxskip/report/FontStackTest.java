package dev.onnxskip.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.font.FontRenderContext;
import java.awt.font.GlyphVector;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FontStackTest {
  /** Where {@code make fonts} puts Noto Sans SC. */
  static final Path FONTS = Path.of("bin/fonts");
  static final Path NOTO_SC = FONTS.resolve("NotoSansSC_400Regular.ttf");
  static final String TITLE = "正面 (n=8)";
  static final FontRenderContext FRC = new FontRenderContext(null, true, true);

  static {
    System.setProperty("java.awt.headless", "true");
  }

  static void assumeCjkFont() {
    assumeTrue(Files.isRegularFile(NOTO_SC), "Noto Sans SC is not fetched (" + NOTO_SC + "): run 'make fonts'");
  }

  @Test
  void textTheRequestedFontDisplaysKeepsThatFont() {
    Font requested = new Font(Font.SANS_SERIF, Font.BOLD, 15);
    assertSame(requested, FontStack.of(List.of()).fontFor(requested, "neg (n=8)"));
    assertSame(requested, FontStack.of(List.of(FONTS)).fontFor(requested, "pos \u2002\u00b7\u2002 first\u2013last"));
  }

  @Test
  void aChineseTitleIsDrawnWithRealGlyphs() {
    assumeCjkFont();
    Font requested = new Font(Font.SANS_SERIF, Font.BOLD, 15);
    assumeTrue(requested.canDisplayUpTo(TITLE) != -1, "an installed font covers Chinese already; nothing to choose");
    Font chosen = FontStack.of(List.of(FONTS)).fontFor(requested, TITLE);
    assertEquals("Noto Sans SC", chosen.getFamily());
    assertEquals(-1, chosen.canDisplayUpTo(TITLE));
    assertEquals(Font.BOLD, chosen.getStyle());
    assertEquals(15f, chosen.getSize2D());
    GlyphVector glyphs = chosen.createGlyphVector(FRC, TITLE);
    int[] codes = glyphs.getGlyphCodes(0, glyphs.getNumGlyphs(), null);
    assertFalse(Arrays.stream(codes).anyMatch(c -> c == chosen.getMissingGlyphCode()), Arrays.toString(codes));
    // 正 and 面 are different glyphs, where the missing-glyph box would be one and the same.
    assertNotEquals(codes[0], codes[1]);
    assertNotEquals(ink(requested, "正"), ink(chosen, "正"), "the chosen font draws something else than the box");
  }

  @Test
  void japaneseAndMixedTextAlsoFindTheFont() {
    assumeCjkFont();
    Font requested = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
    String subtitle = "model: /data/モデル/分类器.onnx\u2002\u00b7\u200224 examples";
    assumeTrue(requested.canDisplayUpTo(subtitle) != -1, "an installed font covers Japanese already");
    assertEquals(-1, FontStack.of(List.of(FONTS)).fontFor(requested, subtitle).canDisplayUpTo(subtitle));
  }

  @Test
  void missingFoldersAndFilesThatAreNoFontsAreSkipped(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("broken.ttf"), "not a font");
    FontStack stack = FontStack.of(List.of(dir.resolve("absent"), dir));
    assertEquals(List.of(), stack.folderFonts());
    Font requested = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    // Whatever the machine has installed, the answer is a font of the requested size.
    assertEquals(12f, stack.fontFor(requested, TITLE).getSize2D());
  }

  @Test
  void theSystemPropertyNamesFoldersBeforeTheOneBesideTheJar() {
    String before = System.getProperty(FontStack.FOLDERS_PROPERTY);
    try {
      System.setProperty(FontStack.FOLDERS_PROPERTY, "one" + java.io.File.pathSeparator + "two");
      List<Path> folders = FontStack.standardFolders();
      assertEquals(List.of(Path.of("one"), Path.of("two")), folders.subList(0, 2));
      assertTrue(folders.size() == 3 && folders.get(2).endsWith("fonts"), "then fonts/ beside the classes: " + folders);
    } finally {
      if (before == null) {
        System.clearProperty(FontStack.FOLDERS_PROPERTY);
      } else {
        System.setProperty(FontStack.FOLDERS_PROPERTY, before);
      }
    }
  }

  /** How many pixels drawing {@code text} in {@code font} darkens. */
  static int ink(Font font, String text) {
    BufferedImage image = new BufferedImage(40, 40, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setColor(java.awt.Color.WHITE);
    g.fillRect(0, 0, 40, 40);
    g.setColor(java.awt.Color.BLACK);
    g.setFont(font.deriveFont(24f));
    g.drawString(text, 4, 30);
    g.dispose();
    int dark = 0;
    for (int y = 0; y < 40; y++) {
      for (int x = 0; x < 40; x++) {
        if ((image.getRGB(x, y) & 0xFF) < 128) {
          dark++;
        }
      }
    }
    return dark;
  }
}
