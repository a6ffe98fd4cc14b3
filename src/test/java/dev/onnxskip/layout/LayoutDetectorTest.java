package dev.onnxskip.layout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.graph.ElementType;
import dev.onnxskip.graph.Graph;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.Node;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.testing.ModelEdits;
import dev.onnxskip.testing.SyntheticBert;
import dev.onnxskip.testing.SyntheticBert.Built;
import dev.onnxskip.testing.SyntheticBert.Head;
import dev.onnxskip.testing.SyntheticBert.LayerNorm;
import dev.onnxskip.testing.SyntheticBert.Naming;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Encoder-block detection on every export style: the synthetic models' true boundaries (torch
 * form under every naming, both LayerNorm forms, every head; the ONNX Runtime-fused form; static
 * QDQ quantization on the boundaries), the real MiniLM and its int8 twin, names that lie or say
 * nothing, and the messages when there is no encoder to find.
 */
class LayoutDetectorTest {

  /** How a test model was made from its spec. */
  enum Form { TORCH, FUSED, QDQ }

  record Case(Built built, Form form) {}

  static Stream<Arguments> everyStyle() {
    List<Arguments> cases = new ArrayList<>();
    for (Form form : Form.values()) {
      for (Naming naming : Naming.values()) {
        for (LayerNorm layerNorm : LayerNorm.values()) {
          for (Head head : Head.values()) {
            cases.add(style(Spec.tiny(2).withNaming(naming).withLayerNorm(layerNorm).withHead(head, 3), form));
          }
        }
        Spec base = Spec.tiny(3).withNaming(naming);
        cases.add(style(base.withLayers(1), form));
        cases.add(style(base.withLayers(1).withLayerNorm(LayerNorm.OP).withHead(Head.CLS_CLASSIFIER, 2), form));
        cases.add(style(base.withLayers(12).withHead(Head.MEAN_POOL_CLASSIFIER, 2), form));
        cases.add(style(base.withTokenTypeIds(false), form));
        cases.add(style(base.withConstantReshapes(true).withLayerNorm(LayerNorm.OP), form));
        cases.add(style(base.withHidden(24).withHeads(3).withIntermediate(40).withSeed(5), form));
      }
    }
    return cases.stream();
  }

  private static Arguments style(Spec spec, Form form) {
    Built built = switch (form) {
      case TORCH -> SyntheticBert.buildWithTruth(spec);
      case FUSED -> SyntheticBert.fusedWithTruth(spec);
      case QDQ -> ModelEdits.qdqOnBoundaries(SyntheticBert.buildWithTruth(spec));
    };
    String label = form + " " + spec.naming() + " " + spec.layerNorm() + " " + spec.head() + " L" + spec.layers()
        + (spec.tokenTypeIds() ? "" : " no-types") + (spec.constantReshapes() ? " const-reshapes" : "")
        + " h" + spec.hidden();
    return Arguments.of(Named.of(label, new Case(built, form)));
  }

  @ParameterizedTest
  @MethodSource("everyStyle")
  void structureFindsTheTrueBoundaries(Case c) {
    Spec spec = c.built().spec();
    EncoderLayout layout = LayoutDetector.detect(OnnxModel.of(c.built().model()));

    assertEquals(c.built().boundaries(), layout.boundaries());
    assertEquals(spec.layers(), layout.layers());
    assertEquals("structure", layout.strategy());
    assertEquals(spec.hidden(), layout.hiddenSize());
    assertEquals(ElementType.FLOAT, layout.streamElemType());
    for (Block b : layout.blocks()) {
      assertEquals(c.built().boundaries().get(b.index()), b.input());
      assertEquals(c.built().boundaries().get(b.index() + 1), b.output());
      // A QDQ pair after a block's output belongs to it: its scale and zero point.
      boolean ownsQdqPair = c.form() == Form.QDQ && (b.index() < spec.layers() - 1 || spec.head() != Head.NONE);
      assertEquals(layerParameters(spec) + (ownsQdqPair ? 2 : 0), b.parameterCount(), "parameters of block " + b.index());
    }
    assertSharedMask(c, layout);
    String pattern = switch (spec.naming()) {
      case ENCODER -> "/encoder/layer.N";
      case BERT -> "/bert/encoder/layer.N";
      case ROBERTA -> "/roberta/encoder/layer.N";
      case DISTILBERT -> "/distilbert/transformer/layer.N";
      case ANONYMOUS, SCRAMBLED -> null;
    };
    if (pattern != null && c.form() != Form.FUSED) {
      assertTrue(layout.evidence().endsWith("; agrees with " + pattern + " name scopes"), layout.evidence());
    } else {
      assertFalse(layout.evidence().contains("agrees with"), layout.evidence());
    }
  }

