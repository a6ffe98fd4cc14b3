package dev.onnxskip.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.onnxskip.testing.SyntheticBert.Built;
import dev.onnxskip.testing.SyntheticBert.Head;
import dev.onnxskip.testing.SyntheticBert.Inputs;
import dev.onnxskip.testing.SyntheticBert.LayerNorm;
import dev.onnxskip.testing.SyntheticBert.Naming;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class SyntheticBertTest {

  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  private static final int BATCH = 3;
  private static final int SEQ = 7;
  private static final double TOLERANCE = 1e-4;

  static Stream<Spec> everyNamingLayerNormAndHead() {
    List<Spec> specs = new ArrayList<>();
    for (Naming naming : Naming.values()) {
      for (LayerNorm layerNorm : LayerNorm.values()) {
        for (Head head : Head.values()) {
          specs.add(Spec.tiny(2).withNaming(naming).withLayerNorm(layerNorm).withHead(head, 3));
        }
      }
    }
    return specs.stream();
  }

  static Stream<Spec> withoutTokenTypesAndWithConstantReshapes() {
    List<Spec> specs = new ArrayList<>();
    for (Naming naming : Naming.values()) {
      for (LayerNorm layerNorm : LayerNorm.values()) {
        Spec base = Spec.tiny(3).withNaming(naming).withLayerNorm(layerNorm).withHead(Head.CLS_CLASSIFIER, 4);
        specs.add(base.withTokenTypeIds(false));
        specs.add(base.withConstantReshapes(true));
      }
    }
    return specs.stream();
  }

  @ParameterizedTest
  @MethodSource({"everyNamingLayerNormAndHead", "withoutTokenTypesAndWithConstantReshapes"})
  void buildsAValidModelThatRunsInOnnxRuntime(Spec spec) throws OrtException {
    ModelProto model = SyntheticBert.build(spec);

    assertWellFormed(model, spec.opset());
    List<String> inputs = model.getGraph().getInputList().stream().map(ValueInfoProto::getName).toList();
    assertEquals(spec.tokenTypeIds() ? List.of("input_ids", "attention_mask", "token_type_ids")
        : List.of("input_ids", "attention_mask"), inputs);
    Map<String, float[]> outputs = run(model, SyntheticBert.randomInputs(spec, BATCH, SEQ, 5), List.of());
    float[] values = outputs.get(spec.outputName());
    int width = spec.head() == Head.NONE ? SEQ * spec.hidden() : spec.numLabels();
    assertEquals(BATCH * width, values.length);
    for (float v : values) {
      assertTrue(Float.isFinite(v), "non-finite output in " + spec);
    }
    assertFalse(Arrays.equals(Arrays.copyOfRange(values, 0, width), Arrays.copyOfRange(values, width, 2 * width)),
        "rows of different inputs should differ");
  }

  /** The residual stream and head of ORT's run agree with a plain Java BERT reading the same initializers. */
  static Stream<Spec> referenceCases() {
    return Stream.of(
        Spec.tiny(2),
        Spec.tiny(2).withNaming(Naming.BERT).withLayerNorm(LayerNorm.OP).withTokenTypeIds(false)
            .withHead(Head.CLS_CLASSIFIER, 3),
        Spec.tiny(2).withNaming(Naming.ROBERTA).withHead(Head.CLS_CLASSIFIER, 2).withConstantReshapes(true),
        Spec.tiny(2).withNaming(Naming.DISTILBERT).withHead(Head.MEAN_POOL_CLASSIFIER, 3),
        Spec.tiny(1).withNaming(Naming.DISTILBERT).withHead(Head.CLS_CLASSIFIER, 2).withHidden(24).withHeads(3));
  }

  @ParameterizedTest
  @MethodSource("referenceCases")
  void computesTheSameAsAPlainJavaBert(Spec spec) throws OrtException {
    Built built = SyntheticBert.buildWithTruth(spec);
    Inputs inputs = SyntheticBert.randomInputs(spec, BATCH, SEQ, 11);
    Map<String, float[]> ort = run(built.model(), inputs, built.boundaries());
    ReferenceBert reference = new ReferenceBert(built.model(), spec);

    List<double[][][]> expected = reference.boundaries(inputs);
    for (int k = 0; k < expected.size(); k++) {
      assertClose(flatten(expected.get(k)), ort.get(built.boundaries().get(k)), "boundary " + k + " of " + spec);
    }
    if (spec.head() != Head.NONE) {
      double[][] logits = reference.logits(expected.get(spec.layers()), inputs);
      assertClose(Arrays.stream(logits).flatMapToDouble(Arrays::stream).toArray(), ort.get("logits"),
          "logits of " + spec);
    }
  }

  @Test
  void referenceErfIsAccurate() {
    // erf(0.5), erf(1), erf(2) to 10 digits
    assertEquals(0.5204998778, ReferenceBert.erf(0.5), 2e-7);
    assertEquals(0.8427007929, ReferenceBert.erf(1), 2e-7);
    assertEquals(-0.9953222650, ReferenceBert.erf(-2), 2e-7);
  }

  /** All-MiniLM-L6-v2 as exported by torch: the synthetic ENCODER form must be the same graph, node for node. */
  @Test
  void encoderFormIsNodeForNodeTheRealMiniLmExport() throws Exception {
    Path real = Path.of("models/minilm-l6/model.onnx");
    assumeTrue(Files.exists(real), "models/minilm-l6 not fetched");
    ModelProto minilm = ModelProto.parseFrom(Files.readAllBytes(real));
    ModelProto synthetic = SyntheticBert.build(Spec.tiny(6));

    assertEquals(minilm.getOpsetImport(0).getVersion(), synthetic.getOpsetImport(0).getVersion());
    assertEquals(minilm.getGraph().getInputList(), synthetic.getGraph().getInputList());
    assertEquals(structure(minilm), structure(synthetic));
    assertEquals(parameterNames(minilm), parameterNames(synthetic));
  }

  @Test
  void namingChangesNamesButNotTheFunction() throws OrtException {
    Spec base = Spec.tiny(2).withHead(Head.MEAN_POOL_CLASSIFIER, 3);
    Inputs inputs = SyntheticBert.randomInputs(base, BATCH, SEQ, 3);
    float[] encoder = run(SyntheticBert.build(base), inputs, List.of()).get("logits");
    for (Naming naming : List.of(Naming.BERT, Naming.ANONYMOUS, Naming.SCRAMBLED)) {
      float[] renamed = run(SyntheticBert.build(base.withNaming(naming)), inputs, List.of()).get("logits");
      assertArrayEquals(encoder, renamed, 1e-6f, naming.name());
    }
  }

  @Test
  void anonymousNamesEveryNodeAndInnerTensorByANumber() {
    ModelProto model = SyntheticBert.build(Spec.tiny(2).withNaming(Naming.ANONYMOUS));
    Set<String> io = graphInputsAndOutputs(model);
    for (NodeProto node : model.getGraph().getNodeList()) {
      assertTrue(node.getName().matches("\\d+"), node.getName());
      for (String output : node.getOutputList()) {
        assertTrue(io.contains(output) || output.matches("\\d+"), output);
      }
    }
    model.getGraph().getInitializerList().forEach(t -> assertTrue(t.getName().matches("\\d+"), t.getName()));
  }

  @Test
  void scrambledNamesAreRandomAndSomeAreMisleading() {
    Spec spec = Spec.tiny(2).withNaming(Naming.SCRAMBLED);
    Built built = SyntheticBert.buildWithTruth(spec);
    List<String> nodeNames = built.model().getGraph().getNodeList().stream().map(NodeProto::getName).toList();
    long hex = nodeNames.stream().filter(n -> n.matches("[0-9a-f]{8}")).count();
    // layer indices that do not exist in a 2-layer model
    long misleading = nodeNames.stream().filter(n -> n.matches("/encoder/layer\\.([2-9]|\\d\\d)/.*")).count();
    assertTrue(hex > nodeNames.size() / 2, "mostly hex names");
    assertTrue(misleading > 0, "some names point at layers that do not exist");
    assertEquals(built.boundaries(), SyntheticBert.buildWithTruth(spec).boundaries(), "deterministic");
    assertFalse(built.boundaries().equals(SyntheticBert.buildWithTruth(spec.withSeed(2)).boundaries()),
        "the seed picks the names");
  }

  static Stream<Spec> fusedCases() {
    return Stream.of(
        Spec.tiny(2),
        Spec.tiny(3).withNaming(Naming.BERT).withLayerNorm(LayerNorm.OP).withTokenTypeIds(false)
            .withHead(Head.CLS_CLASSIFIER, 3),
        Spec.tiny(2).withNaming(Naming.ROBERTA).withHead(Head.MEAN_POOL_CLASSIFIER, 2),
        Spec.tiny(2).withNaming(Naming.DISTILBERT).withLayerNorm(LayerNorm.OP),
        Spec.tiny(2).withNaming(Naming.SCRAMBLED).withHead(Head.CLS_CLASSIFIER, 2));
  }

  @ParameterizedTest
  @MethodSource("fusedCases")
  void fusedFormHasOrtContribOpsAndMatchesTheTorchForm(Spec spec) throws OrtException {
    Built fused = SyntheticBert.fusedWithTruth(spec);
    Built torch = SyntheticBert.buildWithTruth(spec);

    assertWellFormed(fused.model(), spec.opset());
    Map<String, Long> ops = opCounts(fused.model());
    assertEquals(1L, ops.get("com.microsoft:EmbedLayerNormalization"));
    assertEquals((long) spec.layers(), ops.get("com.microsoft:Attention"));
    assertEquals(2L * spec.layers(), ops.get("com.microsoft:SkipLayerNormalization"));
    assertEquals((long) spec.layers(), ops.get("com.microsoft:BiasGelu"));
    assertFalse(ops.containsKey("Softmax") || ops.containsKey("Erf") || ops.containsKey("LayerNormalization"),
        "nothing left unfused: " + ops);

    Inputs inputs = SyntheticBert.randomInputs(spec, BATCH, SEQ, 7);
    Map<String, float[]> fusedValues = run(fused.model(), inputs, fused.boundaries());
    Map<String, float[]> torchValues = run(torch.model(), inputs, torch.boundaries());
    for (int k = 0; k <= spec.layers(); k++) {
      assertClose(torchValues.get(torch.boundaries().get(k)), fusedValues.get(fused.boundaries().get(k)),
          "boundary " + k);
    }
    assertClose(torchValues.get(spec.outputName()), fusedValues.get(spec.outputName()), "output");
  }

  static Stream<Built> everyFormWithTruth() {
    List<Built> built = new ArrayList<>();
    for (Naming naming : Naming.values()) {
      for (LayerNorm layerNorm : LayerNorm.values()) {
        Spec spec = Spec.tiny(3).withNaming(naming).withLayerNorm(layerNorm);
        built.add(SyntheticBert.buildWithTruth(spec));
        built.add(SyntheticBert.buildWithTruth(spec.withHead(Head.MEAN_POOL_CLASSIFIER, 2)));
        built.add(SyntheticBert.fusedWithTruth(spec.withHead(Head.CLS_CLASSIFIER, 2)));
      }
    }
    return built.stream();
  }

  @ParameterizedTest
  @MethodSource("everyFormWithTruth")
  void boundariesAreTheResidualStreamInOrder(Built built) {
    Spec spec = built.spec();
    List<String> boundaries = built.boundaries();
    assertEquals(spec.layers() + 1, boundaries.size());
    assertEquals(boundaries.size(), new HashSet<>(boundaries).size(), "distinct");

    Set<String> parameters = new HashSet<>();
    built.model().getGraph().getInitializerList().forEach(t -> parameters.add(t.getName()));
    Map<String, NodeProto> producers = new HashMap<>();
    for (NodeProto node : built.model().getGraph().getNodeList()) {
      node.getOutputList().forEach(o -> producers.put(o, node));
    }
    boolean fused = producers.values().stream().anyMatch(n -> n.getOpType().equals("SkipLayerNormalization"));
    for (int k = 0; k < boundaries.size(); k++) {
      NodeProto producer = producers.get(boundaries.get(k));
      assertNotNull(producer, "boundary " + k + " is produced by a node");
      assertEquals(0, producer.getOutputList().indexOf(boundaries.get(k)), "output 0 of its producer");
      String expectedOp = fused ? (k == 0 ? "EmbedLayerNormalization" : "SkipLayerNormalization")
          : spec.layerNorm() == LayerNorm.OP ? "LayerNormalization" : "Add";
      assertEquals(expectedOp, producer.getOpType(), "producer of boundary " + k);
      if (!fused && spec.layerNorm() == LayerNorm.DECOMPOSED) {
        assertTrue(parameters.contains(producer.getInput(1)), "the last Add of a layer norm adds its bias");
      }
    }
    for (int k = 0; k + 1 < boundaries.size(); k++) {
      Set<String> downstream = reachableFrom(built.model(), boundaries.get(k));
      assertTrue(downstream.contains(boundaries.get(k + 1)), "boundary " + (k + 1) + " reachable from " + k);
      assertFalse(reachableFrom(built.model(), boundaries.get(k + 1)).contains(boundaries.get(k)), "and not back");
    }
    if (spec.head() == Head.NONE) {
      assertEquals("last_hidden_state", boundaries.get(spec.layers()));
    }
  }

  @Test
  void boundariesKeepTheExportersTensorNames() {
    assertEquals(List.of("/embeddings/LayerNorm/Add_1_output_0", "/encoder/layer.0/output/LayerNorm/Add_1_output_0",
        "last_hidden_state"), SyntheticBert.buildWithTruth(Spec.tiny(2)).boundaries());
    assertEquals(List.of("/distilbert/embeddings/LayerNorm/LayerNormalization_output_0",
            "/distilbert/transformer/layer.0/output_layer_norm/LayerNormalization_output_0",
            "/distilbert/transformer/layer.1/output_layer_norm/LayerNormalization_output_0"),
        SyntheticBert.fusedWithTruth(Spec.tiny(2).withNaming(Naming.DISTILBERT).withLayerNorm(LayerNorm.OP)
            .withHead(Head.CLS_CLASSIFIER, 2)).boundaries());
  }

  @ParameterizedTest
  @EnumSource(Naming.class)
  void randomInputsAreDeterministicWithTrailingPadding(Naming naming) {
    Spec spec = Spec.tiny(1).withNaming(naming);
    Inputs inputs = SyntheticBert.randomInputs(spec, 5, 9, 42);
    Inputs again = SyntheticBert.randomInputs(spec, 5, 9, 42);
    assertTrue(Arrays.deepEquals(inputs.inputIds(), again.inputIds()));
    assertTrue(Arrays.deepEquals(inputs.attentionMask(), again.attentionMask()));
    assertFalse(Arrays.deepEquals(inputs.inputIds(), SyntheticBert.randomInputs(spec, 5, 9, 43).inputIds()));

    int[] lengths = inputs.lengths();
    assertEquals(9, lengths[0], "the first row is full");
    assertEquals(5, Arrays.stream(lengths).distinct().count(), "every row has its own length");
    for (int r = 0; r < 5; r++) {
      for (int t = 0; t < 9; t++) {
        boolean real = t < lengths[r];
        assertEquals(real ? 1 : 0, inputs.attentionMask()[r][t], "trailing padding");
        long id = inputs.inputIds()[r][t];
        assertTrue(real ? id >= 2 && id < spec.vocab() : id == spec.paddingId(), "token " + id);
        if (inputs.tokenTypeIds() != null) {
          long type = inputs.tokenTypeIds()[r][t];
          assertTrue(type == 0 || (type == 1 && real && naming != Naming.ROBERTA), "token type " + type);
        }
      }
    }
    assertEquals(spec.tokenTypeIds(), inputs.tokenTypeIds() != null);
    assertTrue(inputs.tokenTypeIds() == null || naming == Naming.ROBERTA
        || Arrays.stream(inputs.tokenTypeIds()[0]).anyMatch(t -> t == 1), "a second segment");
  }

  @Test
  void randomInputsRejectSequencesLongerThanThePositions() {
    Spec spec = Spec.tiny(1).withMaxPositions(8);
    assertEquals(8, SyntheticBert.randomInputs(spec, 1, 8, 0).inputIds()[0].length);
    assertThrows(IllegalArgumentException.class, () -> SyntheticBert.randomInputs(spec, 1, 9, 0));
    // RoBERTa's positions start after its padding id
    assertThrows(IllegalArgumentException.class,
        () -> SyntheticBert.randomInputs(spec.withNaming(Naming.ROBERTA), 1, 7, 0));
  }

  @Test
  void specDefaultsAndValidation() {
    assertEquals(new Spec(4, 16, 2, 32, 64, 64, Naming.ENCODER, LayerNorm.DECOMPOSED, true, Head.NONE, 2, 1),
        Spec.tiny(4));
    assertFalse(Spec.tiny(4).constantReshapes());
    assertFalse(Spec.tiny(1).withNaming(Naming.DISTILBERT).tokenTypeIds(), "DistilBERT drops token types");
    assertThrows(IllegalArgumentException.class,
        () -> Spec.tiny(1).withNaming(Naming.DISTILBERT).withTokenTypeIds(true));
    assertThrows(IllegalArgumentException.class, () -> Spec.tiny(1).withHidden(15));
    assertThrows(IllegalArgumentException.class, () -> Spec.tiny(0));
    assertEquals(11, Spec.tiny(1).opset());
    assertEquals(17, Spec.tiny(1).withLayerNorm(LayerNorm.OP).opset());
  }

  // ---- helpers ----------------------------------------------------------------------------------

  /**
   * What ONNX Runtime does not check but a valid ONNX model needs: nodes in topological order, every node
   * input defined before use, unique node and tensor names, typed graph inputs and outputs with symbolic
   * batch and sequence dims, the opset and IR version the spec promises.
   */
  private static void assertWellFormed(ModelProto model, int opset) {
    assertEquals(opset, model.getOpsetImport(0).getVersion());
    assertEquals("", model.getOpsetImport(0).getDomain());
    assertEquals(opset < 13 ? 6 : 8, model.getIrVersion());
    Set<String> defined = new HashSet<>();
    for (ValueInfoProto input : model.getGraph().getInputList()) {
      assertFullyTyped(input);
      assertTrue(defined.add(input.getName()));
    }
    for (TensorProto init : model.getGraph().getInitializerList()) {
      assertTrue(defined.add(init.getName()), "unique initializer " + init.getName());
    }
    Set<String> nodeNames = new HashSet<>();
    for (NodeProto node : model.getGraph().getNodeList()) {
      assertTrue(nodeNames.add(node.getName()), "unique node name " + node.getName());
      for (String input : node.getInputList()) {
        assertTrue(input.isEmpty() || defined.contains(input), node.getName() + " reads undefined " + input);
      }
      for (String output : node.getOutputList()) {
        assertTrue(defined.add(output), "tensor " + output + " defined once");
      }
    }
    for (ValueInfoProto output : model.getGraph().getOutputList()) {
      assertFullyTyped(output);
      assertTrue(defined.contains(output.getName()), "graph output " + output.getName() + " is produced");
    }
  }

  private static void assertFullyTyped(ValueInfoProto info) {
    assertTrue(info.getType().getTensorType().getElemType() != 0, info.getName() + " has an element type");
    List<TensorShapeProto.Dimension> dims = info.getType().getTensorType().getShape().getDimList();
    assertEquals("batch_size", dims.get(0).getDimParam(), info.getName());
    for (TensorShapeProto.Dimension dim : dims) {
      assertTrue(dim.hasDimParam() || dim.getDimValue() > 0, info.getName() + " dim " + dim);
    }
  }

  private static Set<String> reachableFrom(ModelProto model, String tensor) {
    Map<String, List<NodeProto>> consumers = new HashMap<>();
    for (NodeProto node : model.getGraph().getNodeList()) {
      node.getInputList().forEach(i -> consumers.computeIfAbsent(i, x -> new ArrayList<>()).add(node));
    }
    Set<String> seen = new HashSet<>();
    Deque<String> todo = new ArrayDeque<>(List.of(tensor));
    while (!todo.isEmpty()) {
      for (NodeProto consumer : consumers.getOrDefault(todo.pop(), List.of())) {
        for (String output : consumer.getOutputList()) {
          if (seen.add(output)) {
            todo.push(output);
          }
        }
      }
    }
    return seen;
  }

  /** Runs the model and returns its declared outputs plus {@code extra} inner tensors, all as float arrays. */
  private static Map<String, float[]> run(ModelProto model, Inputs inputs, List<String> extra) throws OrtException {
    ModelProto.Builder copy = model.toBuilder();
    Set<String> declared = graphOutputs(model);
    for (String tensor : extra) {
      if (!declared.contains(tensor)) {
        copy.getGraphBuilder().addOutput(ValueInfoProto.newBuilder().setName(tensor).setType(TypeProto.newBuilder()
            .setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE))));
      }
    }
    Map<String, float[]> values = new LinkedHashMap<>();
    try (OrtSession session = ENV.createSession(copy.build().toByteArray(), new OrtSession.SessionOptions())) {
      Map<String, OnnxTensor> feeds = inputs.toTensors(ENV);
      try (OrtSession.Result result = session.run(feeds)) {
        for (Map.Entry<String, ai.onnxruntime.OnnxValue> entry : result) {
          values.put(entry.getKey(), ((OnnxTensor) entry.getValue()).getFloatBuffer().array());
        }
      } finally {
        feeds.values().forEach(OnnxTensor::close);
      }
    }
    return values;
  }

  private static Set<String> graphOutputs(ModelProto model) {
    Set<String> names = new HashSet<>();
    model.getGraph().getOutputList().forEach(o -> names.add(o.getName()));
    return names;
  }

  private static Set<String> graphInputsAndOutputs(ModelProto model) {
    Set<String> names = graphOutputs(model);
    model.getGraph().getInputList().forEach(i -> names.add(i.getName()));
    return names;
  }

  /** Each node as op type, name, inputs (transposed Linear weights anonymised), outputs and plain attributes. */
  private static List<String> structure(ModelProto model) {
    List<String> nodes = new ArrayList<>();
    for (NodeProto node : model.getGraph().getNodeList()) {
      List<String> inputs = node.getInputList().stream()
          .map(i -> i.startsWith("onnx::MatMul_") ? "onnx::MatMul_*" : i).toList();
      StringBuilder attributes = new StringBuilder();
      for (AttributeProto a : node.getAttributeList()) {
        if (a.getType() != AttributeProto.AttributeType.TENSOR) {  // constants differ with the model size
          attributes.append(a.getName()).append('=').append(a.getI()).append(a.getIntsList()).append(' ');
        }
      }
      nodes.add(node.getOpType() + " " + node.getName() + " " + inputs + " -> " + node.getOutputList() + " "
          + attributes);
    }
    return nodes;
  }

  private static Set<String> parameterNames(ModelProto model) {
    Set<String> names = new HashSet<>();
    for (TensorProto t : model.getGraph().getInitializerList()) {
      names.add(t.getName().startsWith("onnx::MatMul_") ? "onnx::MatMul_*" : t.getName());
    }
    return names;
  }

  private static Map<String, Long> opCounts(ModelProto model) {
    Map<String, Long> counts = new HashMap<>();
    for (NodeProto node : model.getGraph().getNodeList()) {
      String key = node.getDomain().isEmpty() ? node.getOpType() : node.getDomain() + ":" + node.getOpType();
      counts.merge(key, 1L, Long::sum);
    }
    return counts;
  }

  private static double[] flatten(double[][][] values) {
    return Arrays.stream(values).flatMap(Arrays::stream).flatMapToDouble(Arrays::stream).toArray();
  }

  private static void assertClose(double[] expected, float[] actual, String what) {
    assertNotNull(actual, what + " was not computed");
    assertEquals(expected.length, actual.length, what);
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual[i], TOLERANCE, what + " at " + i);
    }
  }

  private static void assertClose(float[] expected, float[] actual, String what) {
    assertNotNull(actual, what + " was not computed");
    assertEquals(expected.length, actual.length, what);
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual[i], TOLERANCE, what + " at " + i);
    }
  }
}
