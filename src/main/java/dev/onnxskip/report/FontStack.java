package dev.onnxskip.report;

import java.awt.Font;
import java.awt.FontFormatException;
import java.awt.GraphicsEnvironment;
import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which font draws a piece of figure text. The figures ask for the logical sans-serif font, which on
 * most machines covers Latin, Greek and Cyrillic only; text it cannot display (a label in Chinese, a
 * path with Japanese in it) goes to the first font that can display all of it, tried in this order:
 * the TrueType/OpenType files of the font folders, sorted by name, then the fonts installed on the
 * machine, sorted by family. When none can, the font that displays the longest start of the text.
 *
 * <p>The standard font folders are those the system property {@value #FOLDERS_PROPERTY} names
 * (separated as in a class path), then {@code fonts/} beside the jar ({@code make fonts} puts Noto
 * Sans SC there, which covers Chinese and Japanese). The jar itself carries no font: a CJK font is
 * some 10 MB.
 */
final class FontStack {
  static final String FOLDERS_PROPERTY = "onnxskip.fonts";

  private static final Map<List<Path>, FontStack> STANDARD = new ConcurrentHashMap<>();
  private static final Optional<Path> BESIDE_THE_JAR = besideTheJar();
  private static volatile List<Font> installed;

  /** Fonts at size 1, plain, from the folders. */
  private final List<Font> folderFonts;

  private FontStack(List<Font> folderFonts) {
    this.folderFonts = List.copyOf(folderFonts);
  }

  /** The stack of the standard folders, loaded once per set of folders. */
  static FontStack standard() {
    return STANDARD.computeIfAbsent(standardFolders(), FontStack::of);
  }

  static List<Path> standardFolders() {
    List<Path> folders = new ArrayList<>();
    String property = System.getProperty(FOLDERS_PROPERTY, "");
    for (String folder : property.split(File.pathSeparator)) {
      if (!folder.isBlank()) {
        folders.add(Path.of(folder));
      }
    }
    BESIDE_THE_JAR.ifPresent(folders::add);
    return List.copyOf(folders);
  }

  private static Optional<Path> besideTheJar() {
    try {
      var source = FontStack.class.getProtectionDomain().getCodeSource();
      if (source == null) {
        return Optional.empty();
      }
      Path location = Path.of(source.getLocation().toURI());
      Path parent = location.getParent();
      return parent == null ? Optional.empty() : Optional.of(parent.resolve("fonts"));
    } catch (URISyntaxException | IllegalArgumentException | SecurityException e) {
      // A class loaded from somewhere that is not a file has no folder beside it.
      return Optional.empty();
    }
  }

  /**
   * The stack of the given folders; a folder that does not exist is skipped, and so is a file in it
   * that is not a usable font (a figure is still drawn, in the fonts that remain).
   */
  static FontStack of(List<Path> folders) {
    List<Font> fonts = new ArrayList<>();
    for (Path folder : folders) {
      if (!Files.isDirectory(folder)) {
        continue;
      }
      List<Path> files = new ArrayList<>();
      try (DirectoryStream<Path> listing = Files.newDirectoryStream(folder, "*.{ttf,otf,TTF,OTF}")) {
        listing.forEach(files::add);
      } catch (IOException e) {
        // Fonts are optional: an unreadable folder leaves the text to the other fonts.
        continue;
      }
      files.sort(null);
      for (Path file : files) {
        try {
          fonts.add(Font.createFont(Font.TRUETYPE_FONT, file.toFile()));
        } catch (FontFormatException | IOException e) {
          // Not a font Java can read; the others still serve.
        }
      }
    }
    return new FontStack(fonts);
  }

  /** The fonts loaded from the folders, for tests and diagnostics. */
  List<Font> folderFonts() {
    return folderFonts;
  }

  /**
   * {@code requested} itself when it can display {@code text}, else the first font of the stack that
   * can, in the requested style and size.
   */
  Font fontFor(Font requested, String text) {
    if (requested.canDisplayUpTo(text) == -1) {
      return requested;
    }
    Font best = requested;
    int bestReach = reach(requested, text);
    for (List<Font> candidates : List.of(folderFonts, installed())) {
      for (Font candidate : candidates) {
        int reach = reach(candidate, text);
        if (reach == text.length()) {
          return candidate.deriveFont(requested.getStyle(), requested.getSize2D());
        }
        if (reach > bestReach) {
          best = candidate.deriveFont(requested.getStyle(), requested.getSize2D());
          bestReach = reach;
        }
      }
    }
    return best;
  }

  /** How many characters from the start the font can display. */
  private static int reach(Font font, String text) {
    int upTo = font.canDisplayUpTo(text);
    return upTo == -1 ? text.length() : upTo;
  }

  /** One plain font per installed family, by family name; asked for only when a text needs it. */
  private static List<Font> installed() {
    List<Font> fonts = installed;
    if (fonts == null) {
      String[] families = GraphicsEnvironment.getLocalGraphicsEnvironment().getAvailableFontFamilyNames(Locale.ROOT);
      Arrays.sort(families);
      List<Font> list = new ArrayList<>();
      for (String family : families) {
        list.add(new Font(family, Font.PLAIN, 1));
      }
      fonts = List.copyOf(list);
      installed = fonts;
    }
    return fonts;
  }
}