  /** One BERT layer's parameters, counted independently of the graph: Q, K, V, output, FFN, 2 LayerNorms. */
  private static long layerParameters(Spec spec) {
    long h = spec.hidden();
    long f = spec.intermediate();
    return 4 * (h * h + h) + (h * f + f) + (f * h + h) + 4 * h;
  }

  /**
   * The mask every block reads: the extended mask that BERT and RoBERTa compute once at the
   * base-model scope, under whatever name; attention_mask itself in DistilBERT, which builds its
   * mask inside each layer, and in a one-layer model, whose only block owns the mask computation;
   * the fused form's mask index.
   */
  private static void assertSharedMask(Case c, EncoderLayout layout) {
    Spec spec = c.built().spec();
    List<String> shared = layout.sharedSideInputs();
    if (c.form() == Form.FUSED) {
      assertEquals(1, shared.size(), shared.toString());
      NodeProto producer = c.built().model().getGraph().getNodeList().stream()
          .filter(n -> n.getOutputList().contains(shared.get(0))).findFirst().orElseThrow();
      assertEquals("EmbedLayerNormalization", producer.getOpType());
      assertEquals(1, producer.getOutputList().indexOf(shared.get(0)), "the mask index is output 1");
    } else if (spec.naming() == Naming.DISTILBERT || spec.layers() == 1) {
      assertEquals(List.of("attention_mask"), shared);
    } else {
      switch (spec.naming()) {
        case ENCODER -> assertEquals(List.of("/Mul_output_0"), shared);
        case BERT -> assertEquals(List.of("/bert/Mul_output_0"), shared);
        case ROBERTA -> assertEquals(List.of("/roberta/Mul_output_0"), shared);
        default -> {
          assertEquals(1, shared.size(), shared.toString());
          assertNotEquals("attention_mask", shared.get(0));
        }
      }
      assertEquals(Set.of("attention_mask"), ModelEdits.graphInputsFeeding(c.built().model(), shared.get(0)));
    }
  }

  @ParameterizedTest
  @EnumSource(value = Naming.class, names = {"ANONYMOUS", "SCRAMBLED"})
  void namelessTwinsHaveTheNamedTwinsBlocks(Naming naming) {
    for (Spec spec : List.of(Spec.tiny(4), Spec.tiny(3).withLayerNorm(LayerNorm.OP).withHead(Head.CLS_CLASSIFIER, 2))) {
      EncoderLayout named = LayoutDetector.detect(OnnxModel.of(SyntheticBert.build(spec)));
      EncoderLayout nameless = LayoutDetector.detect(OnnxModel.of(SyntheticBert.build(spec.withNaming(naming))));
      assertEquals(named.layers(), nameless.layers());
      for (int k = 0; k < named.layers(); k++) {
        Block a = named.blocks().get(k);
        Block b = nameless.blocks().get(k);
        assertEquals(a.nodes().stream().map(Node::opType).toList(), b.nodes().stream().map(Node::opType).toList(),
            "the same operators, in the same order, in block " + k);
        assertEquals(a.nodes().stream().map(n -> n.inputs().size()).toList(), b.nodes().stream().map(n -> n.inputs().size()).toList());
        assertEquals(a.parameterCount(), b.parameterCount());
        assertEquals(a.sideInputs().size(), b.sideInputs().size());
      }
    }
  }

