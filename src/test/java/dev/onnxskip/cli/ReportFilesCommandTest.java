package dev.onnxskip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.data.SyntheticData;
import dev.onnxskip.data.WordTokenizer;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.testing.SyntheticBert;
import dev.onnxskip.testing.SyntheticBert.Head;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code eval} writes beside results.json, through the command line on a synthetic three-label
 * model: summary.md, heatmap file names of non-Latin labels, a label the data lacks, the CSV's empty
 * fields. Expected scores are computed here from the confusion matrices in results.json.
 */
class ReportFilesCommandTest {
  static final Spec SPEC = Spec.tiny(2).withHead(Head.MEAN_POOL_CLASSIFIER, 3).withSeed(5);
  static final ObjectMapper JSON = new ObjectMapper();
  /** Where {@code make fonts} puts the CJK font. */
  static final Path FONTS = Path.of("bin/fonts");

  @TempDir static Path dir;
  static Path model;
  static Path tokenizer;

  @BeforeAll
  static void write() throws IOException {
    model = dir.resolve("model.onnx");
    ModelIO.save(SyntheticBert.build(SPEC), model);
    tokenizer = WordTokenizer.numbered(SPEC.vocab(), true).write(dir.resolve("tokenizer.json"));
  }

  private static Path data(String name, String... labels) throws IOException {
    return Files.writeString(dir.resolve(name), SyntheticData.jsonLines(SyntheticData.texts(30, SPEC.vocab(), 9), labels));
  }

  private static CliRun eval(Path out, Path data, String labels) {
    CliRun run = CliRun.of("eval", "--model", model.toString(), "--tokenizer", tokenizer.toString(), "--data",
        data.toString(), "--labels", labels, "--quiet", "--out", out.toString());
    assertEquals(0, run.exit(), run.err());
    return run;
  }

