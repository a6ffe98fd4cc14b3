package dev.onnxskip.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.eval.Metrics;
import dev.onnxskip.eval.RunResults;
import dev.onnxskip.eval.VariantResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResultsJsonTest {
  private static final double EPS = 1e-12;

  @TempDir Path dir;

  private JsonNode written(RunResults results) throws IOException {
    Path file = dir.resolve("results.json");
    ResultsJson.write(results, file);
    return new ObjectMapper().readTree(file.toFile());
  }

  @Test
  void layoutAndValues() throws IOException {
    JsonNode root = written(HandRun.results());
    assertEquals(List.of("tool", "timestamp", "config", "provenance", "labels", "layers", "baseline", "variants"),
        fieldNames(root));
    assertTrue(root.get("tool").asText().startsWith("onnx-skip "));
    assertEquals("2025-01-01T00:00:00Z", root.get("timestamp").asText());
    assertEquals(List.of("model", "dataset", "batch_size", "spans"), fieldNames(root.get("config")));
    assertEquals(8, root.get("config").get("batch_size").asInt());
    assertEquals("1.29.0", root.get("provenance").get("runtime").get("version").asText());
    assertEquals("[\"neg\",\"pos\"]", root.get("labels").toString());
    assertEquals(3, root.get("layers").asInt());

    JsonNode variants = root.get("variants");
    assertEquals(7, variants.size());
    assertEquals(root.get("baseline"), variants.get(0));
    JsonNode base = variants.get(0);
    assertTrue(base.get("span").isNull());
    assertEquals(List.of("span", "accuracy", "macro_f1", "per_label", "precision", "f1", "support",
        "predicted", "delta", "confusion"), fieldNames(base));
    assertEquals(0.85, base.get("accuracy").asDouble(), EPS);
    assertEquals(0.9, base.get("per_label").get("neg").asDouble(), EPS);
    assertEquals(0.0, base.get("delta").get("pos").asDouble());

    // Span 0-1 predicts neg for every example.
    JsonNode collapsed = variants.get(2);
    assertEquals("[0,1]", collapsed.get("span").toString());
    assertEquals(0.5, collapsed.get("accuracy").asDouble(), EPS);
    // F1 neg = 2*10/(10+20), F1 pos = 0 (never predicted).
    assertEquals((2.0 / 3 + 0) / 2, collapsed.get("macro_f1").asDouble(), EPS);
    assertEquals(List.of("neg", "pos"), fieldNames(collapsed.get("per_label")));
    assertEquals(1.0, collapsed.get("per_label").get("neg").asDouble());
    assertEquals(0.0, collapsed.get("per_label").get("pos").asDouble());
    assertEquals(0.5, collapsed.get("precision").get("neg").asDouble(), EPS);
    assertEquals(0.0, collapsed.get("precision").get("pos").asDouble());
    assertEquals(10, collapsed.get("support").get("pos").asLong());
    assertEquals(20, collapsed.get("predicted").get("neg").asLong());
    assertEquals(0, collapsed.get("predicted").get("pos").asLong());
    assertEquals(1.0 - 0.9, collapsed.get("delta").get("neg").asDouble(), EPS);
    assertEquals(0.0 - 0.8, collapsed.get("delta").get("pos").asDouble(), EPS);
    assertEquals("[[10,0],[10,0]]", collapsed.get("confusion").toString());

    JsonNode last = variants.get(6);
    assertEquals("[2,2]", last.get("span").toString());
    assertEquals(0.7, last.get("per_label").get("neg").asDouble(), EPS);
    assertEquals(7.0 / 8, last.get("precision").get("neg").asDouble(), EPS);
    assertEquals(2.0 * 9 / (10 + 12), last.get("f1").get("pos").asDouble(), EPS);
  }

  @Test
  void doublesKeepFullPrecision() throws IOException {
    JsonNode variant = written(HandRun.results()).get("variants").get(1);
    // Span 0-0: precision of pos is 7/9, not a rounded copy of it.
    assertEquals(7.0 / 9, variant.get("precision").get("pos").asDouble());
    assertEquals(2.0 * 8 / (10 + 11), variant.get("f1").get("neg").asDouble());
  }

  @Test
  void roundTrips() throws IOException {
    RunResults original = HandRun.results();
    Path file = dir.resolve("results.json");
    ResultsJson.write(original, file);
    RunResults read = ResultsJson.read(file);
    assertEquals(original, read);
    Path again = dir.resolve("again.json");
    ResultsJson.write(read, again);
    assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(again));
  }

  @Test
  void sameResultsSameBytesButForTheTimestamp() throws IOException {
    Path first = dir.resolve("first.json");
    Path second = dir.resolve("second.json");
    Path later = dir.resolve("later.json");
    ResultsJson.write(HandRun.results(), first);
    ResultsJson.write(HandRun.results(), second);
    ResultsJson.write(HandRun.results("2030-06-01T12:00:00Z"), later);
    assertArrayEquals(Files.readAllBytes(first), Files.readAllBytes(second));

    List<String> a = Files.readAllLines(first);
    List<String> b = Files.readAllLines(later);
    assertEquals(a.size(), b.size());
    List<String> differing = new ArrayList<>();
    for (int i = 0; i < a.size(); i++) {
      if (!a.get(i).equals(b.get(i))) {
        differing.add(b.get(i).trim());
      }
    }
    assertEquals(List.of("\"timestamp\": \"2030-06-01T12:00:00Z\","), differing);
    String text = Files.readString(first, StandardCharsets.UTF_8);
    assertFalse(text.contains("\r"), "line ends must not depend on the platform");
    assertTrue(text.endsWith("}\n"));
  }

  @Test
  void undefinedScoresAreNull() throws IOException {
    // Label b has no examples: its accuracy and change are undefined.
    List<String> labels = List.of("a", "b");
    Metrics m = new Metrics(labels, new long[][] {{3, 1}, {0, 0}});
    RunResults r = new RunResults(Map.of(), Map.of(), labels, 1,
        List.of(VariantResult.baseline(m), new VariantResult(new dev.onnxskip.rewrite.SkipSpan(0, 0), m)), "t");
    JsonNode variant = written(r).get("variants").get(1);
    assertTrue(variant.get("per_label").get("b").isNull());
    assertTrue(variant.get("delta").get("b").isNull());
    assertEquals(0.0, variant.get("precision").get("b").asDouble());
    assertEquals(0.0, variant.get("f1").get("b").asDouble());
    assertEquals(r, ResultsJson.read(dir.resolve("results.json")));
  }

  @Test
  void writesAtomicallyOverAnOldFile() throws IOException {
    Path file = dir.resolve("out/results.json");
    Files.createDirectories(file.getParent());
    Files.writeString(file, "old");
    ResultsJson.write(HandRun.results(), file);
    assertEquals(HandRun.results(), ResultsJson.read(file));
    try (Stream<Path> files = Files.list(file.getParent())) {
      assertEquals(List.of(file), files.toList(), "no temporary file may be left behind");
    }
  }

  @Test
  void badFilesFailWithTheFileAndField() throws IOException {
    Path missing = dir.resolve("missing.json");
    var e = assertThrows(OnnxSkipException.class, () -> ResultsJson.read(missing));
    assertEquals("cannot read " + missing + ": no such file", e.getMessage());

    Path broken = dir.resolve("broken.json");
    Files.writeString(broken, "{\n  \"labels\": [\"a\",\n");
    e = assertThrows(OnnxSkipException.class, () -> ResultsJson.read(broken));
    assertTrue(e.getMessage().startsWith("cannot read " + broken + ": not valid JSON at line "), e.getMessage());

    String good = ResultsJson.toJson(HandRun.results());
    Path badMatrix = dir.resolve("bad-matrix.json");
    Files.writeString(badMatrix, good.replace("[ [ 10, 0 ], [ 10, 0 ] ]", "[ [ 10, 0 ] ]"));
    e = assertThrows(OnnxSkipException.class, () -> ResultsJson.read(badMatrix));
    assertEquals(badMatrix + ": variants[2].confusion must be a 2x2 matrix of counts", e.getMessage());

    Path noLayers = dir.resolve("no-layers.json");
    Files.writeString(noLayers, good.replace("\"layers\": 3,", ""));
    e = assertThrows(OnnxSkipException.class, () -> ResultsJson.read(noLayers));
    assertEquals(noLayers + ": missing field \"layers\"", e.getMessage());

    Path badSpan = dir.resolve("bad-span.json");
    Files.writeString(badSpan, good.replace("\"span\": [ 2, 2 ]", "\"span\": [ 2, 5 ]"));
    e = assertThrows(OnnxSkipException.class, () -> ResultsJson.read(badSpan));
    assertEquals(badSpan + ": span 2-5 lies outside the 3 layers (0-2)", e.getMessage());
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      names.add(it.next());
    }
    return names;
  }

  @Test
  void differentResultsDifferentFiles() {
    assertNotEquals(ResultsJson.toJson(HandRun.results()),
        ResultsJson.toJson(SyntheticRuns.run(3, HandRun.LABELS, 10)));
  }
}