  @Test
  void namesThatLieAreOutvotedByStructure() {
    Built truth = SyntheticBert.buildWithTruth(Spec.tiny(4));
    // Layers 0 and 1 both named layer.0, 2 and 3 both layer.1: the names tell of two layers.
    Built merged = ModelEdits.layerScopesRenumbered(truth, k -> k / 2);
    EncoderLayout layout = LayoutDetector.detect(OnnxModel.of(merged.model()));
    assertEquals(truth.boundaries(), layout.boundaries());
    assertEquals("structure", layout.strategy());
    assertEquals("4 attention blocks on the residual stream, 2 LayerNorms each; "
        + "/encoder/layer.N name scopes disagree (2 layers) and were ignored", layout.evidence());

    // Names shifted by one never start at layer 0 and are not taken for a layout at all.
    EncoderLayout shifted = LayoutDetector.detect(OnnxModel.of(ModelEdits.layerScopesRenumbered(truth, k -> k + 1).model()));
    assertEquals(truth.boundaries(), shifted.boundaries());
    assertEquals("4 attention blocks on the residual stream, 2 LayerNorms each", shifted.evidence());
  }

  @Test
  void fusedGraphsWithFastGeluAreFoundAlike() {
    for (Naming naming : List.of(Naming.BERT, Naming.SCRAMBLED)) {
      Built fused = SyntheticBert.fusedWithTruth(Spec.tiny(3).withNaming(naming).withHead(Head.CLS_CLASSIFIER, 2));
      ModelProto fastGelu = ModelEdits.opTypeReplaced(fused.model(), "BiasGelu", "FastGelu");
      assertTrue(fastGelu.getGraph().getNodeList().stream().anyMatch(n -> n.getOpType().equals("FastGelu")));
      EncoderLayout layout = LayoutDetector.detect(OnnxModel.of(fastGelu));
      assertEquals(fused.boundaries(), layout.boundaries());
      assertEquals("3 attention blocks on the residual stream, 2 LayerNorms each", layout.evidence());
    }
  }

  @Test
  void quantizedFusedOpsAreFoundAlike() {
    Built fused = SyntheticBert.fusedWithTruth(Spec.tiny(3).withNaming(Naming.ANONYMOUS));
    ModelProto quantized = ModelEdits.opTypeReplaced(ModelEdits.opTypeReplaced(fused.model(),
        "Attention", "QAttention"), "EmbedLayerNormalization", "QEmbedLayerNormalization");
    EncoderLayout layout = LayoutDetector.detect(OnnxModel.of(quantized));
    assertEquals(fused.boundaries(), layout.boundaries());
    assertEquals("3 attention blocks on the residual stream, 2 LayerNorms each", layout.evidence());
  }

  // ---- names as the only hint -------------------------------------------------------------------

  @ParameterizedTest
  @EnumSource(value = Naming.class, names = {"ENCODER", "BERT", "ROBERTA", "DISTILBERT"})
  void withoutRecognisableAttentionNamedExportsFallBackToTheirScopes(Naming naming) {
    for (LayerNorm layerNorm : LayerNorm.values()) {
      Built built = ModelEdits.softmaxWrittenOut(
          SyntheticBert.buildWithTruth(Spec.tiny(3).withNaming(naming).withLayerNorm(layerNorm)), i -> true);
      assertTrue(built.model().getGraph().getNodeList().stream().noneMatch(n -> n.getOpType().equals("Softmax")));
      EncoderLayout layout = LayoutDetector.detect(OnnxModel.of(built.model()));
      assertEquals("name-scopes", layout.strategy());
      assertEquals(built.boundaries(), layout.boundaries());
      String pattern = naming == Naming.DISTILBERT ? "/distilbert/transformer/layer.N"
          : naming == Naming.ENCODER ? "/encoder/layer.N" : "/" + naming.name().toLowerCase() + "/encoder/layer.N";
      assertTrue(layout.evidence().startsWith("structure alone is inconclusive (found no attention"), layout.evidence());
      assertTrue(layout.evidence().endsWith(pattern + " name scopes give 3 layers whose boundaries lie on the residual stream, "
          + "2 LayerNorms each"), layout.evidence());
    }
  }

