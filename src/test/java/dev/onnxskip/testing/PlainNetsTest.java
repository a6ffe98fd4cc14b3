package dev.onnxskip.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The non-encoder models that the tool must refuse are valid models: ONNX Runtime loads and runs them. */
class PlainNetsTest {
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  @Test
  void theConvNetClassifiesImages() throws OrtException {
    float[] first = new float[2 * 3 * 8 * 8];
    for (int i = 0; i < first.length; i++) {
      first[i] = (i % 7) * 0.3f - 1f;
    }
    try (OrtSession s = ENV.createSession(PlainNets.convNet().toByteArray());
        OnnxTensor image = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(first), new long[] {2, 3, 8, 8});
        OrtSession.Result r = s.run(Map.of("image", image))) {
      OnnxTensor logits = (OnnxTensor) r.get("logits").orElseThrow();
      assertArrayEquals(new long[] {2, 2}, logits.getInfo().getShape());
      float[][] v = (float[][]) logits.getValue();
      assertFalse(Arrays.equals(v[0], v[1]), "two images, two results");
    }
  }

  @Test
  void theMlpScoresTokens() throws OrtException {
    try (OrtSession s = ENV.createSession(PlainNets.mlp().toByteArray());
        OnnxTensor ids = OnnxTensor.createTensor(ENV, LongBuffer.wrap(new long[] {1, 2, 3, 4, 5, 6}), new long[] {2, 3});
        OrtSession.Result r = s.run(Map.of("input_ids", ids))) {
      OnnxTensor scores = (OnnxTensor) r.get("scores").orElseThrow();
      assertArrayEquals(new long[] {2, 3, 3}, scores.getInfo().getShape());
      assertEquals(1, s.getNumInputs());
    }
  }
}
