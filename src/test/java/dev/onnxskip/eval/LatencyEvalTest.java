package dev.onnxskip.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.report.ResultsCsv;
import dev.onnxskip.report.ResultsJson;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code eval --latency} on the known-answer model: only the structure and sanity of the figures are
 * checked (positive times, the baseline present, every run recorded), never a speed; speed targets
 * belong in {@code make bench}.
 */
class LatencyEvalTest {
  private static final int REPEATS = 4;
  private static final int WARMUP = 1;

  @TempDir static Path dir;
  static Path out;
  static JsonNode results;

  @BeforeAll
  static void run() throws Exception {
    KnownAnswerRuns.Inputs in = KnownAnswerRuns.inputs(dir.resolve("inputs"));
    out = dir.resolve("run");
    EvalCli.ok("eval", "--model", in.model().toString(), "--tokenizer", in.tokenizer().toString(), "--data", in.data().toString(),
        "--spans", "0-0,2-3,0-3", "--batch-size", "5", "--threads", "1", "--out", out.toString(), "--latency",
        "--latency-repeats", Integer.toString(REPEATS), "--latency-warmup", Integer.toString(WARMUP), "--quiet");
    results = new ObjectMapper().readTree(out.resolve("results.json").toFile());
  }

  @Test
  void everyVariantHasItsRunsAndTheBaselineIsTheReference() {
    JsonNode settings = results.get("latency");
    assertNotNull(settings, "the latency settings at the top");
    assertEquals(REPEATS, settings.get("repeats").asInt());
    assertEquals(WARMUP, settings.get("warmup").asInt());
    assertEquals(5, settings.get("batch_size").asInt());
    // The texts have 1 to 3 words, one token each: the lower median of the 12 lengths is 2.
    int[] lengths = KnownAnswerEvalTest.DATA.stream().mapToInt(row -> row[0].split(" ").length).sorted().toArray();
    assertEquals(lengths[(lengths.length - 1) / 2], settings.get("sequence_length").asInt());
    List<String> names = List.of("baseline", "0-0", "2-3", "0-3");
    JsonNode variants = results.get("variants");
    assertEquals(names.size(), variants.size());
    long baselineParameters = variants.get(0).get("latency").get("parameters").asLong();
    for (int i = 0; i < variants.size(); i++) {
      JsonNode l = variants.get(i).get("latency");
      assertNotNull(l, names.get(i));
      for (String input : List.of("batch1", "batch")) {
        JsonNode t = l.get(input);
        JsonNode runs = t.get("runs_ms");
        assertEquals(REPEATS, runs.size(), names.get(i) + " " + input + ": every timed run recorded");
        double[] ms = new double[runs.size()];
        for (int r = 0; r < ms.length; r++) {
          ms[r] = runs.get(r).asDouble();
          assertTrue(ms[r] > 0 && Double.isFinite(ms[r]), names.get(i) + " run " + r + ": " + ms[r]);
        }
        Arrays.sort(ms);
        assertEquals(ms[0], t.get("min_ms").asDouble(), 0);
        assertEquals(ms[ms.length - 1], t.get("max_ms").asDouble(), 0);
        double median = t.get("median_ms").asDouble();
        assertTrue(t.get("q1_ms").asDouble() <= median && median <= t.get("q3_ms").asDouble(), t.toString());
        assertEquals(input.equals("batch1") ? 1 : 5, t.get("batch_size").asInt());
      }
      if (i > 0) {
        // The speed-up is against the baseline's runs made in turn with the variant's.
        JsonNode paired = l.get("baseline_batch1");
        assertEquals(REPEATS, paired.get("runs_ms").size());
        assertEquals(paired.get("median_ms").asDouble() / l.get("batch1").get("median_ms").asDouble(), l.get("speedup").asDouble(), 1e-12);
        assertEquals(REPEATS, l.get("baseline_batch").get("runs_ms").size());
      }
      assertTrue(l.get("speedup").asDouble() > 0);
      assertEquals(5 / (l.get("batch").get("median_ms").asDouble() / 1000), l.get("examples_per_second").asDouble(), 1e-6);
      assertTrue(l.get("parameters").asLong() > 0 && l.get("parameters").asLong() <= baselineParameters, names.get(i));
      assertTrue(l.get("file_bytes").asLong() > 0);
    }
    JsonNode base = variants.get(0).get("latency");
    assertEquals(1.0, base.get("speedup").asDouble(), 0);
    assertEquals(1.0, base.get("throughput_speedup").asDouble(), 0);
    // Skipping every layer removes every block's weights: fewer parameters than any other variant.
    assertTrue(variants.get(3).get("latency").get("parameters").asLong() < variants.get(1).get("latency").get("parameters").asLong());
  }

