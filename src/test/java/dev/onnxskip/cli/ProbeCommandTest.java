package dev.onnxskip.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.graph.Digests;
import dev.onnxskip.graph.ModelIO;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * probe on the real MiniLM encoder: it reports a held-out accuracy (a development set, or a share of
 * the training data), warns when the head fits its training data far better than new data, chooses
 * C by cross-validation when asked, and records how it was trained in the classifier.
 */
class ProbeCommandTest {
  static final String ENCODER = "models/minilm-l6/model.onnx";
  static final String TOKENIZER = "models/minilm-l6/tokenizer.json";
  static final ObjectMapper JSON = new ObjectMapper();

  static final String[] GOOD = {"a wonderful, moving film", "great acting and a lovely story", "I loved every minute of it",
    "brilliant and funny", "one of the best movies this year", "beautiful music and a happy ending", "a delight from start to end",
    "charming, warm and clever", "superb", "an excellent cast"};
  static final String[] BAD = {"a boring, dreadful mess", "terrible acting and a dull plot", "I hated every minute of it",
    "awful and far too long", "one of the worst movies ever made", "ugly, noisy and pointless", "a chore from start to end",
    "cold, dull and stupid", "dreadful", "a wasted cast"};

  @TempDir static Path dir;
  static Path train;
  static Path dev;
  static Path swapped;

  @BeforeAll
  static void write() throws IOException {
    train = dir.resolve("train.jsonl");
    Files.write(train, lines(GOOD, BAD, "pos", "neg", 0, 8));
    dev = dir.resolve("dev.jsonl");
    Files.write(dev, lines(GOOD, BAD, "pos", "neg", 8, 10));
    // The training texts with their labels swapped: a head that learnt the training data gets them wrong.
    swapped = dir.resolve("swapped.jsonl");
    Files.write(swapped, lines(GOOD, BAD, "neg", "pos", 0, 8));
  }

  static List<String> lines(String[] good, String[] bad, String goodLabel, String badLabel, int from, int to) throws IOException {
    List<String> lines = new ArrayList<>();
    for (int i = from; i < to; i++) {
      lines.add(JSON.writeValueAsString(Map.of("text", good[i], "label", goodLabel)));
      lines.add(JSON.writeValueAsString(Map.of("text", bad[i], "label", badLabel)));
    }
    return lines;
  }

  static CliRun probe(Path out, String... extra) {
    List<String> args = new ArrayList<>(List.of("probe", "--model", ENCODER, "--tokenizer", TOKENIZER, "--train", train.toString(),
        "--max-length", "32", "-o", out.toString()));
    args.addAll(Arrays.asList(extra));
    return CliRun.of(args.toArray(String[]::new));
  }

  static double printed(String out, String pattern) {
    Matcher m = Pattern.compile(pattern).matcher(out);
    assertTrue(m.find(), "'" + pattern + "' in: " + out);
    return Double.parseDouble(m.group(1));
  }

  /** The held-out accuracy on --dev is what eval measures of the written classifier on the same file. */
  @Test
  void aDevelopmentSetGivesTheHeldOutAccuracyThatEvalMeasures(@TempDir Path tmp) throws IOException {
    Path classifier = tmp.resolve("classifier.onnx");
    CliRun run = probe(classifier, "--dev", dev.toString());
    assertEquals(0, run.exit(), run.err());
    double heldOut = printed(run.out(), "held-out accuracy ([0-9.]+) on 4 examples of --dev dev.jsonl \\(sha256 " + Digests.sha256(dev)
        + "\\)");
    CliRun eval = CliRun.of("eval", "--model", classifier.toString(), "--tokenizer", TOKENIZER, "--data", dev.toString(),
        "--max-length", "32", "--spans", "0-0", "--quiet", "--out", tmp.resolve("eval").toString());
    assertEquals(0, eval.exit(), eval.err());
    JsonNode baseline = JSON.readTree(tmp.resolve("eval/results.json").toFile()).get("variants").get(0);
    assertEquals(baseline.get("accuracy").asDouble(), heldOut, 1e-4);

    Map<String, String> metadata = ModelIO.load(classifier).metadata();
    assertEquals("mean", metadata.get("onnx_skip.probe.pooling"));
    assertEquals("1.0", metadata.get("onnx_skip.probe.c"));
    assertEquals("--c", metadata.get("onnx_skip.probe.c_chosen_by"));
    assertEquals("32", metadata.get("onnx_skip.probe.max_length"));
    assertEquals(Digests.sha256(train), metadata.get("onnx_skip.probe.train_sha256"));
    assertEquals("16", metadata.get("onnx_skip.probe.train_examples"));
    assertEquals(heldOut, Double.parseDouble(metadata.get("onnx_skip.probe.heldout_accuracy")), 1e-4);

    CliRun inspect = CliRun.of("inspect", classifier.toString());
    assertEquals(0, inspect.exit(), inspect.err());
    assertTrue(inspect.out().contains("train_sha256") && inspect.out().contains(Digests.sha256(train)), inspect.out());
    assertTrue(inspect.out().contains("max_length") && inspect.out().contains("heldout_accuracy"), inspect.out());
  }

