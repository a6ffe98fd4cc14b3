package dev.onnxskip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.eval.KnownAnswerRuns;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.LayoutDetector;
import dev.onnxskip.rewrite.Provenance;
import dev.onnxskip.rewrite.SkipSpan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code select} on results of the known-answer model, evaluated on the spans below, whose per-label
 * accuracies (a, b, c) are worked out in KnownAnswerEvalTest, with synthetic latencies whose speed-up
 * for k of the 4 layers skipped is 12 / (2 + 10 (4 - k) / 4): 1.26 for k = 1, 1.71 for 2, 2.67 for 3.
 *
 * <pre>
 * span  k  a    b    c    overall  worst
 * 0-0   1  .25  1    .5   .583     .25
 * 0-2   3  1    1    .25  .75      .25
 * 1-3   3  1    .25  .75  .667     .25
 * 2-3   2  1    1    1    1        1
 * 3-3   1  .25  .25  1    .5       .25
 * </pre>
 */
class SelectCommandTest {
  private static final String SPANS = "0-0,0-2,1-3,2-3,3-3";

  @TempDir static Path dir;
  static KnownAnswerRuns.Inputs inputs;
  static Path timed;
  static Path untimed;

  @BeforeAll
  static void evaluate() {
    inputs = KnownAnswerRuns.inputs(dir.resolve("inputs"));
    timed = dir.resolve("timed");
    untimed = dir.resolve("untimed");
    KnownAnswerRuns.folder(inputs, SPANS, timed, true);
    KnownAnswerRuns.folder(inputs, SPANS, untimed, false);
  }

  @ParameterizedTest(name = "floor {0}, max drop {1}, min speed-up {2}, significant {3}: {4}")
  @CsvSource({
    // Only 2-3 keeps every label above .8.
    "0.8, 0.01, , false, 2-3",
    // Everything qualifies: 0-2 and 1-3 are fastest (2.67x), worst labels tie at .25, 0-2 has the higher accuracy.
    "0.2, 0.8, , false, 0-2",
    // A floor of .3 rules out every span with a label at .25.
    "0.3, 0.8, , false, 2-3",
    // By the point estimate 0-2 drops c by .75; the bootstrap interval of 4 examples, 3 of them broken, reaches 1.
    "0.2, 0.8, , true, 2-3",
    "0.0, 1.0, 2.0, false, 0-2",
    // 2-3 (1.71x) is the only span of 1.5x or more that keeps every label above .5.
    "0.5, 1.0, 1.5, false, 2-3",
  })
  void picksTheKnownBestVariant(String floor, String maxDrop, String minSpeedup, boolean significant, String expected) {
    List<String> args = new ArrayList<>(List.of("select", "--results", timed.toString(), "--min-label-accuracy", floor, "--max-drop", maxDrop));
    if (minSpeedup != null) {
      args.addAll(List.of("--min-speedup", minSpeedup));
    }
    if (significant) {
      args.add("--significant");
    }
    CliRun run = CliRun.of(args.toArray(String[]::new));
    assertEquals(0, run.exit(), run.err());
    assertTrue(run.out().contains("chosen: " + expected + " ("), run.out());
  }

  @Test
  void withoutLatenciesTheMostLayersSkippedWins() {
    CliRun loose = CliRun.of("select", "--results", untimed.toString(), "--min-label-accuracy", "0.2", "--max-drop", "0.8");
    assertEquals(0, loose.exit(), loose.err());
    assertTrue(loose.out().contains("best: the most layers skipped"), loose.out());
    assertTrue(loose.out().contains("chosen: 0-2 ("), loose.out());
    assertTrue(loose.out().contains("1-3    qualifies and ties"), loose.out());
    assertTrue(loose.out().contains("2-3    qualifies, but skips 2 layers against 3"), loose.out());
    CliRun strict = CliRun.of("select", "--results", untimed.toString(), "--min-label-accuracy", "0.3", "--max-drop", "0.8");
    assertTrue(strict.out().contains("chosen: 2-3 ("), strict.out());
  }

  @Test
  void runnerUpsSayWhyTheyLost() {
    CliRun run = CliRun.of("select", "--results", timed.toString(), "--min-label-accuracy", "0.8", "--max-drop", "0.01");
    assertTrue(run.out().contains("chosen: 2-3 (1.71\u00d7 speed-up, 2 of the layers skipped, accuracy 1.000, worst label a 1.000)"), run.out());
    assertTrue(run.out().contains("0-2    label c at 0.250, below --min-label-accuracy 0.800; label c drops by 0.750, more than --max-drop 0.010"),
        run.out());
    assertTrue(run.out().contains("1-3    label b at 0.250, below --min-label-accuracy 0.800"), run.out());
    assertEquals("", run.err());
  }

