package dev.onnxskip.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.onnxskip.data.DataColumns;
import dev.onnxskip.data.SyntheticData;
import dev.onnxskip.data.WordTokenizer;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.runtime.Device;
import dev.onnxskip.testing.SyntheticBert;
import dev.onnxskip.testing.SyntheticBert.Head;
import dev.onnxskip.testing.SyntheticBert.LayerNorm;
import dev.onnxskip.testing.SyntheticBert.Naming;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every export style the synthetic models come in, evaluated by both engines over all spans: the
 * engines agree, the baseline equals the model run directly on each example alone, every span's logits
 * differ from the baseline's, and span {@value #SPAN}'s equal those of the standalone file the
 * {@code rewrite} command writes for it, run directly in ONNX Runtime. A model fused by ONNX Runtime's
 * transformer optimizer gets the same checks, once with the naive engine alone, so that a failure of
 * the shared engine on fused graphs shows apart from one of evaluating them at all.
 */
class ExportStylesEvalTest {

  static final WordTokenizer WORDS = WordTokenizer.numbered(64, true);
  static final List<String> TEXTS = SyntheticData.texts(12, 64, 9);

  @TempDir static Path dir;
  static Path tokenizer;
  static Path data;

  @BeforeAll
  static void write() throws IOException {
    tokenizer = WORDS.write(dir.resolve("tokenizer.json"));
    data = Files.writeString(dir.resolve("data.jsonl"), SyntheticData.jsonLines(TEXTS, "0", "1"));
  }

  /** The span whose eval logits are checked against its standalone variant file. */
  static final String SPAN = "1-1";

  static final Spec FUSED = Spec.tiny(3).withHead(Head.MEAN_POOL_CLASSIFIER, 2);

  static Stream<Arguments> styles() {
    Spec base = Spec.tiny(3).withHead(Head.MEAN_POOL_CLASSIFIER, 2);
    List<Arguments> styles = new ArrayList<>();
    for (Naming naming : Naming.values()) {
      styles.add(Arguments.of(naming + " torch export", SyntheticBert.build(base.withNaming(naming)), base.withNaming(naming).tokenTypeIds()));
    }
    styles.add(Arguments.of("LayerNormalization op", SyntheticBert.build(base.withLayerNorm(LayerNorm.OP)), true));
    styles.add(Arguments.of("CLS head", SyntheticBert.build(base.withHead(Head.CLS_CLASSIFIER, 2)), true));
    return styles.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("styles")
  void bothEnginesAgreeAndTheBaselineIsTheModelItself(String style, ModelProto model, boolean tokenTypes, @TempDir Path out)
      throws Exception {
    checkEngines(style, model, tokenTypes, List.of(EngineKind.NAIVE, EngineKind.SHARED), out);
  }

  @Test
  void theNaiveEngineEvaluatesAnOrtFusedModel(@TempDir Path out) throws Exception {
    checkEngines("ORT-fused", SyntheticBert.fused(FUSED), true, List.of(EngineKind.NAIVE), out);
  }

  @Test
  void theSharedEngineAgreesWithTheNaiveOneOnAnOrtFusedModel(@TempDir Path out) throws Exception {
    checkEngines("ORT-fused", SyntheticBert.fused(FUSED), true, List.of(EngineKind.NAIVE, EngineKind.SHARED), out);
  }

  /**
   * Evaluates all spans with each engine in turn: their logits agree, the baseline's are the model's own,
   * no span's are the baseline's, and {@link #SPAN}'s are those of its variant file.
   */
  private static void checkEngines(String style, ModelProto model, boolean tokenTypes, List<EngineKind> engines, Path out)
      throws Exception {
    Path file = out.resolve("model.onnx");
    ModelIO.save(model, file);
    Map<String, float[][]> byEngine = null;
    for (EngineKind engine : engines) {
      EvalConfig cfg = new EvalConfig(new EvalConfig.Inputs(file, tokenizer, data, DataColumns.DEFAULT), EvalConfig.ModelReading.FROM_MODEL,
          "all", new EvalConfig.Batching(5, 32, true), new EvalConfig.Execution(Device.CPU, 0, engine));
      ReportedRun.of(cfg, out.resolve(engine.cliName()), true);
      Map<String, float[][]> logits = EvalOutputs.logits(out.resolve(engine.cliName()));
      assertEquals(7, logits.size(), "the baseline and 6 spans");
      if (byEngine == null) {
        byEngine = logits;
      } else {
        Map<String, float[][]> naive = byEngine;
        logits.forEach((variant, l) -> EvalOutputs.assertClose(naive.get(variant), l, 1e-5, style + ", " + variant));
      }
    }
    List<long[][]> inputs = new ArrayList<>();
    for (String text : TEXTS) {
      long[] ids = WORDS.ids(text);
      inputs.add(new long[][] {ids, tokenTypes ? new long[ids.length] : null});
    }
    float[][] baseline = byEngine.get("baseline");
    EvalOutputs.assertClose(EvalInputsTest.runEachAlone(model, inputs), baseline, 1e-5, style + ", baseline");
    // A rewrite that left the model as it was would give every span the baseline's logits, which the
    // checks above allow wherever the engines share that rewrite (always with one engine). Skipping a layer of random
    // weights moves some logit by at least 7e-3 in these models (the CLS head's tanh pooler damps it
    // most), a hundred times the tolerance the engines agree within.
    for (Map.Entry<String, float[][]> variant : byEngine.entrySet()) {
      if (!variant.getKey().equals("baseline")) {
        assertTrue(EvalOutputs.maxDifference(baseline, variant.getValue()) > 1e-3,
            style + ": skipping " + variant.getKey() + " changes the logits");
      }
    }
    Path variantFile = out.resolve("skip-" + SPAN + ".onnx");
    EvalCli.ok("rewrite", file.toString(), "--span", SPAN, "-o", variantFile.toString());
    ModelProto variant = ModelProto.parseFrom(Files.readAllBytes(variantFile));
    EvalOutputs.assertClose(EvalInputsTest.runEachAlone(variant, inputs), byEngine.get(SPAN), 1e-5, style + ", variant file " + SPAN);
  }
}
