package dev.onnxskip.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.data.DataColumns;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.layout.LayoutDetector;
import dev.onnxskip.runtime.Device;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Evaluates {@link KnownAnswerModel}, whose logits follow from its construction, and checks the
 * per-label accuracies of the baseline and of skip variants against values worked out by hand.
 */
class KnownAnswerEvalTest {

  /**
   * Text and gold label. Each label has four texts, of mean strength 1, 3, 5 and 3 along its axis
   * ("a1 a5" averages to 3), and of one to three tokens, so batches mix lengths and need padding.
   */
  static final List<String[]> DATA = List.of(
      new String[] {"a1", "a"}, new String[] {"b3 b3", "b"}, new String[] {"c5 c5 c5", "c"},
      new String[] {"a1 a5", "a"}, new String[] {"b1", "b"}, new String[] {"c3 c3", "c"},
      new String[] {"a5 a5 a5", "a"}, new String[] {"b1 b5", "b"}, new String[] {"c1", "c"},
      new String[] {"a3 a3", "a"}, new String[] {"b5 b5 b5", "b"}, new String[] {"c1 c5", "c"});

  @TempDir static Path dir;
  static Path model;
  static Path tokenizer;
  static Path data;

  @BeforeAll
  static void write() throws IOException {
    model = dir.resolve("known.onnx");
    ModelIO.save(KnownAnswerModel.build().proto(), model);
    tokenizer = KnownAnswerModel.TOKENIZER.write(dir.resolve("tokenizer.json"));
    StringBuilder lines = new StringBuilder();
    ObjectMapper json = new ObjectMapper();
    for (String[] row : DATA) {
      lines.append(json.writeValueAsString(Map.of("text", row[0], "label", row[1]))).append('\n');
    }
    data = Files.writeString(dir.resolve("data.jsonl"), lines);
  }

  static EvalConfig config(String spans, EngineKind engine, int batchSize) {
    return new EvalConfig(new EvalConfig.Inputs(model, tokenizer, data, DataColumns.DEFAULT), EvalConfig.ModelReading.FROM_MODEL, spans,
        new EvalConfig.Batching(batchSize, 16, true), new EvalConfig.Execution(Device.CPU, 1, engine));
  }

  @Test
  void theBlocksAreFoundWhereTheyWereBuilt() {
    EncoderLayout layout = LayoutDetector.detect(ModelIO.load(model));
    assertEquals(KnownAnswerModel.LAYERS, layout.layers());
    assertEquals("structure", layout.strategy(), layout.evidence());
    assertEquals("/embeddings/word_embeddings/Gather_output_0", layout.boundary(0));
    for (int k = 1; k < KnownAnswerModel.LAYERS; k++) {
      assertEquals("/encoder/layer." + (k - 1) + "/output/Add_1_output_0", layout.boundary(k));
    }
    assertEquals("last_hidden_state", layout.boundary(KnownAnswerModel.LAYERS));
  }

  /**
   * A text of label x with mean strength S gets logits S·e_x + C + A, where C sums the shifts of the kept
   * blocks and A is block 2's attention term, -S_max/4 on the c axis for a text of label c whose
   * strongest word is c S_max, when block 2 is kept. So a text of label c has effective strength
   * S' = S - S_max/4 with block 2 (3/4, 9/4, 7/4 and 15/4 for "c1", "c3 c3", "c1 c5", "c5 c5 c5") and
   * S' = S without it; for a and b, S' = S. A text is classified right when S' + C_x exceeds C of both
   * other labels (strengths are odd or odd quarters and shifts even, so there are no ties). With shifts
   * (2,-2,0), (-2,2,0), (0,0,4), (0,0,-4):
   *
   * <pre>
   * span      C           block 2   a: S'+C_a > max   b           c              accuracies a, b, c
   * baseline  ( 0, 0, 0)  kept      every S           every S     every S'       1, 1, 1
   * 0-0       (-2, 2, 0)  kept      S > 4: {5}        every S     S' > 2         1/4, 1, 1/2
   * 0-1       ( 0, 0, 0)  kept      every S           every S     every S'       1, 1, 1
   * 0-2       ( 0, 0,-4)  skipped   every S           every S     S > 4          1, 1, 1/4
   * 0-3       ( 0, 0, 0)  skipped   every S           every S     every S        1, 1, 1
   * 1-1       ( 2,-2, 0)  kept      every S           S > 4       S' > 2         1, 1/4, 1/2
   * 1-2       ( 2,-2,-4)  skipped   every S           S > 4       S > 6: none    1, 1/4, 0
   * 1-3       ( 2,-2, 0)  skipped   every S           S > 4       S > 2          1, 1/4, 3/4
   * 2-2       ( 0, 0,-4)  skipped   every S           every S     S > 4          1, 1, 1/4
   * 2-3       ( 0, 0, 0)  skipped   every S           every S     every S        1, 1, 1
   * 3-3       ( 0, 0, 4)  kept      S > 4             S > 4       every S'       1/4, 1/4, 1
   * </pre>
   */
  @ParameterizedTest
  @EnumSource(EngineKind.class)
  void perLabelAccuraciesAreTheOnesWorkedOutByHand(EngineKind engine, @TempDir Path out) {
    EvalRun.Outcome outcome = ReportedRun.of(config("all", engine, 5), out, true);
    RunResults results = outcome.results();
    assertEquals(KnownAnswerModel.LABELS, results.labels());
    Map<String, double[]> expected = new LinkedHashMap<>();
    expected.put("baseline", new double[] {1, 1, 1});
    expected.put("0-0", new double[] {0.25, 1, 0.5});
    expected.put("0-1", new double[] {1, 1, 1});
    expected.put("0-2", new double[] {1, 1, 0.25});
    expected.put("0-3", new double[] {1, 1, 1});
    expected.put("1-1", new double[] {1, 0.25, 0.5});
    expected.put("1-2", new double[] {1, 0.25, 0});
    expected.put("1-3", new double[] {1, 0.25, 0.75});
    expected.put("2-2", new double[] {1, 1, 0.25});
    expected.put("2-3", new double[] {1, 1, 1});
    expected.put("3-3", new double[] {0.25, 0.25, 1});
    Map<String, VariantResult> byName = new LinkedHashMap<>();
    results.variants().forEach(v -> byName.put(v.name(), v));
    assertEquals(expected.keySet(), byName.keySet(), "the baseline and the 10 spans of 4 layers");
    expected.forEach((name, accuracies) -> assertArrayEquals(accuracies, perLabel(byName.get(name)), 0, name));
  }