  private static List<String> files(Path out) throws IOException {
    try (Stream<Path> listing = Files.list(out)) {
      return listing.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void chineseLabelsKeepTheirNamesInFileNamesAndSummary(@TempDir Path out) throws IOException {
    String before = System.getProperty("onnxskip.fonts");
    System.setProperty("onnxskip.fonts", FONTS.toString());
    CliRun run;
    try {
      run = eval(out, data("zh.jsonl", "正面", "负面", "中性"), "正面,负面,中性");
    } finally {
      if (before == null) {
        System.clearProperty("onnxskip.fonts");
      } else {
        System.setProperty("onnxskip.fonts", before);
      }
    }
    List<String> files = files(out);
    for (String label : List.of("正面", "负面", "中性")) {
      for (String suffix : List.of(".png", ".svg", "-delta.png", "-delta.svg")) {
        assertTrue(files.contains("heatmap-" + label + suffix), label + suffix + " in " + files);
      }
    }
    assertFalse(files.stream().anyMatch(f -> f.contains("__")), "no label reduced to underscores: " + files);
    assertTrue(Files.readString(out.resolve("heatmap-负面.svg")).contains("负面 (n=10)"), "the title names the label");

    String summary = Files.readString(out.resolve("summary.md"));
    assertTrue(summary.contains("| 正面 | [heatmap-正面.png](<heatmap-正面.png>) | [heatmap-正面-delta.png](<heatmap-正面-delta.png>) |"),
        summary);
    assertTrue(run.out().contains(out.resolve("summary.md").toString()), "listed among the files: " + run.out());
  }

  /** With the CJK font fetched, the figure's Chinese text is set in it rather than in boxes. */
  @Test
  void chineseTextInFiguresIsSetInAFontThatHasItsGlyphs(@TempDir Path out) throws IOException {
    assumeTrue(Files.isDirectory(FONTS), "the CJK font is not fetched (" + FONTS + "): run 'make fonts'");
    assumeTrue(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 12).canDisplayUpTo("正面") != -1,
        "an installed font covers Chinese already");
    String before = System.getProperty("onnxskip.fonts");
    System.setProperty("onnxskip.fonts", FONTS.toString());
    try {
      eval(out, data("zh-fonts.jsonl", "正面", "负面", "中性"), "正面,负面,中性");
    } finally {
      if (before == null) {
        System.clearProperty("onnxskip.fonts");
      } else {
        System.setProperty("onnxskip.fonts", before);
      }
    }
    String svg = Files.readString(out.resolve("heatmap-正面.svg"));
    int title = svg.indexOf("正面 (n=10)");
    assertTrue(title > 0, "title in the SVG");
    String element = svg.substring(svg.lastIndexOf("<text", title), title);
    assertTrue(element.contains("Noto Sans SC"), "the title's text element: " + element);
  }

  @Test
  void aLabelWithoutExamplesIsUndefinedNotZero(@TempDir Path out) throws IOException {
    CliRun run = eval(out, data("two.jsonl", "neg", "pos"), "neg,pos,none");
    JsonNode results = JSON.readTree(out.resolve("results.json").toFile());
    for (JsonNode v : results.get("variants")) {
      JsonNode confusion = v.get("confusion");
      long[] predicted = new long[3];
      for (int g = 0; g < 3; g++) {
        for (int p = 0; p < 3; p++) {
          predicted[p] += confusion.get(g).get(p).asLong();
        }
      }
      String where = "variant " + v.get("span");
      assertEquals(0, v.get("support").get("none").asLong());
      assertTrue(v.get("per_label").get("none").isNull(), where);
      assertTrue(v.get("f1").get("none").isNull(), where);
      assertTrue(v.get("delta").get("none").isNull(), where);
      if (predicted[2] == 0) {
        assertTrue(v.get("precision").get("none").isNull(), where + ": neither in the data nor predicted");
      } else {
        assertEquals(0.0, v.get("precision").get("none").asDouble(), where + ": predicted, never right");
      }
      // Macro-F1 over neg and pos alone, each 2 tp / (support + predicted), 15 examples each.
      double f1Neg = 2.0 * confusion.get(0).get(0).asLong() / (15 + predicted[0]);
      double f1Pos = 2.0 * confusion.get(1).get(1).asLong() / (15 + predicted[1]);
      assertEquals((f1Neg + f1Pos) / 2, v.get("macro_f1").asDouble(), 1e-12, where);
    }

    List<CSVRecord> rows;
    try (Reader in = Files.newBufferedReader(out.resolve("results.csv"))) {
      rows = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get().parse(in).getRecords();
    }
    CSVRecord none = rows.get(2);
    assertEquals("none", none.get("label"));
    assertEquals(List.of("", "", ""), List.of(none.get("accuracy"), none.get("delta_accuracy"), none.get("f1")));

    String svg = Files.readString(out.resolve("heatmap-none.svg"));
    assertTrue(svg.contains(">no examples<"), "written across the grid");
    assertTrue(svg.contains("the label does not occur in the data"), "explained in the legend");
    assertFalse(svg.contains("span not evaluated"), "every span was evaluated");
    assertFalse(Files.readString(out.resolve("heatmap-neg.svg")).contains("no examples"), "only where it applies");
    assertTrue(Files.readString(out.resolve("heatmaps.svg")).contains(">no examples<"));
    assertTrue(run.out().contains("## none\n\nNo examples of this label: spans not ranked."), run.out());
  }

  @Test
  void summaryMdIsThePrintedSummaryBeginningWithEveryVariant(@TempDir Path out) throws IOException {
    CliRun run = eval(out, data("plain.jsonl", "a", "b", "c"), "a,b,c");
    String summary = Files.readString(out.resolve("summary.md"));
    String printed = run.out().substring(0, run.out().indexOf("Evaluated "));
    assertTrue(summary.startsWith(printed.strip() + "\n"), "summary.md holds what was printed:\n" + summary);
    assertTrue(summary.startsWith("## Variants\n"), summary);
    JsonNode results = JSON.readTree(out.resolve("results.json").toFile());
    for (JsonNode v : results.get("variants")) {
      String name = v.get("span").isNull() ? "baseline" : v.get("span").get(0) + "-" + v.get("span").get(1);
      String accuracy = String.format(java.util.Locale.ROOT, "%.3f", v.get("accuracy").asDouble());
      String macroF1 = String.format(java.util.Locale.ROOT, "%.3f", v.get("macro_f1").asDouble());
      assertTrue(summary.lines().anyMatch(l -> l.startsWith("| " + name + " | ") && l.contains(" | " + accuracy + " | ")
          && l.contains(" | " + macroF1 + " | ")), name + " in\n" + summary);
    }
    assertFalse(files(out).stream().anyMatch(f -> f.endsWith(".tmp")), "written atomically, no temporary left: " + files(out));

    String csv = Files.readString(out.resolve("results.csv"));
    assertTrue(csv.lines().skip(1).limit(3).allMatch(l -> l.startsWith(",,0,")), "baseline span fields alike:\n" + csv);
    assertFalse(csv.contains("\"\""), csv);
  }
}
