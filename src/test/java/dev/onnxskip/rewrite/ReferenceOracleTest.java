package dev.onnxskip.rewrite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.layout.LayoutDetector;
import dev.onnxskip.testing.ReferenceBert;
import dev.onnxskip.testing.SyntheticBert;
import dev.onnxskip.testing.SyntheticBert.Head;
import dev.onnxskip.testing.SyntheticBert.Inputs;
import dev.onnxskip.testing.SyntheticBert.LayerNorm;
import dev.onnxskip.testing.SyntheticBert.Naming;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every span of small synthetic encoders, rewritten by {@link SkipRewriter} and run in ONNX Runtime,
 * against {@link ReferenceBert}: a loop-by-loop BERT in double precision that reads the weights out of
 * the source model and simply does not run the skipped layers. Unlike the prefix-then-suffix checks,
 * this oracle shares nothing with what it checks: not the graph IR, not the block detection, not the
 * sub-model extraction, not even the graph's own ops. Several export styles and layer counts, every
 * span of each; a variant must also ask for no input its source does not.
 *
 * <p>The reference finds weights by their torch names, so models whose names say nothing (anonymous,
 * scrambled, ONNX Runtime-fused) are checked against the reference of the torch export of the same spec,
 * which has the very same weights (SyntheticBertTest pins that the two compute the same function).
 */
class ReferenceOracleTest {

  private static final int BATCH = 3;
  private static final int SEQ = 6;
  /**
   * The reference runs in double, ONNX Runtime in float32 with its own summation order, fusions and
   * exp. Activations after each LayerNorm are of order 1 (gains near 1, hidden 16 or 24), each op rounds
   * at about 6e-8 relative, and a few layers of some twenty ops over sums of at most 32 terms keep the
   * float error near 1e-6: the largest difference these cases show is below 5e-7, and the reference's
   * erf is good to 1.5e-7. So 1e-4 leaves room for other CPUs' kernels, while any two variants of a case
   * differ by at least {@link #DISTINCT}: a rewrite that skipped other layers than asked, or fed a kept
   * layer the wrong tensor, could not pass.
   */
  private static final double TOLERANCE = 1e-4;
  /**
   * How far apart the outputs of any two variants of a case are in the reference, at the least; the
   * closest pair here (a CLS head's tanh flattens some differences) is 8e-3 apart.
   */
  private static final double DISTINCT = 5e-3;

  /**
   * One export style.
   *
   * @param spec torch-named, so that its build holds the weights for the reference
   * @param build the model the rewrite gets, with the weights of {@code spec}
   */
  record Case(String style, Spec spec, Function<Spec, ModelProto> build) {
    @Override
    public String toString() {
      return style + ", " + spec.layers() + " layers";
    }
  }

