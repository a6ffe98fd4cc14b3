package dev.onnxskip.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.eval.Latencies;
import dev.onnxskip.rewrite.SkipSpan;
import dev.onnxskip.rewrite.Variant;
import dev.onnxskip.runtime.RunTimes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The measured speed in results.json, where {@code eval --latency} asked for it: the top-level
 * {@code latency} object holds the settings, and each variant's {@code latency} object its sizes,
 * its batch-1 and batch times (median, quartiles, extremes and every timed run, in milliseconds)
 * and its speed-ups against the baseline.
 */
final class LatencyJson {
  private LatencyJson() {}

  static ObjectNode settings(Latencies latencies) {
    Latencies.Settings s = latencies.settings();
    ObjectNode node = ResultsJson.MAPPER.createObjectNode();
    node.put("device", s.device());
    node.put("threads", s.threads());
    node.put("warmup", s.warmup());
    node.put("repeats", s.repeats());
    node.put("sequence_length", s.sequenceLength());
    node.put("batch_size", s.batchSize());
    node.put("batch_sequence_length", s.batchSequenceLength());
    node.put("models", "standalone: each variant as rewrite writes it, in its own session");
    node.put("clock", "wall time of ONNX Runtime's run, asked for the logits only");
    return node;
  }

  static ObjectNode of(Latencies latencies, Latencies.VariantLatency v) {
    ObjectNode node = ResultsJson.MAPPER.createObjectNode();
    node.put("parameters", v.parameters());
    node.put("file_bytes", v.fileBytes());
    node.set("batch1", times(v.latency()));
    node.set("batch", times(v.throughput()));
    if (!v.variant().isBaseline()) {
      node.set("baseline_batch1", times(v.baselineLatency()));
      node.set("baseline_batch", times(v.baselineThroughput()));
    }
    node.put("examples_per_second", v.throughput().examplesPerSecond());
    node.put("speedup", latencies.speedup(v));
    node.put("throughput_speedup", latencies.throughputSpeedup(v));
    return node;
  }

  private static ObjectNode times(RunTimes t) {
    ObjectNode node = ResultsJson.MAPPER.createObjectNode();
    node.put("batch_size", t.batch());
    node.put("sequence_length", t.sequence());
    node.put("median_ms", t.median());
    node.put("q1_ms", t.q1());
    node.put("q3_ms", t.q3());
    node.put("min_ms", t.min());
    node.put("max_ms", t.max());
    node.put("warmup", t.warmup());
    ArrayNode runs = node.putArray("runs_ms");
    for (double m : t.millis()) {
      runs.add(m);
    }
    return node;
  }

  /**
   * The latencies of a results.json tree, when it has them.
   *
   * @throws OnnxSkipException naming the file and field when the latency part is malformed
   */
  static Optional<Latencies> read(JsonNode root, Path file) {
    JsonNode settings = root.get("latency");
    if (settings == null || settings.isNull()) {
      return Optional.empty();
    }
    try {
      Latencies.Settings s = new Latencies.Settings(text(settings, "device"), integer(settings, "threads"), integer(settings, "warmup"),
          integer(settings, "repeats"), integer(settings, "sequence_length"), integer(settings, "batch_size"),
          integer(settings, "batch_sequence_length"));
      List<Latencies.VariantLatency> variants = new ArrayList<>();
      JsonNode nodes = root.path("variants");
      for (int i = 0; i < nodes.size(); i++) {
        JsonNode v = nodes.get(i);
        JsonNode l = v.get("latency");
        if (l == null || l.isNull()) {
          throw new IllegalArgumentException("variants[" + i + "] has no latency although the run measured it");
        }
        Variant variant = v.get("span").isNull() ? Variant.BASELINE : new SkipSpan(v.get("span").get(0).asInt(), v.get("span").get(1).asInt());
        RunTimes latency = times(l, "batch1");
        RunTimes throughput = times(l, "batch");
        variants.add(new Latencies.VariantLatency(variant, l.path("parameters").asLong(), l.path("file_bytes").asLong(), latency, throughput,
            l.has("baseline_batch1") ? times(l, "baseline_batch1") : latency, l.has("baseline_batch") ? times(l, "baseline_batch") : throughput));
      }
      return Optional.of(new Latencies(s, variants));
    } catch (IllegalArgumentException e) {
      throw new OnnxSkipException(file + ": latency: " + e.getMessage());
    }
  }

  private static RunTimes times(JsonNode parent, String field) {
    JsonNode t = parent.get(field);
    if (t == null || !t.isObject()) {
      throw new IllegalArgumentException("missing \"" + field + "\"");
    }
    JsonNode runs = t.get("runs_ms");
    if (runs == null || !runs.isArray()) {
      throw new IllegalArgumentException(field + ".runs_ms must be an array of milliseconds");
    }
    double[] millis = new double[runs.size()];
    for (int i = 0; i < millis.length; i++) {
      millis[i] = runs.get(i).asDouble();
    }
    return new RunTimes(integer(t, "batch_size"), integer(t, "sequence_length"), integer(t, "warmup"), millis);
  }

  private static int integer(JsonNode node, String field) {
    JsonNode v = node.get(field);
    if (v == null || !v.canConvertToInt()) {
      throw new IllegalArgumentException("\"" + field + "\" must be a whole number");
    }
    return v.asInt();
  }

  private static String text(JsonNode node, String field) {
    JsonNode v = node.get(field);
    if (v == null || !v.isTextual()) {
      throw new IllegalArgumentException("\"" + field + "\" must be a string");
    }
    return v.asText();
  }
}
