package dev.onnxskip.rewrite;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.abort;

import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.layout.LayoutDetector;
import dev.onnxskip.testing.SyntheticBert;
import dev.onnxskip.testing.SyntheticBert.Head;
import dev.onnxskip.testing.SyntheticBert.LayerNorm;
import dev.onnxskip.testing.SyntheticBert.Naming;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Skip variants give the same numbers in OpenCV DNN as in ONNX Runtime. OpenCV wants static
 * shapes, so it runs the {@code --static-shapes batch=2,sequence=16} form of each variant, while
 * ONNX Runtime runs the ordinary dynamic variant: the comparison covers the static rewrite too.
 */
class OpenCvRuntimeTest {

  private static final double TOLERANCE = 1e-4;
  private static final StaticShapes.Dims DIMS = StaticShapes.Dims.parse("batch=2,sequence=16");

  /** Two sentences of BERT word pieces, the second padded. */
  private static final long[][] IDS = {
    {101, 2023, 2003, 1037, 3231, 6251, 2008, 2003, 2036, 2146, 2000, 3231, 1996, 12034, 1012, 102},
    {101, 7592, 2088, 999, 2023, 2003, 2460, 1012, 102, 0, 0, 0, 0, 0, 0, 0},
  };

  @TempDir static Path tmp;
  static OnnxModel dynamic;
  static EncoderLayout dynamicLayout;
  static OnnxModel fixed;
  static EncoderLayout fixedLayout;

  @BeforeAll
  static void load() {
    dynamic = ModelIO.load(Path.of("models/minilm-l6/model.onnx"));
    dynamicLayout = LayoutDetector.detect(dynamic);
    fixed = StaticShapes.apply(dynamic, DIMS);
    fixedLayout = LayoutDetector.detect(fixed);
  }

  @ParameterizedTest(name = "skip {0}")
  @ValueSource(strings = {"nothing", "0-0", "2-3", "5-5"})
  void miniLmVariantsMatchOnnxRuntime(String skip) throws Exception {
    OnnxModel ortModel = dynamic;
    OnnxModel cvModel = fixed;
    if (!skip.equals("nothing")) {
      SkipSpan span = SkipSpans.parseOne(skip, dynamicLayout.layers());
      ortModel = SkipRewriter.variant(dynamic, dynamicLayout, span, "");
      cvModel = SkipRewriter.variant(fixed, fixedLayout, span, "");
    }
    Path file = tmp.resolve("minilm-" + skip + ".onnx");
    ModelIO.save(cvModel.proto(), file);
    Map<String, long[][]> inputs = miniLmInputs();

    OrtHarness.Floats expected = OrtHarness.run(ortModel, inputs, Map.of()).get("last_hidden_state");
    OrtHarness.Floats actual = OpenCvHarness.run(file, inputs, "last_hidden_state");
    assertArrayEquals(new long[] {2, 16, 384}, actual.shape());
    double diff = OrtHarness.maxAbsDiff(expected.data(), actual.data());
    System.out.printf("OpenCV vs ONNX Runtime, MiniLM skip %s: max |diff| %.2e%n", skip, diff);
    assertTrue(diff <= TOLERANCE, "max |diff| " + diff);
  }

  @ParameterizedTest
  @ValueSource(strings = {"decomposed", "layernorm-op-logits", "distilbert"})
  void syntheticFormsMatchOnnxRuntime(String form) throws Exception {
    Spec spec = switch (form) {
      case "decomposed" -> Spec.tiny(3);
      case "layernorm-op-logits" -> Spec.tiny(3).withNaming(Naming.BERT).withLayerNorm(LayerNorm.OP).withHead(Head.CLS_CLASSIFIER, 3);
      default -> Spec.tiny(3).withNaming(Naming.DISTILBERT).withHead(Head.MEAN_POOL_CLASSIFIER, 2);
    };
    OnnxModel source = StaticShapes.apply(OnnxModel.of(SyntheticBert.build(spec)), StaticShapes.Dims.parse("batch=2,sequence=7"));
    OnnxModel variant = SkipRewriter.variant(source, LayoutDetector.detect(source), new SkipSpan(1, 1), "");
    Path file = tmp.resolve(form + ".onnx");
    ModelIO.save(variant.proto(), file);
    Map<String, long[][]> inputs = StaticShapesTest.feeds(SyntheticBert.randomInputs(spec, 2, 7, 9));
    OrtHarness.Floats expected = OrtHarness.run(variant, inputs, Map.of()).get(spec.outputName());
    OrtHarness.Floats actual = OpenCvHarness.run(file, inputs, spec.outputName());
    assertEquals(expected.data().length, actual.data().length);
    double diff = OrtHarness.maxAbsDiff(expected.data(), actual.data());
    System.out.printf("OpenCV vs ONNX Runtime, synthetic %s skip 1-1: max |diff| %.2e%n", form, diff);
    assertTrue(diff <= TOLERANCE, "max |diff| " + diff);
  }

  @Test
  void quantizedMiniLmCannotRunInOpenCv() {
    OnnxModel q = StaticShapes.apply(ModelIO.load(Path.of("models/minilm-l6-q/model.onnx")), DIMS);
    Path file = tmp.resolve("minilm-q.onnx");
    ModelIO.save(q.proto(), file);
    RuntimeException e = assertThrows(RuntimeException.class, () -> OpenCvHarness.run(file, miniLmInputs(), "last_hidden_state"));
    assertTrue(e.getMessage().contains("Can't create layer") && e.getMessage().contains("of type \"DynamicQuantizeLinear\""),
        e.getMessage());
    abort("OpenCV DNN 4.11 has no DynamicQuantizeLinear layer (\"Can't create layer ... of type DynamicQuantizeLinear\"):"
        + " the int8 dynamically quantized MiniLM quantizes activations at run time with it before every MatMulInteger,"
        + " so none of its variants can run in OpenCV");
  }

  @Test
  void fusedGraphsCannotRunInOpenCv() {
    Spec spec = Spec.tiny(2);
    OnnxModel fused = StaticShapes.apply(OnnxModel.of(SyntheticBert.fused(spec)), StaticShapes.Dims.parse("batch=2,sequence=7"));
    Path file = tmp.resolve("fused.onnx");
    ModelIO.save(fused.proto(), file);
    Map<String, long[][]> inputs = StaticShapesTest.feeds(SyntheticBert.randomInputs(spec, 2, 7, 9));
    RuntimeException e = assertThrows(RuntimeException.class, () -> OpenCvHarness.run(file, inputs, "last_hidden_state"));
    assertTrue(e.getMessage().contains("EmbedLayerNormalization"), e.getMessage());
    abort("OpenCV DNN 4.11 has no layers for ONNX Runtime's com.microsoft contrib ops (it stops at the first,"
        + " EmbedLayerNormalization): graphs fused by ONNX Runtime's optimizer run only in ONNX Runtime");
  }

  private static Map<String, long[][]> miniLmInputs() {
    long[][] mask = new long[IDS.length][IDS[0].length];
    for (int i = 0; i < IDS.length; i++) {
      for (int j = 0; j < IDS[i].length; j++) {
        mask[i][j] = IDS[i][j] == 0 ? 0 : 1;
      }
    }
    return Map.of("input_ids", IDS, "attention_mask", mask, "token_type_ids", new long[IDS.length][IDS[0].length]);
  }
}