  @Test
  void impossibleConstraintsNameTheBindingOneAndTheNearestMiss() {
    // 0-2 and 1-3 are fast enough but fail the floor alone; 2-3 meets the floor at 1.71x.
    CliRun floor = CliRun.of("select", "--results", timed.toString(), "--min-label-accuracy", "0.8", "--min-speedup", "2");
    assertEquals(1, floor.exit());
    assertTrue(floor.oneLineError(), floor.err());
    assertTrue(floor.err().startsWith("onnx-skip: no variant qualifies: --min-label-accuracy binds (4 of 5 variants fail it, 2 on it alone);"
        + " best near miss 2-3: speed-up 1.71\u00d7, below --min-speedup 2.00\u00d7"), floor.err());
    assertTrue(floor.out().contains("without --min-label-accuracy: 0-2 (2.67\u00d7 speed-up"), floor.out());
    // Nothing reaches 3x: the speed-up binds.
    CliRun speed = CliRun.of("select", "--results", timed.toString(), "--min-label-accuracy", "0.5", "--min-speedup", "3");
    assertEquals(1, speed.exit());
    assertTrue(speed.err().startsWith("onnx-skip: no variant qualifies: --min-speedup binds (5 of 5 variants fail it, 1 on it alone)"),
        speed.err());
    assertTrue(speed.out().contains("without --min-speedup: 2-3"), speed.out());
  }

  @Test
  void writesTheChosenVariantAsAModelFolder() throws Exception {
    Path pruned = dir.resolve("pruned");
    CliRun run = CliRun.of("select", "--results", timed.toString(), "--min-label-accuracy", "0.8", "--max-drop", "0.01", "-o", pruned.toString());
    assertEquals(0, run.exit(), run.err());
    OnnxModel model = ModelIO.load(pruned.resolve("onnx/model.onnx"));
    assertEquals(new SkipSpan(2, 3), Provenance.read(model).orElseThrow().span());
    assertEquals(2, LayoutDetector.detect(model).layers());
    JsonNode config = new ObjectMapper().readTree(pruned.resolve("config.json").toFile());
    assertEquals(2, config.get("num_hidden_layers").asInt());
    assertEquals("a", config.get("id2label").get("0").asText());
    assertEquals(2, config.get("label2id").get("c").asInt());
    assertEquals(List.of(2, 3), Arrays.asList(config.get("onnx_skip").get("skipped_span").get(0).asInt(),
        config.get("onnx_skip").get("skipped_span").get(1).asInt()));
    assertEquals(Files.readString(inputs.tokenizer()), Files.readString(pruned.resolve("tokenizer.json")));
    assertEquals(16, new ObjectMapper().readTree(pruned.resolve("tokenizer_config.json").toFile()).get("model_max_length").asInt(),
        "the length the run truncated to");

    CliRun again = CliRun.of("select", "--results", timed.toString(), "--min-label-accuracy", "0.8", "-o", pruned.toString());
    assertEquals(2, again.exit());
    assertTrue(again.err().contains("use --force"), again.err());
  }

  @Test
  void badInputGetsOneLineAndExitTwo() {
    String results = timed.toString();
    List<String[]> cases = List.of(
        new String[] {"select", "--results", dir.resolve("nowhere").toString(), "--min-label-accuracy", "0.8"},
        new String[] {"select", "--results", dir.resolve("inputs").toString()},
        new String[] {"select", "--results", untimed.toString(), "--min-speedup", "1.3"},
        new String[] {"select", "--results", results, "--min-label-accuracy", "1.5"},
        new String[] {"select", "--results", results, "--min-label-accuracy", "-0.1"},
        new String[] {"select", "--results", results, "--max-drop", "2"},
        new String[] {"select", "--results", results, "--min-speedup", "0"});
    List<String> messages = List.of("no results in", "it has no results.json", "--min-speedup needs measured speed",
        "--min-label-accuracy must lie in [0, 1], got 1.5", "--min-label-accuracy must lie in [0, 1], got -0.1",
        "--max-drop must lie in [0, 1], got 2.0", "--min-speedup must be a positive number");
    for (int i = 0; i < cases.size(); i++) {
      CliRun run = CliRun.of(cases.get(i));
      assertEquals(2, run.exit(), String.join(" ", cases.get(i)) + ": " + run.err());
      assertTrue(run.oneLineError(), run.err());
      assertTrue(run.err().startsWith("onnx-skip: ") && run.err().contains(messages.get(i)), run.err());
      assertFalse(run.out().contains("chosen"), run.out());
    }
  }
}
