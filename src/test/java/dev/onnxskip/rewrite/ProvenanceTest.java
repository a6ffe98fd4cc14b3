package dev.onnxskip.rewrite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.testing.SyntheticBert;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ProvenanceTest {
  private static final OnnxModel PLAIN = OnnxModel.of(SyntheticBert.build(SyntheticBert.Spec.tiny(3)));

  @Test
  void readsWhatTheRewriteRecorded() {
    OnnxModel variant = PLAIN.withMetadata(Map.of("onnx_skip.skipped_span", "1-2", "onnx_skip.source_layers", "3"));
    Provenance p = Provenance.read(variant).orElseThrow();
    assertEquals(new SkipSpan(1, 2), p.span());
    assertEquals(3, p.sourceLayers());
    assertTrue(Provenance.read(PLAIN).isEmpty(), "a model this tool did not write has no provenance");
  }

  @ParameterizedTest
  @ValueSource(strings = {"two-3", "3-1", "1-99999999999", "", "1-2-3"})
  void malformedMetadataIsAOneLineErrorNamingTheKey(String span) {
    OnnxModel odd = PLAIN.withMetadata(Map.of("onnx_skip.skipped_span", span));
    OnnxSkipException e = assertThrows(OnnxSkipException.class, () -> Provenance.read(odd));
    assertTrue(e.getMessage().contains("onnx_skip.skipped_span"), e.getMessage());
    assertTrue(e.getMessage().contains("'" + span + "'"), e.getMessage());
    assertEquals(1, e.getMessage().lines().count());
  }

  @Test
  void aSourceLayerCountThatIsNoNumberIsRefusedToo() {
    OnnxModel odd = PLAIN.withMetadata(Map.of("onnx_skip.skipped_span", "0-0", "onnx_skip.source_layers", "six"));
    OnnxSkipException e = assertThrows(OnnxSkipException.class, () -> Provenance.read(odd));
    assertTrue(e.getMessage().contains("six"), e.getMessage());
  }
}
