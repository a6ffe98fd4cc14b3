package dev.onnxskip.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.onnxskip.eval.Metrics;
import dev.onnxskip.eval.RunResults;
import dev.onnxskip.eval.ShiftLossRun;
import dev.onnxskip.eval.VariantResult;
import dev.onnxskip.rewrite.SkipSpan;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResultsCsvTest {
  private static final double EPS = 1e-12;

  @TempDir Path dir;

  private List<CSVRecord> written(RunResults results) throws IOException {
    Path file = dir.resolve("results.csv");
    ResultsCsv.write(results, file);
    try (Reader in = Files.newBufferedReader(file)) {
      var parser = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get().parse(in);
      assertEquals(ResultsCsv.HEADER, parser.getHeaderNames());
      return parser.getRecords();
    }
  }

  @Test
  void oneRowPerVariantAndLabel() throws IOException {
    List<CSVRecord> rows = written(HandRun.results());
    assertEquals(7 * 2, rows.size());
    List<String> order = rows.stream()
        .map(r -> r.get("span_start") + "-" + r.get("span_end") + ":" + r.get("label")).toList();
    assertEquals(List.of("-:neg", "-:pos", "0-0:neg", "0-0:pos", "0-1:neg", "0-1:pos", "0-2:neg", "0-2:pos",
        "1-1:neg", "1-1:pos", "1-2:neg", "1-2:pos", "2-2:neg", "2-2:pos"), order);
  }

  @Test
  void baselineRowsHaveNoSpan() throws IOException {
    CSVRecord neg = written(HandRun.results()).get(0);
    assertEquals("", neg.get("span_start"));
    assertEquals("", neg.get("span_end"));
    assertEquals("0", neg.get("skipped_layers"));
    assertEquals("neg", neg.get("label"));
    assertEquals("10", neg.get("support"));
    assertEquals(0.9, Double.parseDouble(neg.get("accuracy")));
    assertEquals(0.0, Double.parseDouble(neg.get("delta_accuracy")));
    assertEquals(9.0 / 11, Double.parseDouble(neg.get("precision")));
    assertEquals("11", neg.get("predicted"));
    assertEquals(0.85, Double.parseDouble(neg.get("variant_accuracy")), EPS);
  }

  @Test
  void spanRowsCarryTheirScores() throws IOException {
    List<CSVRecord> rows = written(HandRun.results());
    CSVRecord collapsedPos = rows.get(5); // span 0-1, label pos: never predicted
    assertEquals("0", collapsedPos.get("span_start"));
    assertEquals("1", collapsedPos.get("span_end"));
    assertEquals("2", collapsedPos.get("skipped_layers"));
    assertEquals(0.0, Double.parseDouble(collapsedPos.get("accuracy")));
    assertEquals(-0.8, Double.parseDouble(collapsedPos.get("delta_accuracy")), EPS);
    assertEquals(0.0, Double.parseDouble(collapsedPos.get("precision")));
    assertEquals(0.0, Double.parseDouble(collapsedPos.get("f1")));
    assertEquals("0", collapsedPos.get("predicted"));
    assertEquals(0.5, Double.parseDouble(collapsedPos.get("variant_accuracy")));
    assertEquals((2.0 * 10 / 30 + 0) / 2, Double.parseDouble(collapsedPos.get("variant_macro_f1")), EPS);

    CSVRecord firstNeg = rows.get(2); // span 0-0, label neg: 8 of 10 right, 11 predicted neg
    assertEquals("1", firstNeg.get("skipped_layers"));
    assertEquals(8.0 / 11, Double.parseDouble(firstNeg.get("precision")));
    assertEquals(2.0 * 8 / 21, Double.parseDouble(firstNeg.get("f1")));
    assertEquals(0.8 - 0.9, Double.parseDouble(firstNeg.get("delta_accuracy")));
    assertEquals("3", rows.get(6).get("skipped_layers"));
  }

  @Test
  void undefinedScoresAreEmptyAndNamesAreQuoted() throws IOException {
    List<String> labels = List.of("a, \"quoted\"", "b");
    Metrics m = new Metrics(labels, new long[][] {{3, 1}, {0, 0}});
    RunResults r = new RunResults(Map.of(), Map.of(), labels, 1,
        List.of(VariantResult.baseline(m), new VariantResult(new SkipSpan(0, 0), m)), "t");
    List<CSVRecord> rows = written(r);
    assertEquals("a, \"quoted\"", rows.get(0).get("label"));
    assertEquals("", rows.get(3).get("accuracy"));
    assertEquals("", rows.get(3).get("delta_accuracy"));
    assertEquals("0.0", rows.get(3).get("precision"), "b was predicted once, wrongly");
    assertEquals("", rows.get(3).get("f1"), "b has no examples, so no recall and no F1");
    // Macro-F1 is a's F1 alone: 2 * 3 / (4 + 3).
    assertEquals(6.0 / 7, Double.parseDouble(rows.get(3).get("variant_macro_f1")), EPS);
    assertEquals(5, Files.readString(dir.resolve("results.csv")).lines().count());
  }

  @Test
  void aLabelNeitherInTheDataNorPredictedHasOnlyEmptyScores() throws IOException {
    List<String> labels = List.of("a", "b", "c");
    Metrics m = new Metrics(labels, new long[][] {{3, 1, 0}, {1, 1, 0}, {0, 0, 0}});
    RunResults r = new RunResults(Map.of(), Map.of(), labels, 1, List.of(VariantResult.baseline(m)), "t");
    String text = ResultsCsv.toCsv(r);
    assertEquals(",,0,c,0,,,,,0,0.6666666666666666,0.625,,,,,,,,,,,,,,,,,,,,,,", text.lines().toList().get(3),
        "no accuracy, change, precision or F1; macro-F1 (6/8 + 2/4) / 2 leaves c out; no statistics in hand-built results");
  }

  @Test
  void theBaselinesEmptySpanFieldsAreWrittenAlike() {
    String text = ResultsCsv.toCsv(HandRun.results());
    List<String> lines = text.lines().toList();
    assertEquals(",,0,neg,10,", lines.get(1).substring(0, 11), "neither span field quoted: " + lines.get(1));
    assertEquals(",,0,pos,10,", lines.get(2).substring(0, 11), lines.get(2));
    assertFalse(text.contains("\"\""), "no quoted empty field anywhere");
  }

  /** The statistics columns are the findings of results.json, label by label. */
  @Test
  void theStatisticsColumnsRepeatTheFindings() throws IOException {
    RunResults r = ShiftLossRun.results();
    List<CSVRecord> rows = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get()
        .parse(new java.io.StringReader(ResultsCsv.toCsv(r))).getRecords();
    // The row of span 0-0 on label a: everything moved to b, 0 fixed and the 98 right ones broken.
    CSVRecord shiftOnA = rows.get(2);
    assertEquals("0", shiftOnA.get("span_start"));
    assertEquals("a", shiftOnA.get("label"));
    dev.onnxskip.eval.Findings.Figures f = r.findings().orElseThrow().variants().get(1).groups().get(0);
    assertEquals("0", shiftOnA.get("fixed"));
    assertEquals("98", shiftOnA.get("broken"));
    assertEquals("true", shiftOnA.get("significant"));
    assertEquals(f.interval().orElseThrow().lower(), Double.parseDouble(shiftOnA.get("accuracy_low")));
    assertEquals(f.auroc().getAsDouble(), Double.parseDouble(shiftOnA.get("auroc")));
    assertEquals("", rows.get(0).get("p_holm"), "the baseline has no test against itself");
  }
}
