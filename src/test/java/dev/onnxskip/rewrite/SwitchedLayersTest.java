package dev.onnxskip.rewrite;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.Node;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.layout.LayoutDetector;
import dev.onnxskip.testing.SyntheticBert;
import dev.onnxskip.testing.SyntheticBert.Head;
import dev.onnxskip.testing.SyntheticBert.LayerNorm;
import dev.onnxskip.testing.SyntheticBert.Naming;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The switched model, run with the switches of a span off and the others on, computes the logits of
 * the standalone variant that SkipRewriter writes for that span, and passes every skipped layer's
 * input through unchanged; it passes the reference checker, holds each layer's weights in that
 * layer's branch, and leaves its input model as it was.
 */
class SwitchedLayersTest {
  private static final Path MINILM = Path.of("models/minilm-l6/model.onnx");
  /** Without graph optimizations, the switched graph and a variant run the same ops on the same floats. */
  private static final double EXACT = 1e-5;
  private static final String LOGITS = "logits";

  static Stream<Spec> syntheticSpecs() {
    Spec tiny = Spec.tiny(4).withHead(Head.MEAN_POOL_CLASSIFIER, 3);
    return Stream.of(
        tiny,
        // DistilBERT builds a mask in every layer from attention_mask: side inputs inside the blocks' depth -1.
        tiny.withNaming(Naming.DISTILBERT).withTokenTypeIds(false).withHead(Head.CLS_CLASSIFIER, 2),
        tiny.withNaming(Naming.ROBERTA).withLayerNorm(LayerNorm.OP).withHead(Head.CLS_CLASSIFIER, 3));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("syntheticSpecs")
  void syntheticSettingsComputeTheStandaloneVariants(Spec spec) throws Exception {
    OnnxModel model = OnnxModel.of(SyntheticBert.build(spec));
    SyntheticBert.Inputs in = SyntheticBert.randomInputs(spec, 3, 6, spec.seed());
    Map<String, long[][]> tokens = new HashMap<>();
    tokens.put("input_ids", in.inputIds());
    tokens.put("attention_mask", in.attentionMask());
    if (in.tokenTypeIds() != null) {
      tokens.put("token_type_ids", in.tokenTypeIds());
    }
    assertSettingsMatchVariants(model, tokens, SkipSpan.all(spec.layers()));
  }

  @Test
  void fusedSyntheticSettingsComputeTheStandaloneVariants() throws Exception {
    Spec spec = Spec.tiny(3).withHead(Head.MEAN_POOL_CLASSIFIER, 3);
    OnnxModel model = OnnxModel.of(SyntheticBert.fused(spec));
    SyntheticBert.Inputs in = SyntheticBert.randomInputs(spec, 2, 5, 11);
    assertSettingsMatchVariants(model,
        Map.of("input_ids", in.inputIds(), "attention_mask", in.attentionMask(), "token_type_ids", in.tokenTypeIds()),
        SkipSpan.all(spec.layers()));
  }

  @Test
  void miniLmSettingsComputeTheStandaloneVariants() throws Exception {
    assertSettingsMatchVariants(miniLmClassifier(), OrtHarness.tokenBatch(), SkipSpans.parse("0-0,2-3,5-5,0-5,1-4", 6));
  }

  @Test
  void theReferenceCheckerAcceptsTheSwitchedModels(@TempDir Path tmp) {
    OnnxModel synthetic = OnnxModel.of(SyntheticBert.build(Spec.tiny(4).withHead(Head.MEAN_POOL_CLASSIFIER, 3)));
    Validator.Report small = Validator.validate(written(switched(synthetic), tmp.resolve("synthetic.onnx")));
    assertTrue(small.uncheckedOps().isEmpty(), small.describe());
    Validator.Report minilm = Validator.validate(written(switched(miniLmClassifier()), tmp.resolve("minilm.onnx")));
    assertTrue(minilm.uncheckedOps().isEmpty(), minilm.describe());
    OnnxModel fused = OnnxModel.of(SyntheticBert.fused(Spec.tiny(2).withHead(Head.MEAN_POOL_CLASSIFIER, 3)));
    // Passes or throws: the com.microsoft ops are checked for structure only.
    Validator.validate(written(switched(fused), tmp.resolve("fused.onnx")));
  }

  @Test
  void everyWeightStaysInTheMainGraphAndEachBranchReadsItsOwnLayersOnly() {
    OnnxModel model = miniLmClassifier();
    EncoderLayout layout = LayoutDetector.detect(model);
    GraphProto main = switched(model).proto().getGraph();
    Set<String> mainWeights = main.getInitializerList().stream().map(TensorProto::getName).collect(Collectors.toSet());
    assertTrue(model.copyGraph().initializers().keySet().stream().filter(name -> name.startsWith("encoder.layer.")).allMatch(mainWeights::contains),
        "every layer weight is a main-graph initializer");
    List<Node> switches = main.getNodeList().stream().map(Node::new).filter(n -> n.opType().equals("If")).toList();
    assertEquals(layout.layers(), switches.size());
    for (int layer = 0; layer < layout.layers(); layer++) {
      int k = layer;
      Node node = switches.get(k);
      assertEquals(List.of(SwitchedLayers.switchInput(k)), node.inputs());
      assertEquals(List.of(layout.boundary(k + 1)), node.outputs());
      GraphProto run = branch(node, "then_branch");
      assertEquals(0, run.getInitializerCount(), "the branch of layer " + k + " holds no weights of its own");
      // Biases and LayerNorm parameters carry their layer in their name; MatMul weights are onnx::MatMul_N.
      String scope = "encoder.layer." + k + ".";
      Set<String> read = node.allInputs().stream().filter(mainWeights::contains).collect(Collectors.toSet());
      assertEquals(model.copyGraph().initializers().keySet().stream().filter(name -> name.startsWith(scope)).collect(Collectors.toSet()),
          read.stream().filter(name -> name.startsWith("encoder.layer.")).collect(Collectors.toSet()),
          "the branch of layer " + k + " reads its layer's named weights from the outer scope, and no other layer's");
      GraphProto skip = branch(node, "else_branch");
      assertEquals(1, skip.getNodeCount());
      assertEquals("Identity", skip.getNode(0).getOpType());
      assertEquals(List.of(layout.boundary(k)), skip.getNode(0).getInputList());
      ValueInfoProto flag = main.getInputList().stream().filter(v -> v.getName().equals(SwitchedLayers.switchInput(k))).findFirst().orElseThrow();
      assertEquals(TensorProto.DataType.BOOL_VALUE, flag.getType().getTensorType().getElemType());
      assertEquals(0, flag.getType().getTensorType().getShape().getDimCount(), "a scalar switch");
    }
  }

  /**
   * For the baseline and every span: the switched model fed the embeddings' output and the span's
   * switches against the source or SkipRewriter's variant, each in its own session.
   */
  private static void assertSettingsMatchVariants(OnnxModel model, Map<String, long[][]> tokens, List<SkipSpan> spans)
      throws Exception {
    EncoderLayout layout = LayoutDetector.detect(model);
    byte[] before = model.proto().toByteArray();
    OnnxModel switched = SwitchedLayers.apply(model, layout, LOGITS);
    assertArrayEquals(before, model.proto().toByteArray(), "the pass leaves its input model unchanged");

    OrtHarness.Floats h0 = OrtHarness.run(SubModels.prefix(model, layout, 0), tokens, Map.of()).get(layout.boundary(0));
    Map<String, OrtHarness.Floats> stream = Map.of(layout.boundary(0), h0);
    float[] baseline = null;
    List<Optional<SkipSpan>> settings = new ArrayList<>();
    settings.add(Optional.empty());
    spans.forEach(s -> settings.add(Optional.of(s)));
    for (Optional<SkipSpan> span : settings) {
      Map<String, Boolean> switches = new HashMap<>();
      for (int k = 0; k < layout.layers(); k++) {
        switches.put(SwitchedLayers.switchInput(k), span.isEmpty() || !span.get().skips(k));
      }
      Map<String, OrtHarness.Floats> got = OrtHarness.run(switched, tokens, stream, switches);
      OnnxModel standalone = span.map(s -> SkipRewriter.variant(model, layout, s, "sha")).orElse(model);
      float[] want = OrtHarness.run(standalone, tokens, Map.of()).get(LOGITS).data();
      float[] logits = got.get(LOGITS).data();
      double diff = OrtHarness.maxAbsDiff(want, logits);
      assertTrue(diff <= EXACT, "logits with " + span + " against the standalone model: max diff " + diff);
      if (span.isEmpty()) {
        baseline = logits;
        continue;
      }
      SkipSpan s = span.get();
      float[] kept = s.start() == 0 ? h0.data() : got.get(layout.boundary(s.start())).data();
      for (int k = s.start(); k <= s.end(); k++) {
        assertArrayEquals(kept, got.get(layout.boundary(k + 1)).data(), "a skipped layer " + k + " passes its input through");
      }
      assertTrue(OrtHarness.maxAbsDiff(baseline, logits) > 1e-4, "skipping " + s + " must change the logits");
    }
  }

  private static OnnxModel switched(OnnxModel model) {
    return SwitchedLayers.apply(model, LayoutDetector.detect(model), LOGITS);
  }

  private static GraphProto branch(Node node, String attribute) {
    return node.proto().getAttributeList().stream().filter(a -> a.getName().equals(attribute)).map(AttributeProto::getG)
        .findFirst().orElseThrow();
  }

  /** The real MiniLM encoder with a fixed random mean-pooling head, as a fine-tuned export would have one. */
  private static OnnxModel miniLmClassifier() {
    Random random = new Random(2022);
    float[] weights = new float[384 * 2];
    for (int i = 0; i < weights.length; i++) {
      weights[i] = (float) (0.05 * random.nextGaussian());
    }
    return HeadWriter.append(ModelIO.load(MINILM), "last_hidden_state", "attention_mask", Pooling.MEAN, weights,
        new float[] {0.25f, -0.25f}, List.of("neg", "pos"));
  }

  private static Path written(OnnxModel model, Path file) {
    ModelIO.save(model.proto(), file);
    assertTrue(Files.isRegularFile(file));
    return file;
  }
}