  @Test
  void withoutAttentionNorNamesTheErrorSaysWhatWasFound() {
    Built built = ModelEdits.softmaxWrittenOut(SyntheticBert.buildWithTruth(Spec.tiny(3).withNaming(Naming.ANONYMOUS)), i -> true);
    OnnxSkipException e = assertThrows(OnnxSkipException.class, () -> LayoutDetector.detect(OnnxModel.of(built.model())));
    // The embeddings' LayerNorm and two per layer.
    assertTrue(e.getMessage().matches("<in-memory model>: cannot find the encoder blocks: found no attention "
        + "\\(Softmax or com\\.microsoft Attention\\) on the residual stream \\(\\d+ tensors from the embeddings '\\d+' "
        + "to the outputs, 7 LayerNorms\\); name the boundaries of the residual stream with --boundaries T0,T1,\\.\\.\\."),
        e.getMessage());
    assertFalse(e.getMessage().contains("\n"));
  }

  @Test
  void misleadingNamesNeverDecide() {
    // Each seed scatters other plausible but wrong /encoder/layer.K/ names over the graph.
    for (long seed = 1; seed <= 12; seed++) {
      Spec spec = Spec.tiny(2 + (int) (seed % 4)).withNaming(Naming.SCRAMBLED).withSeed(seed);
      Built built = SyntheticBert.buildWithTruth(spec);
      assertEquals(built.boundaries(), LayoutDetector.detect(OnnxModel.of(built.model())).boundaries(), "seed " + seed);
      Built attentionHidden = ModelEdits.softmaxWrittenOut(built, i -> true);
      String error = detectionError(attentionHidden);
      assertTrue(error.contains("cannot find the encoder blocks: found no attention"), "seed " + seed + ": " + error);
    }
  }

  // ---- ambiguous structure ----------------------------------------------------------------------

  @Test
  void unevenAttentionIsNamedInTheError() {
    Built built = ModelEdits.softmaxDoubled(SyntheticBert.buildWithTruth(Spec.tiny(5)), 1);
    OnnxSkipException e = assertThrows(OnnxSkipException.class, () -> LayoutDetector.detect(OnnxModel.of(built.model())));
    assertEquals("<in-memory model>: cannot find the encoder blocks: found 5 candidate boundaries, 6 attention blocks, "
        + "unevenly spread (1, 2, 1, 1, 1 per boundary); /encoder/layer.N name scopes give 5 layers, but structure does "
        + "not back them (1, 2, 1, 1, 1 attention blocks, 2, 2, 2, 2, 2 LayerNorms on the residual stream); "
        + "name the boundaries of the residual stream with --boundaries T0,T1,...", e.getMessage());
  }

  @Test
  void aBlockWithoutRecognisableAttentionIsNotMergedIntoItsNeighbour() {
    Spec spec = Spec.tiny(4).withNaming(Naming.ANONYMOUS);
    String prefix = "<in-memory model>: cannot find the encoder blocks: found 3 candidate boundaries, 3 attention blocks, but ";
    String suffix = "; name the boundaries of the residual stream with --boundaries T0,T1,...";
    assertEquals(prefix + "the blocks between them are unlike (4, 2 LayerNorms on the residual stream)" + suffix,
        detectionError(ModelEdits.softmaxWrittenOut(SyntheticBert.buildWithTruth(spec), i -> i == 1)));
    assertEquals(prefix + "3 LayerNorms precede the first block on the residual stream, as many as a block holds (2): "
        + "a block whose attention is not recognised?" + suffix,
        detectionError(ModelEdits.softmaxWrittenOut(SyntheticBert.buildWithTruth(spec), i -> i == 0)));
    assertEquals(prefix + "2 LayerNorms follow the last block on the residual stream, as many as a block holds (2): "
        + "a block whose attention is not recognised?" + suffix,
        detectionError(ModelEdits.softmaxWrittenOut(SyntheticBert.buildWithTruth(spec), i -> i == 3)));
  }

