package dev.onnxskip.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.layout.LayoutDetector;
import dev.onnxskip.rewrite.HeadWriter;
import dev.onnxskip.rewrite.Pooling;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real MiniLM encoder with a fixed random linear head: the logits eval reports for a few spans,
 * under both engines, against the standalone variant files {@code rewrite} writes, run directly in
 * ONNX Runtime one unpadded example at a time.
 */
class MiniLmEvalTest {

  static final Path ENCODER = Path.of("models/minilm-l6/model.onnx");
  static final Path TOKENIZER = Path.of("models/minilm-l6/tokenizer.json");
  static final String SPANS = "0-0,2-3,5-5";
  static final int EXAMPLES = 24;
  static final int MAX_LENGTH = 128;

  @TempDir static Path dir;
  static Path classifier;
  static Path data;
  static Path naive;
  static Path shared;

  @BeforeAll
  static void evaluate() throws IOException {
    OnnxModel encoder = ModelIO.load(ENCODER);
    Random random = new Random(2022);
    float[] weights = new float[384 * 2];
    for (int i = 0; i < weights.length; i++) {
      // The scale of a trained probe head: logits of order 1, as real classifiers give.
      weights[i] = (float) (0.05 * random.nextGaussian());
    }
    classifier = dir.resolve("classifier.onnx");
    ModelIO.save(HeadWriter.append(encoder, "last_hidden_state", "attention_mask", Pooling.MEAN, weights,
        new float[] {0.25f, -0.25f}, List.of("neg", "pos")).proto(), classifier);
    data = dir.resolve("dev24.jsonl");
    Files.write(data, reviews(EXAMPLES));
    naive = dir.resolve("naive");
    shared = dir.resolve("shared");
    for (Path out : List.of(naive, shared)) {
      EvalCli.ok("eval", "--model", classifier.toString(), "--tokenizer", TOKENIZER.toString(), "--data", data.toString(),
          "--spans", SPANS, "--engine", out.getFileName().toString(), "--batch-size", "8", "--save-predictions", "--quiet",
          "--out", out.toString());
    }
  }

