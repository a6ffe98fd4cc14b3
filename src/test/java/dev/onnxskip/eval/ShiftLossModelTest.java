package dev.onnxskip.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.data.WordTokenizer;
import dev.onnxskip.graph.ModelIO;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A classifier built so that one span only moves the decision, one destroys the information, and one
 * changes too few examples to be told from chance; eval must read each of them so.
 *
 * <p>Hidden size 3. Words {@code pu, pd} embed as +2 and −2 on axis 1, {@code nu, nd} as ±1, and
 * {@code qu, qd} as ±1.6; every text has as many u as d words, so the mean of axis 1 is 0 and a linear
 * head on the mean-pooled embeddings sees nothing. Label {@code pos} texts use p words (and two of them
 * q words), {@code neg} texts n words. The blocks (attention output projections are zero, so only the
 * feed forwards act):
 *
 * <ul>
 *   <li>block 0 adds 3 on axis 0 to every token: a constant;
 *   <li>block 1 adds |axis 1| to axis 2 (ReLU(x) + ReLU(−x)): the label's only carrier, mean 2 for
 *       pos, 1.6 for the q texts and 1 for neg;
 *   <li>block 2 adds 0.2 on axis 2.
 * </ul>
 *
 * The head's pos-minus-neg margin is {@code pooled_0 + 2·pooled_2 − 6.4}: +1 for pos, +0.2 for the q
 * texts, −1 for neg with every block. Without block 0 every margin falls by 3 (all neg, but the order
 * of the margins, so AUROC, is kept and one offset undoes it: a decision shift). Without block 1 every
 * text has the same features (all neg, AUROC 0.5, and no offset or head can recover it: an information
 * loss). Without block 2 only the two q texts fall below 0: 2 broken, 0 fixed, McNemar p = 0.5.
 */
class ShiftLossModelTest {
  static final List<String> LABELS = List.of("neg", "pos");
  static final WordTokenizer TOKENIZER = new WordTokenizer(List.of("pu", "pd", "nu", "nd", "qu", "qd"), false);
  static final int NEG = 60;
  static final int POS = 38;
  static final int BORDERLINE = 2;

  @TempDir static Path dir;
  static Path model;
  static Path tokenizer;
  static Path data;
  static final List<String[]> ROWS = new ArrayList<>();

  @BeforeAll
  static void write() throws IOException {
    model = dir.resolve("shift-loss.onnx");
    ModelIO.save(build().proto(), model);
    tokenizer = TOKENIZER.write(dir.resolve("tokenizer.json"));
    for (int i = 0; i < NEG; i++) {
      ROWS.add(new String[] {text("nu", "nd", 1 + i % 3), "neg"});
    }
    for (int i = 0; i < POS; i++) {
      ROWS.add(new String[] {text("pu", "pd", 1 + i % 3), "pos"});
    }
    for (int i = 0; i < BORDERLINE; i++) {
      ROWS.add(new String[] {text("qu", "qd", 1 + i), "pos"});
    }
    StringBuilder lines = new StringBuilder();
    ObjectMapper json = new ObjectMapper();
    for (String[] row : ROWS) {
      lines.append(json.writeValueAsString(Map.of("text", row[0], "label", row[1]))).append('\n');
    }
    data = Files.writeString(dir.resolve("data.jsonl"), lines);
  }

  /** {@code pairs} times "up down". */
  private static String text(String up, String down, int pairs) {
    List<String> words = new ArrayList<>();
    for (int i = 0; i < pairs; i++) {
      words.add(up);
      words.add(down);
    }
    return String.join(" ", words);
  }

  static dev.onnxskip.graph.OnnxModel build() {
    return build(false);
  }

