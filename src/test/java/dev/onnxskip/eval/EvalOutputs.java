package dev.onnxskip.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads what an eval run wrote, for comparing runs with each other and with independent computations. */
public final class EvalOutputs {

  private static final ObjectMapper JSON = new ObjectMapper();

  private EvalOutputs() {}

  /** The logits of every example (in data order) under every variant ("baseline", "0-0", ...) from predictions.jsonl. */
  public static Map<String, float[][]> logits(Path outDir) throws IOException {
    List<JsonNode> lines = new ArrayList<>();
    for (String line : Files.readAllLines(outDir.resolve("predictions.jsonl"))) {
      lines.add(JSON.readTree(line));
    }
    Map<String, float[][]> byVariant = new LinkedHashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      assertEquals(i, lines.get(i).get("index").asInt(), "predictions are in data order");
      for (Iterator<Map.Entry<String, JsonNode>> it = lines.get(i).get("logits").fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> variant = it.next();
        float[] row = new float[variant.getValue().size()];
        for (int j = 0; j < row.length; j++) {
          row[j] = variant.getValue().get(j).floatValue();
        }
        byVariant.computeIfAbsent(variant.getKey(), k -> new float[lines.size()][])[i] = row;
      }
    }
    return byVariant;
  }

  /** The predicted label names per variant, from predictions.jsonl. */
  public static Map<String, List<String>> predictions(Path outDir) throws IOException {
    Map<String, List<String>> byVariant = new LinkedHashMap<>();
    for (String line : Files.readAllLines(outDir.resolve("predictions.jsonl"))) {
      JsonNode node = JSON.readTree(line);
      node.get("predicted").fields().forEachRemaining(e ->
          byVariant.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(e.getValue().asText()));
    }
    return byVariant;
  }

  /** results.json with its one run-dependent line, the timestamp, blanked: equal text means equal results. */
  public static String resultsWithoutTimestamp(Path outDir) throws IOException {
    String text = Files.readString(outDir.resolve("results.json"));
    String blanked = text.replaceFirst("\n  \"timestamp\": \"[^\"]+\",\n", "\n  \"timestamp\": \"-\",\n");
    assertTrue(!blanked.equals(text), "results.json has a timestamp line");
    return blanked;
  }

  /**
   * Fails unless two runs' results.json are the same byte for byte apart from the timestamp and the
   * layer metrics, and their layer metrics agree within {@code tolerance}: those are computed from
   * each engine's float states, which agree only within rounding.
   */
  public static void assertSameResults(Path a, Path b, double tolerance) throws IOException {
    assertSameResults(resultsWithoutTimestamp(a), resultsWithoutTimestamp(b), tolerance);
  }

  /** As {@link #assertSameResults(Path, Path, double)}, on the texts of two results.json. */
  public static void assertSameResults(String a, String b, double tolerance) throws IOException {
    com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
    var first = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(a);
    var second = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(b);
    assertClose(first.remove("layer_metrics"), second.remove("layer_metrics"), tolerance, "layer_metrics");
    assertEquals(first.toString(), second.toString());
  }

  private static void assertClose(com.fasterxml.jackson.databind.JsonNode a, com.fasterxml.jackson.databind.JsonNode b, double tolerance,
      String where) {
    if (a == null || b == null) {
      assertEquals(a, b, where);
    } else if (a.isNumber() && b.isNumber()) {
      assertEquals(a.asDouble(), b.asDouble(), tolerance, where);
    } else if (a.isContainerNode()) {
      assertEquals(a.size(), b.size(), where);
      var names = a.fieldNames();
      if (a.isArray()) {
        for (int i = 0; i < a.size(); i++) {
          assertClose(a.get(i), b.get(i), tolerance, where + "[" + i + "]");
        }
      }
      while (names.hasNext()) {
        String name = names.next();
        assertClose(a.get(name), b.get(name), tolerance, where + "." + name);
      }
    } else {
      assertEquals(a, b, where);
    }
  }

  /** The largest absolute difference between two equally shaped logit tables. */
  public static double maxDifference(float[][] a, float[][] b) {
    double worst = 0;
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a[i].length; j++) {
        worst = Math.max(worst, Math.abs(a[i][j] - b[i][j]));
      }
    }
    return worst;
  }

  /** Fails unless two logit tables have the same shape and agree within {@code tolerance}. */
  public static void assertClose(float[][] expected, float[][] actual, double tolerance, String what) {
    assertEquals(expected.length, actual.length, what + ": examples");
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i].length, actual[i].length, what + ": logits of example " + i);
      for (int j = 0; j < expected[i].length; j++) {
        assertEquals(expected[i][j], actual[i][j], tolerance, what + ": example " + i + ", logit " + j);
      }
    }
  }
}