  /**
   * Review-like texts made here, so the test needs no downloaded data: lengths from a few words to
   * past the 128-token limit, so truncation and per-batch padding both take part.
   */
  static List<String> reviews(int count) {
    String[] words = {"the", "film", "was", "a", "truly", "wonderful", "boring", "plot", "and", "acting", "felt", "dull",
        "brilliant", "ending", "music", "terrible", "I", "loved", "hated", "every", "minute", "of", "it", "story"};
    Random random = new Random(7);
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      StringBuilder text = new StringBuilder();
      int length = 3 + random.nextInt(i % 4 == 0 ? 200 : 40);
      for (int w = 0; w < length; w++) {
        text.append(w == 0 ? "" : " ").append(words[random.nextInt(words.length)]);
      }
      lines.add("{\"text\": \"" + text + ".\", \"label\": \"" + (i % 2 == 0 ? "neg" : "pos") + "\"}");
    }
    return lines;
  }

  @Test
  void logitsMatchTheStandaloneVariantFilesRunInOnnxRuntime() throws Exception {
    Path variants = dir.resolve("variants");
    EvalCli.ok("rewrite", classifier.toString(), "--spans", SPANS, "-o", variants.toString());
    Map<String, Path> files = Map.of("baseline", classifier, "0-0", variants.resolve("skip-0-0.onnx"),
        "2-3", variants.resolve("skip-2-3.onnx"), "5-5", variants.resolve("skip-5-5.onnx"));
    List<long[]> ids = tokenize();
    Map<String, float[][]> fromNaive = EvalOutputs.logits(naive);
    Map<String, float[][]> fromShared = EvalOutputs.logits(shared);
    assertEquals(files.keySet(), fromShared.keySet());
    for (Map.Entry<String, Path> variant : files.entrySet()) {
      float[][] expected = runEachAlone(variant.getValue(), ids);
      EvalOutputs.assertClose(expected, fromNaive.get(variant.getKey()), 1e-5, "naive engine, " + variant.getKey());
      EvalOutputs.assertClose(expected, fromShared.get(variant.getKey()), 1e-5, "shared engine, " + variant.getKey());
    }
  }

  @Test
  void bothEnginesGiveTheSameResults() throws IOException {
    assertEquals(EvalOutputs.predictions(naive), EvalOutputs.predictions(shared));
    Map<String, float[][]> fromNaive = EvalOutputs.logits(naive);
    Map<String, float[][]> fromShared = EvalOutputs.logits(shared);
    assertEquals(fromNaive.keySet(), fromShared.keySet());
    fromNaive.forEach((variant, logits) -> EvalOutputs.assertClose(logits, fromShared.get(variant), 1e-5, variant));
    EvalOutputs.assertSameResults(naive, shared, 1e-5);
  }

  /**
   * Angular distance and Block Influence as results.json gives them per label, against the boundary
   * states computed here: the encoder with its boundary tensors added as graph outputs, run on each
   * example alone (no padding), and the formulas applied in this test.
   */
  @Test
  void layerMetricsMatchBoundaryStatesRunInOnnxRuntime() throws Exception {
    OnnxModel model = ModelIO.load(classifier);
    EncoderLayout layout = LayoutDetector.detect(model);
    int layers = layout.layers();
    ai.onnx.proto.OnnxMl.ModelProto.Builder withStates = model.proto().toBuilder();
    for (int k = 0; k <= layers; k++) {
      if (!model.outputNames().contains(layout.boundary(k))) {
        withStates.getGraphBuilder().addOutput(ai.onnx.proto.OnnxMl.ValueInfoProto.newBuilder().setName(layout.boundary(k))
            .setType(ai.onnx.proto.OnnxMl.TypeProto.newBuilder().setTensorType(ai.onnx.proto.OnnxMl.TypeProto.Tensor.newBuilder()
                .setElemType(ai.onnx.proto.OnnxMl.TensorProto.DataType.FLOAT_VALUE))));
      }
    }
    List<long[]> ids = tokenize();
    List<String> gold = new ArrayList<>();
    ObjectMapper json = new ObjectMapper();
    for (String line : Files.readAllLines(data)) {
      gold.add(json.readTree(line).get("label").asText());
    }
    // Per example: angular distance of spans 0-0, 2-3, 5-5 over tokens, and Block Influence per layer.
    int[][] spans = {{0, 0}, {2, 3}, {5, 5}};
    double[][] angular = new double[ids.size()][spans.length];
    double[][] influence = new double[ids.size()][layers];
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession session = env.createSession(withStates.build().toByteArray(), new OrtSession.SessionOptions())) {
      for (int i = 0; i < ids.size(); i++) {
        long[] row = ids.get(i);
        Map<String, OnnxTensor> feeds = feeds(env, row);
        try {
          try (OrtSession.Result result = session.run(feeds)) {
            float[][][] h = new float[layers + 1][][];
            for (int k = 0; k <= layers; k++) {
              h[k] = ((float[][][]) result.get(layout.boundary(k)).orElseThrow().getValue())[0];
            }
            for (int t = 0; t < row.length; t++) {
              for (int s = 0; s < spans.length; s++) {
                angular[i][s] += Math.acos(Math.min(1, cos(h[spans[s][0]][t], h[spans[s][1] + 1][t]))) / Math.PI / row.length;
              }
              for (int k = 0; k < layers; k++) {
                influence[i][k] += (1 - cos(h[k][t], h[k + 1][t])) / row.length;
              }
            }
          }
        } finally {
          feeds.values().forEach(OnnxTensor::close);
        }
      }
    }
    for (Path out : List.of(naive, shared)) {
      com.fasterxml.jackson.databind.JsonNode metrics = json.readTree(out.resolve("results.json").toFile()).get("layer_metrics");
      for (String label : List.of("neg", "pos")) {
        for (int s = 0; s < spans.length; s++) {
          assertEquals(groupMean(angular, gold, label, s), metrics.get("per_span").get(s).get("per_label").get(label)
              .get("angular_distance").asDouble(), 1e-5, out.getFileName() + ", span " + s + ", " + label);
        }
        for (int k = 0; k < layers; k++) {
          assertEquals(groupMean(influence, gold, label, k), metrics.get("per_layer").get(k).get("block_influence").get("per_label")
              .get(label).asDouble(), 1e-5, out.getFileName() + ", layer " + k + ", " + label);
        }
      }
    }
  }

  private static double cos(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * (double) b[i];
      na += a[i] * (double) a[i];
      nb += b[i] * (double) b[i];
    }
    return dot / Math.sqrt(na * nb);
  }

  private static double groupMean(double[][] values, List<String> gold, String label, int column) {
    double sum = 0;
    int n = 0;
    for (int i = 0; i < values.length; i++) {
      if (gold.get(i).equals(label)) {
        sum += values[i][column];
        n++;
      }
    }
    return sum / n;
  }

  /** The examples' token ids as the tokenizer library gives them, unpadded, cut to the max length. */
  static List<long[]> tokenize() throws IOException {
    List<long[]> ids = new ArrayList<>();
    ObjectMapper json = new ObjectMapper();
    try (HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.builder().optTokenizerPath(TOKENIZER).optPadding(false)
        .optTruncation(true).optMaxLength(MAX_LENGTH).build()) {
      for (String line : Files.readAllLines(data)) {
        ids.add(tokenizer.encode(json.readTree(line).get("text").asText()).getIds());
      }
    }
    return ids;
  }

  /** Logits of each example run on its own: a batch of one, no padding at all. */
  static float[][] runEachAlone(Path model, List<long[]> ids) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    float[][] logits = new float[ids.size()][];
    try (OrtSession session = env.createSession(model.toString(), new OrtSession.SessionOptions())) {
      for (int i = 0; i < ids.size(); i++) {
        long[] row = ids.get(i);
        Map<String, OnnxTensor> feeds = feeds(env, row);
        try {
          try (OrtSession.Result result = session.run(feeds)) {
            logits[i] = ((float[][]) result.get("logits").orElseThrow().getValue())[0];
          }
        } finally {
          feeds.values().forEach(OnnxTensor::close);
        }
      }
    }
    return logits;
  }

  /** One unpadded example's inputs: its ids, a mask of ones, type ids 0. */
  private static Map<String, OnnxTensor> feeds(OrtEnvironment env, long[] row) throws OrtException {
    Map<String, OnnxTensor> feeds = new HashMap<>();
    feeds.put("input_ids", OnnxTensor.createTensor(env, new long[][] {row}));
    feeds.put("attention_mask", OnnxTensor.createTensor(env, new long[][] {filled(row.length, 1)}));
    feeds.put("token_type_ids", OnnxTensor.createTensor(env, new long[][] {filled(row.length, 0)}));
    return feeds;
  }

  private static long[] filled(int length, long value) {
    long[] values = new long[length];
    Arrays.fill(values, value);
    return values;
  }
}
