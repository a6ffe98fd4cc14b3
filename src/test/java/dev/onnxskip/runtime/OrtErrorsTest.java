package dev.onnxskip.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.rewrite.StaticShapes;
import dev.onnxskip.testing.SyntheticBert;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OrtErrorsTest {

  @Test
  void joinsLinesWithoutDroppingAny() {
    assertEquals("first line index: 1 Got: 20 Expected: 16 last", OrtErrors.oneLine("first line\n index: 1 Got: 20 Expected: 16\r\n\n  last \n"));
    assertEquals("", OrtErrors.oneLine(null));
  }

  /**
   * ONNX Runtime's complaint about a fixed dimension says what it got and expected only after the
   * first line; that part is kept.
   */
  @Test
  void keepsWhatOnnxRuntimeSaysAfterItsFirstLine() throws OrtException {
    Spec spec = Spec.tiny(1);
    OnnxModel fixed = StaticShapes.apply(OnnxModel.of(SyntheticBert.build(spec)), StaticShapes.Dims.parse("sequence=16"));
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession session = env.createSession(fixed.proto().toByteArray())) {
      SyntheticBert.Inputs inputs = SyntheticBert.randomInputs(spec, 2, 20, 1);
      Map<String, OnnxTensor> feeds = inputs.toTensors(env);
      try {
        OrtException e = assertThrows(OrtException.class, () -> session.run(feeds));
        assertTrue(e.getMessage().strip().lines().count() > 1, "a message of several lines: " + e.getMessage());
        String line = OrtErrors.oneLine(e.getMessage());
        assertTrue(line.startsWith("Error code - ORT_INVALID_ARGUMENT - message: Got invalid dimensions for input: "), line);
        assertTrue(line.contains("index: 1 Got: 20 Expected: 16"), line);
        assertEquals(1, line.lines().count(), line);
      } finally {
        feeds.values().forEach(OnnxTensor::close);
      }
    }
  }
}
