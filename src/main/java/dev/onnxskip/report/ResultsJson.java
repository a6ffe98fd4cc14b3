package dev.onnxskip.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.onnxskip.AtomicFiles;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.ToolVersion;
import dev.onnxskip.eval.LabelScore;
import dev.onnxskip.eval.Latencies;
import dev.onnxskip.eval.Metrics;
import dev.onnxskip.eval.RunResults;
import dev.onnxskip.eval.VariantResult;
import dev.onnxskip.rewrite.SkipSpan;
import dev.onnxskip.rewrite.Variant;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;

/**
 * {@code results.json}: the whole run in one file that later tools and readers can rely on.
 *
 * <p>Layout: {@code tool, timestamp, config, provenance, labels, layers, baseline, variants}. Each
 * variant (the baseline is both {@code baseline} and the first of {@code variants}) has {@code span}
 * ({@code null} or {@code [S, E]}), {@code accuracy}, {@code macro_f1}, and per label
 * {@code per_label} (accuracy on that gold label), {@code precision}, {@code f1}, {@code support},
 * {@code predicted}, {@code delta} (per-label accuracy minus the baseline's), then the
 * {@code confusion} matrix {@code [gold][predicted]}. Label maps follow the label order. A score that
 * is undefined ({@link LabelScore} says when: a label without gold examples has no accuracy, F1 or
 * change) is {@code null}. Doubles keep full precision.
 *
 * <p>The output is deterministic: the same results give the same bytes, only {@code timestamp}
 * differs between runs; no timings are stored unless the run measured latencies, which go into
 * {@code latency} objects ({@link LatencyJson}). Reading needs only the labels, layers, spans and
 * confusion matrices: every score is derived from them again.
 */
public final class ResultsJson {
  static final ObjectMapper MAPPER = new ObjectMapper();
  /** Two-space indents and "\n" lines on every platform; also used for the comparison of two runs. */
  static final ObjectWriter WRITER = MAPPER.writer(
      new DefaultPrettyPrinter(
              Separators.createDefaultInstance().withObjectFieldValueSpacing(Separators.Spacing.AFTER))
          // The platform line separator would make the bytes depend on the machine.
          .withObjectIndenter(new DefaultIndenter("  ", "\n")));

  private ResultsJson() {}

  /** Writes {@code results} to {@code file} atomically. */
  public static void write(RunResults results, Path file) {
    write(results, Optional.empty(), file);
  }

  /** Writes {@code results}, with the measured speed where there is one, to {@code file} atomically. */
  public static void write(RunResults results, Optional<Latencies> latencies, Path file) {
    byte[] json = toJson(results, latencies).getBytes(StandardCharsets.UTF_8);
    AtomicFiles.write(file, out -> out.write(json));
  }

  /** The JSON text, ending in a newline. */
  public static String toJson(RunResults results) {
    return toJson(results, Optional.empty());
  }

  /**
   * The JSON text, ending in a newline; with latencies, a top-level {@code latency} object of
   * settings and a {@code latency} object in each variant (see {@link LatencyJson}).
   */
  public static String toJson(RunResults results, Optional<Latencies> latencies) {
    ObjectNode root = MAPPER.createObjectNode();
    root.put("tool", "onnx-skip " + ToolVersion.get());
    root.put("timestamp", results.timestamp());
    root.set("config", MAPPER.valueToTree(results.config()));
    root.set("provenance", MAPPER.valueToTree(results.provenance()));
    ArrayNode labels = root.putArray("labels");
    results.labels().forEach(labels::add);
    root.put("layers", results.layers());
    results.findings().ifPresent(f -> root.set("statistics", FindingsJson.settings(f)));
    latencies.ifPresent(l -> root.set("latency", LatencyJson.settings(l)));
    Metrics baseline = results.baseline().metrics();
    ObjectNode baselineNode = variant(results.baseline(), baseline);
    results.findings().ifPresent(f -> baselineNode.set("findings", FindingsJson.of(f.variants().get(0), results.labels())));
    root.set("baseline", baselineNode);
    ArrayNode variants = root.putArray("variants");
    for (int i = 0; i < results.variants().size(); i++) {
      ObjectNode node = variant(results.variants().get(i), baseline);
      int at = i;
      results.findings().ifPresent(f -> node.set("findings", FindingsJson.of(f.variants().get(at), results.labels())));
      latencies.flatMap(l -> l.of(results.variants().get(at).variant()).map(v -> LatencyJson.of(l, v)))
          .ifPresent(l -> node.set("latency", l));
      variants.add(node);
    }
    results.layerMetrics().ifPresent(m -> root.set("layer_metrics", LayerMetricsJson.of(m)));
    try {
      return WRITER.writeValueAsString(root) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree that cannot be written", e);
    }
  }

