package dev.onnxskip.rewrite;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxskip.graph.Graph;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.graph.TensorTypes;
import dev.onnxskip.layout.Block;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.layout.LayoutDetector;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Skip variants of the int8 dynamic-quantized MiniLM, whose DynamicQuantizeLinear nodes sit on the
 * block boundaries under the name of the tensor they read. Each ONNX Runtime session of this
 * model costs seconds, so one test shares them: one prefix session yields every kept boundary.
 */
class QuantizedMiniLmTest {

  private static final String OUTPUT = "last_hidden_state";

  @Test
  void variantsEqualTheSuffixOfThePrefixWithTheFloatTwinsLayerCount() throws Exception {
    OnnxModel model = ModelIO.load(Path.of("models/minilm-l6-q/model.onnx"));
    EncoderLayout layout = LayoutDetector.detect(model);
    EncoderLayout floatTwin = LayoutDetector.detect(ModelIO.load(Path.of("models/minilm-l6/model.onnx")));
    assertEquals(floatTwin.layers(), layout.layers());

    Map<String, long[][]> tokens = OrtHarness.tokenBatch();
    List<SkipSpan> spans = List.of(new SkipSpan(0, 0), new SkipSpan(2, 3), new SkipSpan(0, 5));
    Map<String, OrtHarness.Floats> stream = OrtHarness.run(
        SubModels.extract(model, layout, List.of(), List.of(layout.boundary(0), layout.boundary(2))), tokens, Map.of());
    long totalParameters = model.copyGraph().initializers().values().stream().mapToLong(TensorTypes::elementCount).sum();

    for (SkipSpan span : spans) {
      OnnxModel variant = SkipRewriter.variant(model, layout, span, "sha");
      float[] got = OrtHarness.run(variant, tokens, Map.of()).get(OUTPUT).data();
      OrtHarness.Floats kept = stream.get(layout.boundary(span.start()));
      int resume = span.end() + 1;
      if (resume == layout.layers()) {
        assertArrayEquals(kept.data(), got, "skipping every block leaves the embeddings' output");
      } else {
        float[] expected = OrtHarness.run(Suffixes.after(model, layout, resume), tokens,
            Map.of(layout.boundary(resume), kept)).get(OUTPUT).data();
        assertTrue(OrtHarness.maxAbsDiff(got, expected) <= 1e-5, span + ": max diff " + OrtHarness.maxAbsDiff(got, expected));
      }

      Graph pruned = variant.copyGraph();
      long skippedParameters = layout.blocks().stream().filter(b -> span.skips(b.index())).mapToLong(Block::parameterCount).sum();
      assertEquals(totalParameters - skippedParameters,
          pruned.initializers().values().stream().mapToLong(TensorTypes::elementCount).sum());
      // Four quantizers per layer (its input, the attention context, the attention LayerNorm, the
      // GELU), the first one named after the tensor of the block before: all leave with the layer.
      long quantizers = pruned.nodes().stream().filter(n -> n.opType().equals("DynamicQuantizeLinear")).count();
      assertEquals(4L * (layout.layers() - span.length()), quantizers, "quantizers left after skipping " + span);
    }
  }
}