  @Test
  void whereNoLayerNormShowsAMissingAttentionIsCaughtByTheRepeatingOps() {
    // A norm op the detector does not know: no LayerNorm is seen on the stream.
    Spec spec = Spec.tiny(4).withNaming(Naming.ANONYMOUS).withLayerNorm(LayerNorm.OP);
    Built unknownNorm = new Built(ModelEdits.opTypeReplaced(SyntheticBert.build(spec), "LayerNormalization",
        "RMSNormalization"), SyntheticBert.buildWithTruth(spec).boundaries(), spec);
    EncoderLayout layout = LayoutDetector.detect(OnnxModel.of(unknownNorm.model()));
    assertEquals(unknownNorm.boundaries(), layout.boundaries());
    assertEquals("4 attention blocks on the residual stream", layout.evidence(), "no LayerNorm count where none is recognised");

    String prefix = "<in-memory model>: cannot find the encoder blocks: found 3 candidate boundaries, 3 attention blocks, but ";
    String suffix = ": a block whose attention is not recognised?; name the boundaries of the residual stream with --boundaries T0,T1,...";
    assertEquals(prefix + "the residual stream before the first block repeats the ops of a block" + suffix,
        detectionError(ModelEdits.softmaxWrittenOut(unknownNorm, i -> i == 0)));
    assertEquals(prefix + "the residual stream after the last block repeats the ops of a block" + suffix,
        detectionError(ModelEdits.softmaxWrittenOut(unknownNorm, i -> i == 3)));
    String merged = detectionError(ModelEdits.softmaxWrittenOut(unknownNorm, i -> i == 1));
    Matcher m = Pattern.compile(Pattern.quote(prefix)
        + "the blocks between them are unlike \\((\\d+), (\\d+) tensors on the residual stream, some repeating the ops "
        + "of another\\); name the boundaries .*").matcher(merged);
    assertTrue(m.matches(), merged);
    assertEquals(2 * Integer.parseInt(m.group(2)), Integer.parseInt(m.group(1)), "layers 0 and 1 taken for one block");
  }

  @Test
  void everyOtherAttentionMissingIsNotTakenForHalfAsManyBlocks() {
    Built built = ModelEdits.softmaxWrittenOut(SyntheticBert.buildWithTruth(Spec.tiny(6)), i -> i % 2 == 1);
    assertEquals("<in-memory model>: cannot find the encoder blocks: found 3 candidate boundaries, 3 attention blocks, "
        + "but block 0 is the same ops 2 times over: blocks whose attention is not recognised?; /encoder/layer.N name "
        + "scopes give 6 layers, but structure does not back them (1, 0, 1, 0, 1, 0 attention blocks, 2, 2, 2, 2, 2, 2 "
        + "LayerNorms on the residual stream); name the boundaries of the residual stream with --boundaries T0,T1,...",
        detectionError(built));
  }

  @Test
  void namesThatMergeLayersAreNoFallback() {
    // No recognisable attention, and scopes that call layers 0 and 1 "layer.0", 2 and 3 "layer.1".
    Built built = ModelEdits.layerScopesRenumbered(
        ModelEdits.softmaxWrittenOut(SyntheticBert.buildWithTruth(Spec.tiny(4)), i -> true), k -> k / 2);
    String error = detectionError(built);
    assertTrue(error.contains("; /encoder/layer.N name scopes give 2 layers, but structure does not back them (layer 0 "
        + "is the same ops 2 times over); name the boundaries"), error);
  }

  @Test
  void namesDoNotPaperOverAMissingAttention() {
    Built built = ModelEdits.softmaxWrittenOut(SyntheticBert.buildWithTruth(Spec.tiny(4).withNaming(Naming.BERT)), i -> i == 1);
    assertTrue(detectionError(built).contains("; /bert/encoder/layer.N name scopes give 4 layers, but structure does not "
        + "back them (1, 0, 1, 1 attention blocks, 2, 2, 2, 2 LayerNorms on the residual stream); "), detectionError(built));
  }