  private static ObjectNode variant(VariantResult v, Metrics baseline) {
    ObjectNode node = MAPPER.createObjectNode();
    if (v.isBaseline()) {
      node.putNull("span");
    } else {
      node.putArray("span").add(v.span().start()).add(v.span().end());
    }
    Metrics m = v.metrics();
    putDouble(node, "accuracy", m.accuracy());
    putDouble(node, "macro_f1", m.macroF1());
    List<LabelScore> scores = m.perLabel();
    List<LabelScore> base = baseline.perLabel();
    labelDoubles(node.putObject("per_label"), scores, LabelScore::accuracy);
    labelDoubles(node.putObject("precision"), scores, LabelScore::precision);
    labelDoubles(node.putObject("f1"), scores, LabelScore::f1);
    ObjectNode support = node.putObject("support");
    scores.forEach(s -> support.put(s.label(), s.support()));
    ObjectNode predicted = node.putObject("predicted");
    scores.forEach(s -> predicted.put(s.label(), s.predicted()));
    ObjectNode delta = node.putObject("delta");
    for (int i = 0; i < scores.size(); i++) {
      putDouble(delta, scores.get(i).label(), scores.get(i).accuracy() - base.get(i).accuracy());
    }
    ArrayNode confusion = node.putArray("confusion");
    for (long[] row : m.confusion()) {
      ArrayNode r = confusion.addArray();
      for (long count : row) {
        r.add(count);
      }
    }
    return node;
  }

  private static void labelDoubles(ObjectNode node, List<LabelScore> scores, ToDoubleFunction<LabelScore> value) {
    scores.forEach(s -> putDouble(node, s.label(), value.applyAsDouble(s)));
  }

  /** NaN (an undefined score) has no JSON form: it is written as null. */
  private static void putDouble(ObjectNode node, String field, double value) {
    if (Double.isNaN(value)) {
      node.putNull(field);
    } else {
      node.put(field, value);
    }
  }

  /**
   * Reads a file written by {@link #write}.
   *
   * @throws OnnxSkipException when the file is missing, not JSON, or lacks what a run needs; the
   *     message names the file and the field
   */
  public static RunResults read(Path file) {
    JsonNode root = tree(file);
    Fields in = new Fields(file);
    in.require(root != null && root.isObject(), "", "a JSON object");
    List<String> labels = new ArrayList<>();
    for (JsonNode label : in.field(root, "labels", JsonNode::isArray, "an array of label names")) {
      in.require(label.isTextual(), "labels", "an array of label names");
      labels.add(label.asText());
    }
    int layers = in.field(root, "layers", JsonNode::canConvertToInt, "a number of layers").asInt();
    List<VariantResult> variants = new ArrayList<>();
    JsonNode variantNodes = in.field(root, "variants", JsonNode::isArray, "an array of variants");
    for (int i = 0; i < variantNodes.size(); i++) {
      variants.add(readVariant(in, variantNodes.get(i), "variants[" + i + "]", labels));
    }
    try {
      return new RunResults(
          in.map(root, "config"),
          in.map(root, "provenance"),
          labels,
          layers,
          variants,
          in.field(root, "timestamp", JsonNode::isTextual, "a string").asText());
    } catch (IllegalArgumentException e) {
      throw new OnnxSkipException(file + ": " + e.getMessage());
    }
  }

  /** The measured speed in a file written by {@link #write}, where its run measured it. */
  public static Optional<Latencies> readLatencies(Path file) {
    JsonNode root = tree(file);
    new Fields(file).require(root != null && root.isObject(), "", "a JSON object");
    return LatencyJson.read(root, file);
  }

