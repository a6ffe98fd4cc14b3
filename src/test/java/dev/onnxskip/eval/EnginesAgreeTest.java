package dev.onnxskip.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxskip.data.SyntheticData;
import dev.onnxskip.data.WordTokenizer;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.testing.SyntheticBert.Head;
import dev.onnxskip.testing.SyntheticBert.Spec;
import dev.onnxskip.testing.SyntheticBert;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A synthetic 12-layer classifier evaluated over all 78 spans by both engines, which must agree, and
 * twice by the same engine, which must give the same results.json byte for byte.
 */
class EnginesAgreeTest {

  static final Spec SPEC = Spec.tiny(12).withHidden(32).withHead(Head.MEAN_POOL_CLASSIFIER, 3);
  static final WordTokenizer WORDS = WordTokenizer.numbered(SPEC.vocab(), true);

  @TempDir static Path dir;
  static Path naive;
  static Path shared;

  @BeforeAll
  static void evaluate() throws IOException {
    Path model = dir.resolve("model.onnx");
    ModelIO.save(SyntheticBert.build(SPEC), model);
    Path tokenizer = WORDS.write(dir.resolve("tokenizer.json"));
    Path data = Files.writeString(dir.resolve("data.jsonl"), SyntheticData.jsonLines(SyntheticData.texts(30, SPEC.vocab(), 12), "0", "1", "2"));
    naive = dir.resolve("naive");
    shared = dir.resolve("shared");
    for (Path out : List.of(naive, shared)) {
      // Batches of 7 leave a short last batch, and sorting by length pads each batch differently.
      EvalCli.ok("eval", "--model", model.toString(), "--tokenizer", tokenizer.toString(), "--data", data.toString(),
          "--engine", out.getFileName().toString(), "--batch-size", "7", "--max-length", "32", "--save-predictions", "--quiet",
          "--out", out.toString());
    }
  }

  @Test
  void naiveAndSharedGiveTheSamePredictionsLogitsAndResults() throws IOException {
    Map<String, List<String>> predicted = EvalOutputs.predictions(shared);
    assertEquals(1 + 78, predicted.size(), "the baseline and the 78 spans of 12 layers");
    assertEquals(EvalOutputs.predictions(naive), predicted);
    Map<String, float[][]> fromNaive = EvalOutputs.logits(naive);
    Map<String, float[][]> fromShared = EvalOutputs.logits(shared);
    assertEquals(fromNaive.keySet(), fromShared.keySet());
    fromNaive.forEach((variant, logits) -> EvalOutputs.assertClose(logits, fromShared.get(variant), 1e-5, variant));
    EvalOutputs.assertSameResults(naive, shared, 1e-5);
    // The comparison means something only if skipping changes answers.
    assertTrue(predicted.values().stream().distinct().count() > 5, "skipping layers changes predictions");
  }

  @Test
  void aSecondRunWritesTheSameResults(@TempDir Path again) throws IOException {
    List<String> args = List.of("--model", dir.resolve("model.onnx").toString(), "--tokenizer", dir.resolve("tokenizer.json").toString(),
        "--data", dir.resolve("data.jsonl").toString(), "--batch-size", "7", "--max-length", "32", "--save-predictions", "--quiet");
    EvalCli.ok(Stream.concat(Stream.of("eval", "--out", again.toString()), args.stream())
        .toArray(String[]::new));
    assertEquals(EvalOutputs.resultsWithoutTimestamp(shared), EvalOutputs.resultsWithoutTimestamp(again));
    assertEquals(Files.readString(shared.resolve("results.csv")), Files.readString(again.resolve("results.csv")));
    assertEquals(EvalOutputs.predictions(shared), EvalOutputs.predictions(again));
  }
}