  /** Without --dev, a fifth of each label is held out; the classifier is still trained on all of it. */
  @Test
  void withoutADevelopmentSetAShareOfTheTrainingDataIsHeldOut(@TempDir Path tmp) throws IOException {
    CliRun run = probe(tmp.resolve("a.onnx"));
    assertEquals(0, run.exit(), run.err());
    printed(run.out(), "held-out accuracy ([0-9.]+) on 4 examples of the training data held out \\(20%, a head trained on the rest\\)");
    CliRun again = probe(tmp.resolve("b.onnx"));
    assertEquals(run.out().replace("a.onnx", "b.onnx").replaceAll("[0-9.]+ s", "T s"),
        again.out().replaceAll("[0-9.]+ s", "T s"), "the same split every run");
    assertArrayEquals(Files.readAllBytes(tmp.resolve("a.onnx")), Files.readAllBytes(tmp.resolve("b.onnx")));
  }

  @Test
  void aHeadThatOnlyFitsItsTrainingDataIsWarnedOf(@TempDir Path tmp) {
    CliRun run = probe(tmp.resolve("classifier.onnx"), "--dev", swapped.toString(), "--c", "100");
    assertEquals(0, run.exit(), run.err());
    double train = printed(run.out(), "training accuracy ([0-9.]+)");
    double heldOut = printed(run.out(), "held-out accuracy ([0-9.]+)");
    assertTrue(train > heldOut + 0.5, run.out());
    assertEquals(String.format(java.util.Locale.ROOT, "onnx-skip: warning: training accuracy %.4f but held-out %.4f: the head fits its"
        + " training data far better than new data; try --c auto, a smaller --c or more training data", train, heldOut),
        run.err().strip());
  }

  /** --c auto: C comes from cross-validation, the same every run, and the classifier records it and how it was chosen. */
  @Test
  void cAutoChoosesByCrossValidationAndRecordsIt(@TempDir Path tmp) throws IOException {
    CliRun run = probe(tmp.resolve("classifier.onnx"), "--c", "auto", "--dev", dev.toString());
    assertEquals(0, run.exit(), run.err());
    double c = printed(run.out(), "C=([0-9.E-]+) \\(chosen by 5-fold cross-validation, accuracy [0-9.]+\\)");
    Map<String, String> metadata = ModelIO.load(tmp.resolve("classifier.onnx")).metadata();
    assertEquals(c, Double.parseDouble(metadata.get("onnx_skip.probe.c")));
    assertTrue(metadata.get("onnx_skip.probe.c_chosen_by").startsWith("5-fold cross-validation (accuracy "), metadata.toString());

    CliRun again = probe(tmp.resolve("again.onnx"), "--c", "auto", "--dev", dev.toString());
    assertArrayEquals(Files.readAllBytes(tmp.resolve("classifier.onnx")), Files.readAllBytes(tmp.resolve("again.onnx")),
        "the same folds, the same C, the same head");
    // The chosen C, given by hand, trains the same head.
    CliRun byHand = probe(tmp.resolve("by-hand.onnx"), "--c", Double.toString(c), "--dev", dev.toString());
    assertEquals(0, byHand.exit(), byHand.err());
    assertEquals(ModelIO.load(tmp.resolve("classifier.onnx")).proto().getGraph(), ModelIO.load(tmp.resolve("by-hand.onnx")).proto().getGraph());
  }

  @Test
  void aBadCIsRefusedBeforeTheModelIsRead(@TempDir Path tmp) {
    for (String bad : List.of("0", "-1", "often", "NaN")) {
      CliRun run = CliRun.of("probe", "--model", tmp.resolve("absent.onnx").toString(), "--tokenizer", TOKENIZER, "--train",
          train.toString(), "--c", bad, "-o", tmp.resolve("c.onnx").toString());
      assertEquals(2, run.exit(), run.err());
      assertEquals("onnx-skip: --c must be a positive number or 'auto', got '" + bad + "'", run.err().strip());
      assertFalse(Files.exists(tmp.resolve("c.onnx")));
    }
  }
}
