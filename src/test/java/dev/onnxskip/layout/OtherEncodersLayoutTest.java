package dev.onnxskip.layout;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.testing.OtherEncoders;
import dev.onnxskip.testing.OtherEncoders.Built;
import dev.onnxskip.testing.OtherEncoders.Spec;
import dev.onnxskip.testing.SyntheticBert.LayerNorm;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Layouts other than BERT's: an ALBERT-style encoder and pre-LN encoders in both LayerNorm forms. */
class OtherEncodersLayoutTest {

  @Test
  void albertsStreamIsTheProjectedWidthAndItsSharedWeightsAreCountedOnce() {
    Spec spec = Spec.albert(12);
    Built built = OtherEncoders.build(spec);
    EncoderLayout layout = LayoutDetector.detect(OnnxModel.of(built.model()));
    assertEquals(built.boundaries(), layout.boundaries());
    assertEquals(256, layout.hiddenSize(), "the residual stream, not the embeddings");
    assertEquals(64, layout.embeddingWidth());
    assertEquals(100, layout.vocabularySize().getAsLong());
    assertEquals(32, layout.maxPositions().getAsLong());
    for (Block b : layout.blocks()) {
      assertEquals(0, b.parameterCount(), "no weight is block " + b.index() + "'s alone");
    }
    // 4 (256^2 + 256) + (256 x 512 + 512) + (512 x 256 + 256) + 4 x 256, in float32.
    long expected = 4L * (256 * 256 + 256) + (256L * 512 + 512) + (512L * 256 + 256) + 4 * 256;
    assertEquals(List.of(new CrossLayerWeights(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), expected, 4 * expected)),
        layout.sharedWeights());
    assertEquals("0-11", layout.sharedWeights().get(0).describeLayers());
    assertEquals("12 attention blocks on the residual stream, 2 LayerNorms each", layout.evidence());
  }

  @ParameterizedTest
  @EnumSource(LayerNorm.class)
  void preLnBlocksHoldTheirTwoLayerNormsOnTheBranches(LayerNorm form) {
    Spec spec = Spec.preLn(4, form);
    Built built = OtherEncoders.build(spec);
    EncoderLayout layout = LayoutDetector.detect(OnnxModel.of(built.model()));
    assertEquals(built.boundaries(), layout.boundaries());
    assertEquals("4 attention blocks on the residual stream, 2 LayerNorms each; agrees with /encoder/layer.N name scopes",
        layout.evidence());
    assertEquals(16, layout.hiddenSize());
    assertEquals(List.of(), layout.sharedWeights());
    for (Block b : layout.blocks()) {
      assertEquals(spec.layerParameters(), b.parameterCount());
    }
  }
}