  /** @param identityBlock a fourth block whose weights are all zero: its output is its input exactly */
  static dev.onnxskip.graph.OnnxModel build(boolean identityBlock) {
    int hidden = 3;
    float[][] table = new float[TOKENIZER.vocabularySize()][hidden];
    float[] strength = {2, -2, 1, -1, 1.6f, -1.6f};
    for (int w = 0; w < strength.length; w++) {
      table[WordTokenizer.FIRST_WORD + w][1] = strength[w];
    }
    float[][] noAttention = new float[hidden][hidden];
    List<KnownAnswerModel.BlockWeights> blocks = List.of(
        new KnownAnswerModel.BlockWeights(noAttention, new float[hidden][2], new float[2], new float[2][hidden], new float[] {3, 0, 0}),
        new KnownAnswerModel.BlockWeights(noAttention, new float[][] {{0, 0}, {1, -1}, {0, 0}}, new float[2],
            new float[][] {{0, 0, 1}, {0, 0, 1}}, new float[hidden]),
        new KnownAnswerModel.BlockWeights(noAttention, new float[hidden][2], new float[2], new float[2][hidden], new float[] {0, 0, 0.2f}));
    if (identityBlock) {
      blocks = new ArrayList<>(blocks);
      blocks.add(new KnownAnswerModel.BlockWeights(noAttention, new float[hidden][2], new float[2], new float[2][hidden], new float[hidden]));
    }
    float[][] head = {{0, 1}, {0, 0}, {0, 2}};
    return KnownAnswerModel.build(table, blocks, head, new float[] {0, -6.4f}, LABELS);
  }

  /** The pos-minus-neg margin of a text's row, worked from the description: mean |axis 1| is the word strength. */
  static double expectedMargin(String[] row, boolean block0, boolean block1, boolean block2) {
    double magnitude = row[0].startsWith("p") ? 2 : row[0].startsWith("q") ? 1.6 : 1;
    return (block0 ? 3 : 0) + 2 * ((block1 ? magnitude : 0) + (block2 ? 0.2 : 0)) - 6.4;
  }

