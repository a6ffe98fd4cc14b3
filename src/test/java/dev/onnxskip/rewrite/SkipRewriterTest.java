package dev.onnxskip.rewrite;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.TensorProto;
import dev.onnxskip.graph.Graph;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.Node;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.graph.TensorTypes;
import dev.onnxskip.layout.Block;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.layout.LayoutDetector;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Skip variants of the real MiniLM export equal the composition of the kept prefix and suffix. */
class SkipRewriterTest {
  static OnnxModel model;
  static EncoderLayout layout;
  static Map<String, OrtHarness.Floats> baseline;

  @BeforeAll
  static void load() throws Exception {
    model = ModelIO.load(Path.of("models/minilm-l6/model.onnx"));
    layout = LayoutDetector.detect(model);
    baseline = OrtHarness.run(model, OrtHarness.tokenBatch(), Map.of());
  }

  @ParameterizedTest(name = "skip {0}-{1}")
  @CsvSource({"0,0", "0,5", "2,3", "5,5"})
  void variantEqualsSuffixOfPrefix(int start, int end) throws Exception {
    OnnxModel variant = SkipRewriter.variant(model, layout, new SkipSpan(start, end), "sha");
    float[] got = OrtHarness.run(variant, OrtHarness.tokenBatch(), Map.of()).get("last_hidden_state").data();

    OnnxModel prefix = SubModels.prefix(model, layout, start);
    OrtHarness.Floats kept = OrtHarness.run(prefix, OrtHarness.tokenBatch(), Map.of()).get(layout.boundary(start));
    OnnxModel suffix = Suffixes.after(model, layout, end + 1);
    Map<String, OrtHarness.Floats> composed = OrtHarness.run(
        suffix, OrtHarness.tokenBatch(), Map.of(layout.boundary(end + 1), kept));
    float[] expected = composed.containsKey("last_hidden_state")
        ? composed.get("last_hidden_state").data()
        : kept.data(); // skipping through the last layer leaves nothing after the cut
    assertTrue(OrtHarness.maxAbsDiff(got, expected) <= 1e-5, "max diff " + OrtHarness.maxAbsDiff(got, expected));
    assertTrue(OrtHarness.maxAbsDiff(got, baseline.get("last_hidden_state").data()) > 1e-2, "skipping must change the output");
  }

  @ParameterizedTest(name = "cut at boundary {0}")
  @ValueSource(ints = {0, 3, 6})
  void prefixThenSuffixReproducesTheModel(int k) throws Exception {
    OrtHarness.Floats h = OrtHarness.run(SubModels.prefix(model, layout, k), OrtHarness.tokenBatch(), Map.of()).get(layout.boundary(k));
    Map<String, OrtHarness.Floats> out = OrtHarness.run(
        Suffixes.after(model, layout, k), OrtHarness.tokenBatch(), Map.of(layout.boundary(k), h));
    float[] full = baseline.get("last_hidden_state").data();
    float[] got = k == layout.layers() ? h.data() : out.get("last_hidden_state").data();
    assertArrayEquals(full, got, "splitting and recomposing must reproduce the model exactly");
  }

  @ParameterizedTest(name = "prune {0}-{1}")
  @CsvSource({"0,0", "1,3", "0,5", "5,5"})
  void skippedBlocksLeaveNoNodesNorWeights(int start, int end) {
    SkipSpan span = new SkipSpan(start, end);
    OnnxModel variant = SkipRewriter.variant(model, layout, span, "sha");
    Graph source = model.copyGraph();
    Set<String> variantNodes = new HashSet<>();
    variant.copyGraph().nodes().forEach(n -> variantNodes.add(n.name()));
    long expectedParams = 0;
    for (TensorProto t : source.initializers().values()) {
      expectedParams += TensorTypes.elementCount(t);
    }
    for (Block b : layout.blocks()) {
      if (!span.skips(b.index())) {
        continue;
      }
      expectedParams -= b.parameterCount();
      for (Node n : b.nodes()) {
        assertTrue(!variantNodes.contains(n.name()), "node " + n.label() + " of skipped layer " + b.index() + " remains");
      }
    }
    long params = variant.copyGraph().initializers().values().stream().mapToLong(TensorTypes::elementCount).sum();
    assertEquals(expectedParams, params, "parameters kept");
    String prefix = "encoder.layer.";
    for (String name : variant.copyGraph().initializers().keySet()) {
      if (name.startsWith(prefix)) {
        int layer = Integer.parseInt(name.substring(prefix.length(), name.indexOf('.', prefix.length())));
        assertTrue(!span.skips(layer), "weight " + name + " of a skipped layer remains");
      }
    }
    boolean maskKept = variant.copyGraph().nodes().stream().anyMatch(n -> n.outputs().contains("/Mul_output_0"));
    assertEquals(span.length() < layout.layers(), maskKept, "the shared mask stays exactly while a block uses it");
  }

  @ParameterizedTest(name = "signature {0}-{1}")
  @CsvSource({"0,5", "2,2"})
  void variantIsADropInReplacement(int start, int end) {
    OnnxModel variant = SkipRewriter.variant(model, layout, new SkipSpan(start, end), "abc");
    assertEquals(model.proto().getGraph().getInputList(), variant.proto().getGraph().getInputList());
    assertEquals(model.proto().getGraph().getOutputList(), variant.proto().getGraph().getOutputList());
    assertEquals(model.proto().getOpsetImportList(), variant.proto().getOpsetImportList());
    assertEquals(model.proto().getIrVersion(), variant.proto().getIrVersion());
    Set<String> defined = new HashSet<>(variant.copyGraph().inputNames());
    defined.addAll(variant.copyGraph().initializers().keySet());
    for (Node n : variant.copyGraph().nodes()) {
      for (String in : n.inputs()) {
        assertTrue(in.isEmpty() || defined.contains(in), "node " + n.label() + " reads " + in + " before it is defined");
      }
      defined.addAll(n.outputs());
    }
    Provenance p = Provenance.read(variant).orElseThrow();
    assertEquals(new SkipSpan(start, end), p.span());
    assertEquals("abc", p.sourceSha256());
    assertEquals(6, p.sourceLayers());
  }
}