  static Stream<Case> cases() {
    Spec tiny = Spec.tiny(4).withHead(Head.MEAN_POOL_CLASSIFIER, 3);
    return Stream.of(
        new Case("ENCODER, decomposed LayerNorm, mean pooling", tiny, SyntheticBert::build),
        new Case("BERT, LayerNormalization op, CLS head, no token types",
            Spec.tiny(3).withNaming(Naming.BERT).withLayerNorm(LayerNorm.OP).withTokenTypeIds(false)
                .withHead(Head.CLS_CLASSIFIER, 2), SyntheticBert::build),
        new Case("RoBERTa, CLS head, constant reshapes",
            Spec.tiny(3).withNaming(Naming.ROBERTA).withHead(Head.CLS_CLASSIFIER, 3).withConstantReshapes(true),
            SyntheticBert::build),
        new Case("DistilBERT, 3 heads, mean pooling",
            Spec.tiny(2).withNaming(Naming.DISTILBERT).withHidden(24).withHeads(3).withHead(Head.MEAN_POOL_CLASSIFIER, 2),
            SyntheticBert::build),
        new Case("anonymous names, no head", Spec.tiny(3).withSeed(7),
            s -> SyntheticBert.build(s.withNaming(Naming.ANONYMOUS))),
        new Case("scrambled names, LayerNormalization op",
            tiny.withLayers(3).withLayerNorm(LayerNorm.OP).withSeed(3),
            s -> SyntheticBert.build(s.withNaming(Naming.SCRAMBLED))),
        new Case("ORT-fused contrib ops", Spec.tiny(3).withHead(Head.MEAN_POOL_CLASSIFIER, 2).withSeed(5),
            SyntheticBert::fused),
        // Older exports also list every initializer as a graph input, an overridable default.
        new Case("initializers as inputs", tiny.withLayers(2).withSeed(9),
            s -> initializersAsInputs(SyntheticBert.build(s))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void everySpanComputesTheReferenceBertWithThoseLayersLeftOut(Case c) throws OrtException {
    Spec spec = c.spec();
    ModelProto source = c.build().apply(spec);
    OnnxModel model = OnnxModel.of(source);
    EncoderLayout layout = LayoutDetector.detect(model);
    assertEquals(spec.layers(), layout.layers(), c + ": layers found");
    Inputs inputs = SyntheticBert.randomInputs(spec, BATCH, SEQ, spec.seed() + 100);
    ReferenceBert reference = new ReferenceBert(SyntheticBert.build(spec), spec);

    Map<String, double[]> expected = new LinkedHashMap<>();
    expected.put("baseline", reference(reference, spec, inputs, -1, -1));
    Ran baseline = run(source, inputs, spec);
    double baselineDiff = maxAbsDiff(baseline.output(), expected.get("baseline"));
    assertTrue(baselineDiff <= TOLERANCE, c + ", baseline: max diff " + baselineDiff);
    for (SkipSpan span : SkipSpan.all(spec.layers())) {
      expected.put(span.toString(), reference(reference, spec, inputs, span.start(), span.end()));
      Ran variant = run(SkipRewriter.variant(model, layout, span, "sha").proto(), inputs, spec);
      assertEquals(baseline.inputs(), variant.inputs(), c + ", skip " + span + ": the inputs a caller must feed");
      double diff = maxAbsDiff(variant.output(), expected.get(span.toString()));
      assertTrue(diff <= TOLERANCE, c + ", skip " + span + ": max diff " + diff + " from the reference");
    }
    // The check above can only fail if the variants differ: every two of them by far more than the tolerance.
    List<String> names = new ArrayList<>(expected.keySet());
    for (int i = 0; i < names.size(); i++) {
      for (int j = i + 1; j < names.size(); j++) {
        double apart = maxAbsDiff(expected.get(names.get(i)), expected.get(names.get(j)));
        assertTrue(apart >= DISTINCT, c + ": " + names.get(i) + " and " + names.get(j) + " are only " + apart + " apart");
      }
    }
  }

  /**
   * The reference's output with layers {@code start..end} skipped (none when negative): logits, or,
   * without a head, the states of the real tokens, which are all that a mask lets matter.
   */
  private static double[] reference(ReferenceBert reference, Spec spec, Inputs inputs, int start, int end) {
    double[][][] hidden = reference.encode(inputs, layer -> layer >= start && layer <= end);
    List<Double> values = new ArrayList<>();
    if (spec.head() != Head.NONE) {
      for (double[] row : reference.logits(hidden, inputs)) {
        for (double v : row) {
          values.add(v);
        }
      }
    } else {
      int[] lengths = inputs.lengths();
      for (int b = 0; b < hidden.length; b++) {
        for (int t = 0; t < lengths[b]; t++) {
          for (double v : hidden[b][t]) {
            values.add(v);
          }
        }
      }
    }
    return values.stream().mapToDouble(Double::doubleValue).toArray();
  }

  /**
   * What a run gave: the output, flattened like the reference's, and the inputs ONNX Runtime asks for
   * (those without a default).
   */
  private record Ran(float[] output, Set<String> inputs) {}

  /** Runs a model as a user would: default session options, token inputs only. */
  private static Ran run(ModelProto model, Inputs inputs, Spec spec) throws OrtException {
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      // Initializers declared as inputs get one warning each; they are what that case is about.
      options.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
      return run(model, inputs, spec, options);
    }
  }

  private static Ran run(ModelProto model, Inputs inputs, Spec spec, OrtSession.SessionOptions options)
      throws OrtException {
    try (OrtSession session = OrtHarness.ENV.createSession(model.toByteArray(), options)) {
      Map<String, OnnxTensor> feeds = inputs.toTensors(OrtHarness.ENV);
      try (OrtSession.Result result = session.run(feeds)) {
        Object value = result.get(spec.outputName()).orElseThrow().getValue();
        List<Float> values = new ArrayList<>();
        if (value instanceof float[][] logits) {
          for (float[] row : logits) {
            for (float v : row) {
              values.add(v);
            }
          }
        } else {
          float[][][] hidden = (float[][][]) value;
          int[] lengths = inputs.lengths();
          for (int b = 0; b < hidden.length; b++) {
            for (int t = 0; t < lengths[b]; t++) {
              for (float v : hidden[b][t]) {
                values.add(v);
              }
            }
          }
        }
        float[] flat = new float[values.size()];
        for (int i = 0; i < flat.length; i++) {
          flat[i] = values.get(i);
        }
        return new Ran(flat, session.getInputNames());
      } finally {
        feeds.values().forEach(OnnxTensor::close);
      }
    }
  }

  private static double maxAbsDiff(float[] actual, double[] expected) {
    assertEquals(expected.length, actual.length, "output size");
    double max = 0;
    for (int i = 0; i < actual.length; i++) {
      max = Math.max(max, Math.abs(actual[i] - expected[i]));
    }
    return max;
  }

  private static double maxAbsDiff(double[] a, double[] b) {
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
    return max;
  }

  /**
   * The model with every initializer also declared as a graph input, as exports that keep initializers
   * as inputs write them: overridable defaults, not inputs a caller must feed, in the source and in
   * every variant.
   */
  private static ModelProto initializersAsInputs(ModelProto model) {
    GraphProto.Builder g = model.getGraph().toBuilder();
    for (TensorProto t : model.getGraph().getInitializerList()) {
      TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
      t.getDimsList().forEach(d -> shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d)));
      g.addInput(ValueInfoProto.newBuilder().setName(t.getName()).setType(TypeProto.newBuilder()
          .setTensorType(TypeProto.Tensor.newBuilder().setElemType(t.getDataType()).setShape(shape))));
    }
    return model.toBuilder().setGraph(g).build();
  }
}