  @Test
  void theReaderGivesBackWhatWasWritten() {
    Latencies read = ResultsJson.readLatencies(out.resolve("results.json")).orElseThrow();
    assertEquals(4, read.variants().size());
    assertTrue(read.baseline().variant().isBaseline());
    assertEquals(results.get("variants").get(2).get("latency").get("speedup").asDouble(), read.speedup(read.variants().get(2)), 0);
    assertEquals(REPEATS, read.variants().get(1).latency().repeats());
  }

  @Test
  void csvSummaryAndFigureCarryTheFigures() throws Exception {
    List<String> csv = Files.readAllLines(out.resolve("results.csv"));
    List<String> header = Arrays.asList(csv.get(0).split(","));
    assertEquals(ResultsCsv.LATENCY_HEADER, header.subList(header.size() - ResultsCsv.LATENCY_HEADER.size(), header.size()));
    int speedup = header.indexOf("speedup");
    assertEquals("1.0", csv.get(1).split(",", -1)[speedup], "the baseline's first row");
    for (String row : csv.subList(1, csv.size())) {
      assertFalse(row.split(",", -1)[speedup].isEmpty(), row);
    }
    String summary = Files.readString(out.resolve("summary.md"));
    assertTrue(summary.contains("## Latency"), summary);
    assertTrue(summary.contains("| baseline |") && summary.contains("| 2-3 |"), summary);
    BufferedImage png = ImageIO.read(out.resolve("pareto.png").toFile());
    assertTrue(png.getWidth() > 1000 && png.getHeight() > 600);
    String svg = Files.readString(out.resolve("pareto.svg"));
    DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(out.resolve("pareto.svg").toFile());
    for (String text : List.of("baseline", "0-0", "2-3", "0-3", "speed-up against the baseline", "accuracy", "Pareto front")) {
      assertTrue(svg.contains(text), text);
    }
  }

  @Test
  void withoutLatencyNothingOfItIsWritten(@TempDir Path plain) throws Exception {
    KnownAnswerRuns.Inputs in = KnownAnswerRuns.inputs(plain.resolve("inputs"));
    EvalCli.ok("eval", "--model", in.model().toString(), "--tokenizer", in.tokenizer().toString(), "--data", in.data().toString(),
        "--spans", "0-0", "--out", plain.resolve("run").toString(), "--quiet");
    JsonNode json = new ObjectMapper().readTree(plain.resolve("run/results.json").toFile());
    assertFalse(json.has("latency"));
    assertFalse(json.get("variants").get(0).has("latency"));
    assertFalse(Files.exists(plain.resolve("run/pareto.png")));
    assertFalse(Files.readString(plain.resolve("run/results.csv")).lines().findFirst().orElseThrow().contains("speedup"));
  }

  @Test
  void latencyOptionsCheckTheirValues() {
    EvalCli few = EvalCli.of("eval", "--model", "m.onnx", "--tokenizer", "t.json", "--data", "d.jsonl", "--latency", "--latency-repeats", "2");
    assertEquals(2, few.exit());
    assertTrue(few.err().contains("--latency-repeats must be at least 3"), few.err());
    EvalCli alone = EvalCli.of("eval", "--model", "m.onnx", "--tokenizer", "t.json", "--data", "d.jsonl", "--latency-warmup", "2");
    assertEquals(2, alone.exit());
    assertTrue(alone.err().contains("need --latency"), alone.err());
  }
}