  /**
   * Skipping 1-1 and skipping 1-3 keep feed-forward shifts of the same sum, (2,-2,0); they differ only in
   * that 1-1 keeps block 2, whose attention takes the strongest word's strength/4 off the c logit. So
   * with the attention ignored both would give the same answers. And "c3 c3" and "c1 c5" have the same
   * mean embedding: only attention that looks at the keys (and finds c5 the strongest) tells them apart.
   */
  @ParameterizedTest
  @EnumSource(EngineKind.class)
  void blockTwosAttentionDecidesAnswers(EngineKind engine, @TempDir Path out) throws IOException {
    ReportedRun.of(config("1-1,1-3", engine, 5), out, true);
    Map<String, List<String>> predicted = EvalOutputs.predictions(out);
    int c3c3 = row("c3 c3");
    int c1c5 = row("c1 c5");
    // 1-1: logits (2, -2, 3 - 3/4) and (2, -2, 3 - 5/4); 1-3: (2, -2, 3) for both.
    assertEquals("c", predicted.get("1-1").get(c3c3));
    assertEquals("a", predicted.get("1-1").get(c1c5));
    assertEquals("c", predicted.get("1-3").get(c3c3));
    assertEquals("c", predicted.get("1-3").get(c1c5));
    assertEquals(List.of("a", "a", "a", "a"), labelsOf(predicted.get("1-1"), "a"), "label a is untouched by the attention");
  }

  /** Every span, checked against the plain-Java forward pass of the model's description. */
  @ParameterizedTest
  @EnumSource(EngineKind.class)
  void everyLogitIsTheWorkedOutOne(EngineKind engine, @TempDir Path out) throws IOException {
    ReportedRun.of(config("all", engine, 4), out, true);
    List<JsonNode> lines = new ArrayList<>();
    ObjectMapper json = new ObjectMapper();
    for (String line : Files.readAllLines(out.resolve("predictions.jsonl"))) {
      lines.add(json.readTree(line));
    }
    assertEquals(DATA.size(), lines.size());
    Map<String, IntPredicate> variants = new LinkedHashMap<>();
    variants.put("baseline", layer -> false);
    for (int start = 0; start < KnownAnswerModel.LAYERS; start++) {
      for (int end = start; end < KnownAnswerModel.LAYERS; end++) {
        int first = start;
        int last = end;
        variants.put(start + "-" + end, layer -> layer >= first && layer <= last);
      }
    }
    for (int i = 0; i < DATA.size(); i++) {
      JsonNode line = lines.get(i);
      assertEquals(i, line.get("index").asInt());
      assertEquals(i + 1, line.get("line").asInt());
      assertEquals(DATA.get(i)[1], line.get("gold").asText());
      List<String> names = new ArrayList<>();
      line.get("logits").fieldNames().forEachRemaining(names::add);
      assertEquals(List.copyOf(variants.keySet()), names, "variants of example " + i);
      for (Map.Entry<String, IntPredicate> variant : variants.entrySet()) {
        String key = variant.getKey();
        double[] want = KnownAnswerModel.expectedLogits(DATA.get(i)[0], variant.getValue());
        JsonNode got = line.get("logits").get(key);
        double[] gotLogits = new double[got.size()];
        for (int j = 0; j < gotLogits.length; j++) {
          gotLogits[j] = got.get(j).floatValue();
        }
        // Softmax weights of 1/n make the attention term exact only to float precision.
        assertArrayEquals(want, gotLogits, 1e-5, "logits of example " + i + " under " + key);
        int argmax = 0;
        for (int j = 1; j < want.length; j++) {
          argmax = want[j] > want[argmax] ? j : argmax;
        }
        assertEquals(KnownAnswerModel.LABELS.get(argmax), line.get("predicted").get(key).asText());
      }
    }
  }

  /** The index in {@link #DATA} of a text. */
  private static int row(String text) {
    for (int i = 0; i < DATA.size(); i++) {
      if (DATA.get(i)[0].equals(text)) {
        return i;
      }
    }
    throw new IllegalArgumentException(text);
  }

  /** The predictions for the texts of one gold label, in data order. */
  private static List<String> labelsOf(List<String> predictions, String gold) {
    List<String> picked = new ArrayList<>();
    for (int i = 0; i < DATA.size(); i++) {
      if (DATA.get(i)[1].equals(gold)) {
        picked.add(predictions.get(i));
      }
    }
    return picked;
  }

  private static double[] perLabel(VariantResult v) {
    return v.metrics().perLabel().stream().mapToDouble(LabelScore::accuracy).toArray();
  }
}