  @Test
  void eachSpanIsReadAsWhatItDoes(@TempDir Path out) throws IOException {
    EvalCli.ok("eval", "--model", model.toString(), "--tokenizer", tokenizer.toString(), "--data", data.toString(),
        "--spans", "all", "--out", out.toString(), "--save-predictions", "--threads", "1");
    // The logits are the ones worked out by hand, so the model is the one described.
    ObjectMapper json = new ObjectMapper();
    List<String> predictions = Files.readAllLines(out.resolve("predictions.jsonl"));
    for (int i = 0; i < ROWS.size(); i++) {
      JsonNode logits = json.readTree(predictions.get(i)).get("logits");
      assertMargin(expectedMargin(ROWS.get(i), true, true, true), logits.get("baseline"), i);
      assertMargin(expectedMargin(ROWS.get(i), false, true, true), logits.get("0-0"), i);
      assertMargin(expectedMargin(ROWS.get(i), true, false, true), logits.get("1-1"), i);
      assertMargin(expectedMargin(ROWS.get(i), true, true, false), logits.get("2-2"), i);
    }

    JsonNode results = json.readTree(out.resolve("results.json").toFile());
    JsonNode base = variant(results, "baseline").get("per_label").get("pos");
    assertEquals(1.0, base.get("accuracy").asDouble());
    assertTrue(results.get("statistics").get("head_refit").get("computed").asBoolean(), results.get("statistics").toString());

    JsonNode shift = variant(results, "0-0").get("per_label").get("pos");
    assertEquals(0.0, shift.get("accuracy").asDouble());
    assertEquals(1.0, shift.get("auroc").asDouble(), 1e-12, "the margins keep their order");
    // The margins are the baseline's less 3, so the offsets fitted to them are the baseline's plus 3,
    // and the recalibrated predictions are the recalibrated baseline's.
    assertEquals(base.get("recalibrated_accuracy").asDouble(), shift.get("recalibrated_accuracy").asDouble(), 1e-12,
        "one offset undoes a constant shift");
    assertTrue(shift.get("recalibrated_accuracy").asDouble() >= base.get("accuracy_interval").get(0).asDouble(), shift.toString());
    assertEquals(1.0, shift.get("refit_accuracy").asDouble(), "the features still carry the label");
    assertTrue(shift.get("vs_baseline").get("significant").asBoolean());
    assertEquals(40, shift.get("vs_baseline").get("broken").asInt());

    JsonNode loss = variant(results, "1-1").get("per_label").get("pos");
    assertEquals(0.0, loss.get("accuracy").asDouble());
    assertEquals(0.5, loss.get("auroc").asDouble(), 1e-12, "every text has the same features");
    assertEquals(0.0, loss.get("recalibrated_accuracy").asDouble(), "the majority label takes every example");
    assertEquals(0.0, loss.get("refit_accuracy").asDouble(), "no head can tell identical features apart");
    assertTrue(loss.get("vs_baseline").get("significant").asBoolean());
    assertEquals(0.5, variant(results, "1-1").get("balanced_accuracy").get("value").asDouble(), 1e-12);

    JsonNode small = variant(results, "2-2").get("per_label").get("pos");
    assertEquals(38.0 / 40, small.get("accuracy").asDouble(), 1e-12);
    assertEquals(2, small.get("vs_baseline").get("broken").asInt());
    assertEquals(0.5, small.get("vs_baseline").get("p").asDouble(), 1e-12, "two-sided exact binomial of 0 fixed against 2 broken");
    assertFalse(small.get("vs_baseline").get("significant").asBoolean());
    assertEquals(2.0 / 40, small.get("vs_baseline").get("churn").asDouble(), 1e-12);

    String summary = Files.readString(out.resolve("summary.md"));
    String pos = summary.substring(summary.indexOf("\n## pos\n"));
    assertTrue(pos.contains("| 0-0 |") && line(pos, "| 0-0 |").endsWith(" decision shift |"), pos);
    assertTrue(line(pos, "| 1-1 |").endsWith(" information loss |"), pos);
    String harmful = pos.substring(0, pos.indexOf("Longest spans with no significant loss"));
    assertFalse(harmful.contains("| 2-2 |"), "a change of two examples is not reported as harmful: " + pos);
    // Every span with block 1 loses the information; block 0 alone shifts; block 2 alone is noise.
    assertTrue(pos.contains("On pos, 5 of 6 spans lower the accuracy beyond chance (Holm, alpha 0.05): 1 by shifting the decision"
        + " (recalibration restores it) and 4 by losing information."), pos);
  }

  @Test
  void withoutHeadRefitTheColumnIsAbsentAndSaidSo(@TempDir Path out) throws IOException {
    EvalCli.ok("eval", "--model", model.toString(), "--tokenizer", tokenizer.toString(), "--data", data.toString(),
        "--spans", "0-0", "--out", out.toString(), "--no-head-refit", "--threads", "1");
    JsonNode results = new ObjectMapper().readTree(out.resolve("results.json").toFile());
    JsonNode refit = results.get("statistics").get("head_refit");
    assertFalse(refit.get("computed").asBoolean());
    assertEquals("turned off (--no-head-refit)", refit.get("absent_because").asText());
    assertTrue(variant(results, "0-0").get("per_label").get("pos").get("refit_accuracy").isNull());
    assertTrue(Files.readString(out.resolve("summary.md")).contains("No head was refit on the variants' features: turned off"));
    assertTrue(results.has("layer_metrics"), "on unless turned off");
    Path without = out.resolveSibling(out.getFileName() + "-without");
    EvalCli.ok("eval", "--model", model.toString(), "--tokenizer", tokenizer.toString(), "--data", data.toString(),
        "--spans", "0-0", "--out", without.toString(), "--no-layer-metrics", "--threads", "1", "--quiet");
    JsonNode plain = new ObjectMapper().readTree(without.resolve("results.json").toFile());
    assertFalse(plain.has("layer_metrics"));
    assertFalse(plain.get("config").get("layer_metrics").asBoolean());
  }