  private static String detectionError(Built built) {
    return assertThrows(OnnxSkipException.class, () -> LayoutDetector.detect(OnnxModel.of(built.model()))).getMessage();
  }

  // ---- graphs that are no encoder, or no graph ----------------------------------------------------

  @Test
  void anMlpHasNoAttention() {
    ModelProto mlp = mlp(true);
    OnnxSkipException e = assertThrows(OnnxSkipException.class, () -> LayoutDetector.detect(OnnxModel.of(mlp)));
    assertEquals("<in-memory model>: cannot find the encoder blocks: found no attention (Softmax or com.microsoft "
        + "Attention) on the residual stream (4 tensors from the embeddings 'embedded' to the outputs, 0 LayerNorms); "
        + "name the boundaries of the residual stream with --boundaries T0,T1,...", e.getMessage());

    OnnxSkipException noLookup = assertThrows(OnnxSkipException.class, () -> LayoutDetector.detect(OnnxModel.of(mlp(false))));
    assertEquals("<in-memory model>: no token-embedding lookup found (a Gather from a 2-D weight table indexed by a "
        + "graph input): not a transformer encoder", noLookup.getMessage());
  }

  /** ids -> Gather(table) -> MatMul -> Relu -> MatMul -> out; without the lookup, a float input feeds the MatMul. */
  private static ModelProto mlp(boolean withLookup) {
    GraphProto.Builder g = GraphProto.newBuilder().setName("mlp");
    g.addInitializer(floats("table", 10, 4));
    g.addInitializer(floats("w1", 4, 4));
    g.addInitializer(floats("w2", 4, 2));
    if (withLookup) {
      g.addInput(input("ids", TensorProto.DataType.INT64, 2));
      g.addNode(node("lookup", "Gather", List.of("table", "ids"), "embedded"));
    } else {
      g.addInput(input("embedded", TensorProto.DataType.FLOAT, 3));
    }
    g.addNode(node("fc1", "MatMul", List.of("embedded", "w1"), "h1"));
    g.addNode(node("act", "Relu", List.of("h1"), "a1"));
    g.addNode(node("fc2", "MatMul", List.of("a1", "w2"), "out"));
    g.addOutput(ValueInfoProto.newBuilder().setName("out"));
    return ModelProto.newBuilder().setIrVersion(8).setGraph(g)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(17)).build();
  }

  private static TensorProto floats(String name, long rows, long cols) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
        .addDims(rows).addDims(cols);
    for (int i = 0; i < rows * cols; i++) {
      t.addFloatData(i * 0.01f);
    }
    return t.build();
  }

  private static ValueInfoProto input(String name, TensorProto.DataType type, int rank) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (int d = 0; d < rank; d++) {
      shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("d" + d));
    }
    return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
        .setTensorType(TypeProto.Tensor.newBuilder().setElemType(type.getNumber()).setShape(shape))).build();
  }

  private static NodeProto node(String name, String op, List<String> inputs, String output) {
    return NodeProto.newBuilder().setName(name).setOpType(op).addAllInput(inputs).addOutput(output).build();
  }

  @Test
  void aCycleIsReportedByTheNodesOnIt() {
    ModelProto model = SyntheticBert.build(Spec.tiny(2));
    // The LayerNorm's scale reads the LayerNorm's own result: Mul -> Add -> Mul.
    ModelProto cyclic = ModelEdits.inputRewired(model, "/encoder/layer.0/output/LayerNorm/Mul", 1,
        "/encoder/layer.0/output/LayerNorm/Add_1_output_0");
    OnnxSkipException e = assertThrows(OnnxSkipException.class, () -> LayoutDetector.detect(OnnxModel.of(cyclic)));
    assertEquals("<in-memory model>: graph has a cycle: '/encoder/layer.0/output/LayerNorm/Mul' -> "
        + "'/encoder/layer.0/output/LayerNorm/Add_1' -> '/encoder/layer.0/output/LayerNorm/Mul'", e.getMessage());

    ModelProto selfLoop = ModelEdits.inputRewired(model, "/encoder/layer.1/output/LayerNorm/Sqrt", 0,
        "/encoder/layer.1/output/LayerNorm/Sqrt_output_0");
    OnnxSkipException self = assertThrows(OnnxSkipException.class, () -> LayoutDetector.detect(OnnxModel.of(selfLoop)));
    assertEquals("<in-memory model>: graph has a cycle: node '/encoder/layer.1/output/LayerNorm/Sqrt' reads its own "
        + "output '/encoder/layer.1/output/LayerNorm/Sqrt_output_0'", self.getMessage());
  }

  @Test
  void aDanglingInputIsNamedWithItsReaderAndTheFile(@TempDir Path tmp) throws Exception {
    ModelProto dangling = ModelEdits.inputRewired(SyntheticBert.build(Spec.tiny(2)),
        "/encoder/layer.1/attention/self/query/MatMul", 0, "no_such_tensor");
    Path file = tmp.resolve("dangling.onnx");
    Files.write(file, dangling.toByteArray());
    OnnxSkipException e = assertThrows(OnnxSkipException.class, () -> LayoutDetector.detect(ModelIO.load(file)));
    assertEquals(file + ": node '/encoder/layer.1/attention/self/query/MatMul' reads tensor 'no_such_tensor', "
        + "which no node, initializer or graph input defines", e.getMessage());
  }

  // ---- boundaries named by hand -----------------------------------------------------------------

  @Test
  void manualBoundariesAreCheckedAndGiveTheSameBlocks() {
    Built built = SyntheticBert.buildWithTruth(Spec.tiny(3).withNaming(Naming.ANONYMOUS).withHead(Head.CLS_CLASSIFIER, 2));
    OnnxModel model = OnnxModel.of(built.model());
    EncoderLayout found = LayoutDetector.detect(model);
    EncoderLayout manual = LayoutDetector.detect(model, built.boundaries());
    assertEquals("manual", manual.strategy());
    assertEquals(found.blocks(), manual.blocks());

    List<String> b = built.boundaries();
    EncoderLayout coarse = LayoutDetector.detect(model, List.of(b.get(0), b.get(2), b.get(3)));
    assertEquals(2, coarse.layers());
    assertEquals(found.blocks().get(0).nodeCount() + found.blocks().get(1).nodeCount(), coarse.blocks().get(0).nodeCount());

    String softmax = built.model().getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("Softmax"))
        .findFirst().orElseThrow().getOutput(0);
    assertEquals("<in-memory model>: --boundaries needs at least two tensors (layer 0's input and the last layer's "
        + "output), got 1", manualError(model, List.of(b.get(0))));
    assertEquals("<in-memory model>: --boundaries: tensor 'nope' does not exist in the graph",
        manualError(model, List.of(b.get(0), "nope")));
    assertEquals("<in-memory model>: --boundaries: tensor '" + softmax + "' is not on the residual stream (some path "
        + "from the embeddings to the outputs bypasses it)", manualError(model, List.of(b.get(0), softmax)));
    assertEquals("<in-memory model>: --boundaries: tensor '" + b.get(1) + "' comes before the boundary named ahead of "
        + "it; list them in data-flow order", manualError(model, List.of(b.get(2), b.get(1))));
  }

  private static String manualError(OnnxModel model, List<String> boundaries) {
    return assertThrows(OnnxSkipException.class, () -> LayoutDetector.detect(model, boundaries)).getMessage();
  }

  // ---- the real MiniLM and its int8 twin ------------------------------------------------------------

  @Test
  void quantizedMiniLmHasTheFloatTwinsLayoutAndItsQuantizersSitInTheBlocksThatReadThem() throws Exception {
    EncoderLayout floats = LayoutDetector.detect(ModelIO.load(Path.of("models/minilm-l6/model.onnx")));
    OnnxModel model = ModelIO.load(Path.of("models/minilm-l6-q/model.onnx"));
    EncoderLayout ints = LayoutDetector.detect(model);
    assertEquals(6, floats.layers());
    assertEquals(floats.layers(), ints.layers());
    assertEquals(floats.boundaries(), ints.boundaries());
    assertEquals("structure", ints.strategy());
    assertEquals(List.of("/Mul_output_0"), ints.sharedSideInputs());
    Graph graph = model.copyGraph();
    for (Block b : ints.blocks()) {
      // The quantizer of block k's input is named after the tensor it reads, outside layer k's scope
      // (the embeddings' or layer k-1's), but only block k reads it, so skipping k must remove it.
      String quantizer = b.input() + "_QuantizeLinear";
      int at = indexOf(graph, quantizer);
      assertEquals("DynamicQuantizeLinear", graph.nodes().get(at).opType());
      assertTrue(b.nodes().contains(graph.nodes().get(at)), quantizer + " belongs to block " + b.index());
      assertFalse(quantizer.startsWith("/encoder/layer." + b.index() + "/"));
      long matMulIntegers = b.nodes().stream().filter(n -> n.opType().equals("MatMulInteger")).count();
      assertEquals(6, matMulIntegers, "Q, K, V, attention output, intermediate and output MatMuls of block " + b.index());
    }
  }

  private static int indexOf(Graph graph, String nodeName) {
    List<Node> nodes = graph.nodes();
    for (int i = 0; i < nodes.size(); i++) {
      if (nodes.get(i).name().equals(nodeName)) {
        return i;
      }
    }
    throw new AssertionError("no node " + nodeName);
  }

  /**
   * The position limit is exactly what ONNX Runtime accepts: a text of that many tokens runs, one
   * token more fails. RoBERTa's positions start after its padding id, so two rows fewer serve.
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(Naming.class)
  void thePositionLimitIsTheLongestTextTheModelRuns(Naming naming) throws Exception {
    Spec spec = Spec.tiny(2).withMaxPositions(40).withNaming(naming).withTokenTypeIds(naming != Naming.DISTILBERT);
    OnnxModel model = OnnxModel.of(SyntheticBert.build(spec));
    long expected = naming == Naming.ROBERTA ? 38 : 40;
    assertEquals(OptionalLong.of(expected), LayoutDetector.detect(model).maxPositions());
    assertEquals(OptionalLong.of(expected), LayoutDetector.maxPositions(model));
    assertTrue(runsOnTokens(model, (int) expected));
    assertFalse(runsOnTokens(model, (int) expected + 1));
  }

  @Test
  void thePositionLimitOfFusedAndRealModels() {
    assertEquals(OptionalLong.of(40), LayoutDetector.detect(OnnxModel.of(SyntheticBert.fused(Spec.tiny(2).withMaxPositions(40)))).maxPositions());
    for (String file : List.of("models/minilm-l6/model.onnx", "models/minilm-l6-q/model.onnx")) {
      assertEquals(OptionalLong.of(512), LayoutDetector.detect(ModelIO.load(Path.of(file))).maxPositions(), file);
    }
  }

  /** Whether ONNX Runtime runs the model on one text of {@code tokens} tokens. */
  private static boolean runsOnTokens(OnnxModel model, int tokens) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    long[][] ids = new long[1][tokens];
    long[][] ones = new long[1][tokens];
    Arrays.fill(ids[0], 5);
    Arrays.fill(ones[0], 1);
    try (OrtSession session = env.createSession(model.proto().toByteArray())) {
      Map<String, OnnxTensor> feeds = new HashMap<>();
      try {
        for (String input : session.getInputNames()) {
          feeds.put(input, OnnxTensor.createTensor(env, input.equals("input_ids") ? ids
              : input.equals("attention_mask") ? ones : new long[1][tokens]));
        }
        session.run(feeds).close();
        return true;
      } catch (OrtException e) {
        return false;
      } finally {
        feeds.values().forEach(OnnxTensor::close);
      }
    }
  }
}