  /**
   * Per variant and label, the paired bootstrap interval {@code [low, high]} of the change in
   * accuracy against the baseline ({@code findings.per_label.LABEL.vs_baseline.change_interval}),
   * for the variants and labels that have one.
   */
  public static Map<Variant, Map<String, double[]>> readChangeIntervals(Path file) {
    JsonNode root = tree(file);
    Map<Variant, Map<String, double[]>> intervals = new LinkedHashMap<>();
    for (JsonNode v : root.path("variants")) {
      JsonNode span = v.path("span");
      if (!isSpan(span)) {
        continue;
      }
      Map<String, double[]> perLabel = new LinkedHashMap<>();
      v.path("findings").path("per_label").fields().forEachRemaining(e -> {
        JsonNode interval = e.getValue().path("vs_baseline").path("change_interval");
        if (interval.isArray() && interval.size() == 2 && interval.get(0).isNumber() && interval.get(1).isNumber()) {
          perLabel.put(e.getKey(), new double[] {interval.get(0).asDouble(), interval.get(1).asDouble()});
        }
      });
      if (!perLabel.isEmpty()) {
        intervals.put(new SkipSpan(span.get(0).asInt(), span.get(1).asInt()), perLabel);
      }
    }
    return intervals;
  }

  private static JsonNode tree(Path file) {
    try {
      return MAPPER.readTree(Files.readAllBytes(file));
    } catch (NoSuchFileException e) {
      throw new OnnxSkipException("cannot read " + file + ": no such file");
    } catch (JsonProcessingException e) {
      throw new OnnxSkipException("cannot read " + file + ": not valid JSON at line "
          + e.getLocation().getLineNr() + ": " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new OnnxSkipException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private static VariantResult readVariant(Fields in, JsonNode node, String where, List<String> labels) {
    in.require(node.isObject(), where, "an object");
    JsonNode spanNode = in.field(node, "span", n -> n.isNull() || isSpan(n), "null or [first, last]", where);
    Variant span = Variant.BASELINE;
    if (!spanNode.isNull()) {
      try {
        span = new SkipSpan(spanNode.get(0).asInt(), spanNode.get(1).asInt());
      } catch (IllegalArgumentException e) {
        throw new OnnxSkipException(in.file + ": " + where + ".span: " + e.getMessage());
      }
    }
    int n = labels.size();
    String matrix = "a " + n + "x" + n + " matrix of counts";
    JsonNode rows = in.field(node, "confusion", r -> r.isArray() && r.size() == n, matrix, where);
    long[][] confusion = new long[n][n];
    for (int g = 0; g < n; g++) {
      JsonNode row = rows.get(g);
      in.require(row.isArray() && row.size() == n, where + ".confusion", matrix);
      for (int p = 0; p < n; p++) {
        in.require(row.get(p).canConvertToLong() && row.get(p).asLong() >= 0, where + ".confusion", matrix);
        confusion[g][p] = row.get(p).asLong();
      }
    }
    try {
      return new VariantResult(span, new Metrics(labels, confusion));
    } catch (IllegalArgumentException e) {
      throw new OnnxSkipException(in.file + ": " + where + ": " + e.getMessage());
    }
  }

  private static boolean isSpan(JsonNode n) {
    return n.isArray() && n.size() == 2 && n.get(0).canConvertToInt() && n.get(1).canConvertToInt();
  }

  /** Field access that fails with the file and the field's path in the message. */
  private record Fields(Path file) {

    void require(boolean ok, String where, String expected) {
      if (!ok) {
        throw new OnnxSkipException(file + ": " + (where.isEmpty() ? "content" : where) + " must be " + expected);
      }
    }

    JsonNode field(JsonNode parent, String name, Predicate<JsonNode> ok, String expected) {
      return field(parent, name, ok, expected, "");
    }

    JsonNode field(JsonNode parent, String name, Predicate<JsonNode> ok, String expected,
        String where) {
      String path = where.isEmpty() ? name : where + "." + name;
      JsonNode value = parent.get(name);
      if (value == null) {
        throw new OnnxSkipException(file + ": missing field \"" + path + "\"");
      }
      require(ok.test(value), path, expected);
      return value;
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> map(JsonNode parent, String name) {
      return MAPPER.convertValue(field(parent, name, JsonNode::isObject, "an object"), Map.class);
    }
  }
}