  /**
   * A block that passes its input through has Block Influence 0 and changes nothing when skipped; and
   * no metric depends on how a batch is padded: batches of one (no padding) and of 16 texts of mixed
   * lengths give the same values.
   */
  @Test
  void anIdentityBlockHasNoInfluenceAndPaddingChangesNoMetric(@TempDir Path work) throws IOException {
    Path identity = work.resolve("identity.onnx");
    ModelIO.save(build(true).proto(), identity);
    ObjectMapper json = new ObjectMapper();
    List<JsonNode> runs = new ArrayList<>();
    for (String batch : List.of("1", "16")) {
      Path out = work.resolve("batch-" + batch);
      EvalCli.ok("eval", "--model", identity.toString(), "--tokenizer", tokenizer.toString(), "--data", data.toString(),
          "--spans", "all", "--batch-size", batch, "--out", out.toString(), "--threads", "1", "--quiet");
      runs.add(json.readTree(out.resolve("results.json").toFile()));
    }
    JsonNode metrics = runs.get(0).get("layer_metrics");
    assertEquals(0.0, metrics.get("per_layer").get(3).get("block_influence").get("overall").asDouble(), 1e-12);
    assertTrue(metrics.get("per_layer").get(1).get("block_influence").get("overall").asDouble() > 0.01, metrics.toString());
    assertEquals(variant(runs.get(0), "baseline").get("overall").get("accuracy").asDouble(),
        variant(runs.get(0), "3-3").get("overall").get("accuracy").asDouble());
    assertEquals(0, variant(runs.get(0), "3-3").get("overall").get("vs_baseline").get("churn").asDouble());
    assertEquals(0.0, metrics.get("per_span").get(spanIndex(runs.get(0), "3-3")).get("overall").get("angular_distance").asDouble(), 1e-7);
    assertEquals(1.0, metrics.get("per_span").get(spanIndex(runs.get(0), "3-3")).get("overall").get("linear_cka").asDouble(), 1e-6);
    assertNumbersClose(metrics, runs.get(1).get("layer_metrics"), "layer_metrics");
  }

  private static int spanIndex(JsonNode results, String name) {
    JsonNode spans = results.get("layer_metrics").get("per_span");
    for (int i = 0; i < spans.size(); i++) {
      if ((spans.get(i).get("span").get(0).asInt() + "-" + spans.get(i).get("span").get(1).asInt()).equals(name)) {
        return i;
      }
    }
    throw new AssertionError("no span " + name);
  }

  private static void assertNumbersClose(JsonNode a, JsonNode b, String where) {
    if (a.isNumber()) {
      assertEquals(a.asDouble(), b.asDouble(), 1e-6, where);
    } else if (a.isArray()) {
      assertEquals(a.size(), b.size(), where);
      for (int i = 0; i < a.size(); i++) {
        assertNumbersClose(a.get(i), b.get(i), where + "[" + i + "]");
      }
    } else if (a.isObject()) {
      assertEquals(a.size(), b.size(), where);
      a.fieldNames().forEachRemaining(f -> assertNumbersClose(a.get(f), b.get(f), where + "." + f));
    } else {
      assertEquals(a, b, where);
    }
  }

  private static void assertMargin(double expected, JsonNode logits, int row) {
    assertEquals(expected, logits.get(1).asDouble() - logits.get(0).asDouble(), 1e-5, "row " + row);
  }

  /** A variant's findings in results.json, by its name as the summary writes it ("baseline", "S-E"). */
  private static JsonNode variant(JsonNode results, String name) {
    for (JsonNode v : results.get("variants")) {
      JsonNode span = v.get("span");
      String vName = span.isNull() ? "baseline" : span.get(0).asInt() + "-" + span.get(1).asInt();
      if (vName.equals(name)) {
        return v.get("findings");
      }
    }
    throw new AssertionError("no variant " + name + " in " + results);
  }

  private static String line(String text, String start) {
    int at = text.indexOf(start);
    assertTrue(at >= 0, "no line starting " + start + " in " + text);
    int end = text.indexOf('\n', at);
    return text.substring(at, end < 0 ? text.length() : end);
  }
}
