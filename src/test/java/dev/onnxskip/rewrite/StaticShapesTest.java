package dev.onnxskip.rewrite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OrtException;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.UsageException;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.Node;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.graph.TensorTypes;
import dev.onnxskip.testing.SyntheticBert;
import dev.onnxskip.testing.SyntheticBert.Head;
import dev.onnxskip.testing.SyntheticBert.Inputs;
import dev.onnxskip.testing.SyntheticBert.LayerNorm;
import dev.onnxskip.testing.SyntheticBert.Naming;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class StaticShapesTest {

  private static final Path MINILM = Path.of("models/minilm-l6/model.onnx");

  @Test
  void miniLmBecomesFullyStaticAndComputesTheSame(@TempDir Path tmp) throws OrtException {
    OnnxModel source = ModelIO.load(MINILM);
    OnnxModel fixed = StaticShapes.apply(source, StaticShapes.Dims.parse("batch=3,sequence=10"));

    assertEquals(0, count(fixed, "Shape"), "every Shape node is folded");
    assertEquals(0, count(fixed, "Concat"), "every reshape target is a constant");
    for (ValueInfoProto in : fixed.copyGraph().inputs()) {
      assertEquals(List.of("3", "10"), TensorTypes.dims(in), in.getName());
    }
    assertEquals(List.of("3", "10", "384"), TensorTypes.dims(fixed.copyGraph().outputs().get(0)));
    assertEquals("batch=3,sequence=10", fixed.metadata().get(StaticShapes.METADATA_KEY));

    // The reference shape inference, which stops at opset-11 Unsqueeze in the source, now knows
    // the static shape of every tensor in the graph.
    ModelProto inferred = ReferenceOnnx.inferShapes(fixed.proto(), false);
    Map<String, ValueInfoProto> infos = new HashMap<>();
    inferred.getGraph().getValueInfoList().forEach(v -> infos.put(v.getName(), v));
    for (Node n : fixed.copyGraph().nodes()) {
      for (String out : n.outputs()) {
        if (!out.equals("last_hidden_state")) {
          ValueInfoProto v = infos.get(out);
          assertTrue(v != null && v.getType().getTensorType().hasShape(), "no inferred shape for " + out);
          assertTrue(TensorTypes.dims(v).stream().allMatch(d -> d.matches("\\d+")), out + ": " + TensorTypes.describe(v));
        }
      }
    }

    Map<String, long[][]> batch = OrtHarness.tokenBatch();
    float[] expected = OrtHarness.run(source, batch, Map.of()).get("last_hidden_state").data();
    float[] actual = OrtHarness.run(fixed, batch, Map.of()).get("last_hidden_state").data();
    // The same kernels on the same values: folding changes where a shape comes from, not a float.
    assertEquals(0.0, OrtHarness.maxAbsDiff(expected, actual));

    Path file = tmp.resolve("static.onnx");
    ModelIO.save(fixed.proto(), file);
    Validator.validate(file);
  }

  static Stream<Spec> syntheticForms() {
    Spec base = Spec.tiny(2);
    return Stream.of(
        base,
        base.withLayerNorm(LayerNorm.OP),
        base.withNaming(Naming.ANONYMOUS),
        base.withNaming(Naming.BERT).withLayerNorm(LayerNorm.OP).withHead(Head.CLS_CLASSIFIER, 3),
        base.withNaming(Naming.ROBERTA).withHead(Head.MEAN_POOL_CLASSIFIER, 2),
        base.withNaming(Naming.DISTILBERT).withLayerNorm(LayerNorm.OP),
        base.withNaming(Naming.SCRAMBLED).withConstantReshapes(true));
  }

  @ParameterizedTest
  @MethodSource("syntheticForms")
  void everySyntheticFormFoldsAndComputesTheSame(Spec spec) throws OrtException {
    OnnxModel source = OnnxModel.of(SyntheticBert.build(spec));
    OnnxModel fixed = StaticShapes.apply(source, StaticShapes.Dims.parse("batch=2,sequence=7"));
    assertEquals(0, count(fixed, "Shape"), spec.toString());
    Map<String, long[][]> inputs = feeds(SyntheticBert.randomInputs(spec, 2, 7, 3));
    float[] expected = OrtHarness.run(source, inputs, Map.of()).get(spec.outputName()).data();
    float[] actual = OrtHarness.run(fixed, inputs, Map.of()).get(spec.outputName()).data();
    assertEquals(0.0, OrtHarness.maxAbsDiff(expected, actual), spec.toString());
  }

  @Test
  void fusedGraphsOnlyGetStaticInputs() throws OrtException {
    // The fused ops take their shapes from their inputs: there is no shape arithmetic to fold, and
    // reference shape inference, which has no schema for them, is not needed to run them.
    Spec spec = Spec.tiny(2);
    OnnxModel source = OnnxModel.of(SyntheticBert.fused(spec));
    OnnxModel fixed = StaticShapes.apply(source, StaticShapes.Dims.parse("batch=2,sequence=7"));
    assertEquals(source.copyGraph().nodes(), fixed.copyGraph().nodes());
    assertEquals(List.of("2", "7"), TensorTypes.dims(fixed.copyGraph().inputs().get(0)));
    assertEquals(List.of("2", "7", "16"), TensorTypes.dims(fixed.copyGraph().outputs().get(0)));
    Map<String, long[][]> inputs = feeds(SyntheticBert.randomInputs(spec, 2, 7, 3));
    assertEquals(0.0, OrtHarness.maxAbsDiff(
        OrtHarness.run(source, inputs, Map.of()).get("last_hidden_state").data(),
        OrtHarness.run(fixed, inputs, Map.of()).get("last_hidden_state").data()));
  }

  @ParameterizedTest
  @ValueSource(ints = {11, 13})
  void multiAxisUnsqueezeBecomesAChainOfSingleAxisOnes(int opset) throws OrtException {
    OnnxModel source = OnnxModel.of(unsqueezeModel(opset, -1, 1));
    OnnxModel fixed = StaticShapes.apply(source, StaticShapes.Dims.parse("batch=2"));
    List<Node> unsqueezes = fixed.copyGraph().nodes().stream().filter(n -> n.opType().equals("Unsqueeze")).toList();
    assertEquals(2, unsqueezes.size());
    for (Node n : unsqueezes) {
      long[] axes = opset >= 13
          ? IntTensor.fromRaw(TensorProto.DataType.INT64, new long[] {1},
              fixed.copyGraph().initializers().get(n.inputs().get(1)).getRawData().toByteArray()).values()
          : n.proto().getAttribute(0).getIntsList().stream().mapToLong(Long::longValue).toArray();
      assertEquals(1, axes.length, n.label());
    }
    float[] x = {-2, -1, 0, 1, 2, 3, 4, 5};
    OrtHarness.Floats in = new OrtHarness.Floats(x, new long[] {2, 4});
    OrtHarness.Floats before = OrtHarness.run(source, Map.of(), Map.of("x", in)).get("y");
    OrtHarness.Floats after = OrtHarness.run(fixed, Map.of(), Map.of("x", in)).get("y");
    // Axes 1 and -1 of a rank-4 output: [2, 1, 4, 1].
    assertEquals(List.of(2L, 1L, 4L, 1L), Stream.of(after.shape()).flatMapToLong(java.util.Arrays::stream).boxed().toList());
    assertEquals(0.0, OrtHarness.maxAbsDiff(before.data(), after.data()));
  }

  @Test
  void dimsParseAndRefuseWhatTheyCannotFix() {
    assertEquals("batch=1,sequence=16", StaticShapes.Dims.parse("batch=1,sequence=16").toString());
    assertEquals("sequence=8", StaticShapes.Dims.parse(" sequence = 8 ").toString());
    String[][] bad = {
      {"batch=0", "at least 1"}, {"batch=x", "not a number"}, {"width=3", "unknown dimension 'width'"},
      {"batch=1,batch=2", "given twice"}, {"batch", "malformed"}, {"", "malformed"},
    };
    for (String[] c : bad) {
      UsageException e = assertThrows(UsageException.class, () -> StaticShapes.Dims.parse(c[0]), c[0]);
      assertTrue(e.getMessage().contains(c[1]), e.getMessage());
    }

    OnnxModel threeDims = OnnxModel.of(unsqueezeModel(13, 1, 2).toBuilder()
        .setGraph(unsqueezeModel(13, 1, 2).getGraph().toBuilder().setInput(0, input("x", "batch", "sequence", "features")))
        .build());
    OnnxSkipException e = assertThrows(OnnxSkipException.class,
        () -> StaticShapes.apply(threeDims, StaticShapes.Dims.parse("batch=1,sequence=4")));
    assertTrue(e.getMessage().contains("input 'x' has a dynamic dimension 2 ('features')"), e.getMessage());

    OnnxModel fixedBatch = StaticShapes.apply(OnnxModel.of(SyntheticBert.build(Spec.tiny(1))), StaticShapes.Dims.parse("batch=1"));
    e = assertThrows(OnnxSkipException.class, () -> StaticShapes.apply(fixedBatch, StaticShapes.Dims.parse("batch=2")));
    assertTrue(e.getMessage().contains("input 'input_ids' has dimension 0 fixed at 1, not 2"), e.getMessage());
  }

  @Test
  void aSequenceLongerThanThePositionEmbeddingsIsRefused() {
    // The tiny spec has 64 positions; position ids are a slice of them, which stops at 64.
    OnnxModel source = OnnxModel.of(SyntheticBert.build(Spec.tiny(1)));
    assertEquals(0, count(StaticShapes.apply(source, StaticShapes.Dims.parse("batch=1,sequence=64")), "Shape"));
    UsageException e = assertThrows(UsageException.class,
        () -> StaticShapes.apply(source, StaticShapes.Dims.parse("batch=1,sequence=65")));
    assertEquals("<in-memory model>: --static-shapes sequence=65 is more than the model's 64 positions; use sequence=64 or less",
        e.getMessage());
  }

  /** x: float [batch, 4] -> Unsqueeze(axes) -> y; axes as an attribute before opset 13, an initializer from 13. */
  private static ModelProto unsqueezeModel(int opset, long... axes) {
    GraphProto.Builder g = GraphProto.newBuilder().setName("unsqueeze");
    g.addInput(input("x", "batch", 4L));
    NodeProto.Builder u = NodeProto.newBuilder().setOpType("Unsqueeze").setName("/Unsqueeze").addInput("x").addOutput("y");
    if (opset < 13) {
      AttributeProto.Builder a = AttributeProto.newBuilder().setName("axes").setType(AttributeProto.AttributeType.INTS);
      for (long axis : axes) {
        a.addInts(axis);
      }
      u.addAttribute(a);
    } else {
      g.addInitializer(IntTensor.vector(axes).toProto("axes"));
      u.addInput("axes");
    }
    g.addNode(u);
    g.addOutput(ValueInfoProto.newBuilder().setName("y")
        .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE))));
    return ModelProto.newBuilder().setIrVersion(7).setGraph(g)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(opset)).build();
  }

  private static ValueInfoProto input(String name, Object... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (Object d : dims) {
      shape.addDim(d instanceof String s
          ? TensorShapeProto.Dimension.newBuilder().setDimParam(s)
          : TensorShapeProto.Dimension.newBuilder().setDimValue((Long) d));
    }
    return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
        TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape))).build();
  }

  static Map<String, long[][]> feeds(Inputs inputs) {
    Map<String, long[][]> m = new HashMap<>();
    m.put("input_ids", inputs.inputIds());
    m.put("attention_mask", inputs.attentionMask());
    if (inputs.tokenTypeIds() != null) {
      m.put("token_type_ids", inputs.tokenTypeIds());
    }
    return m;
  }

  private static long count(OnnxModel model, String opType) {
    return model.copyGraph().nodes().stream().filter(n -> n.opType().equals(opType)).count();
  }
}
