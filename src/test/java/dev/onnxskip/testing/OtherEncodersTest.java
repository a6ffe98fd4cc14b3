package dev.onnxskip.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.onnxskip.testing.OtherEncoders.Spec;
import dev.onnxskip.testing.SyntheticBert.LayerNorm;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The ALBERT-style and pre-LN test models are valid models that compute what they claim: ONNX
 * Runtime runs them, both LayerNorm forms give the same function, the output is a LayerNorm's
 * (zero mean and unit variance per token once beta is taken off, gamma being one), and ALBERT's
 * layers read one set of weights.
 */
class OtherEncodersTest {
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
  private static final int BATCH = 2;
  private static final int SEQ = 5;

  @Test
  void preLnFormsComputeTheSameNormalizedOutput() throws OrtException {
    Spec spec = Spec.preLn(3, LayerNorm.DECOMPOSED);
    ModelProto decomposed = OtherEncoders.build(spec).model();
    ModelProto op = OtherEncoders.build(Spec.preLn(3, LayerNorm.OP)).model();
    float[] a = run(decomposed);
    float[] b = run(op);
    assertEquals(BATCH * SEQ * spec.hidden(), a.length);
    float maxDiff = 0;
    for (int i = 0; i < a.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    }
    assertTrue(maxDiff < 1e-4, "decomposed and LayerNormalization forms differ by " + maxDiff);
    assertNormalized(a, floats(decomposed, "encoder.LayerNorm.bias"), spec.hidden());
  }

  @Test
  void albertProjectsItsEmbeddingsAndSharesOneLayer() throws OrtException {
    Spec spec = Spec.albert(4);
    ModelProto model = OtherEncoders.build(spec).model();
    float[] out = run(model);
    assertEquals(BATCH * SEQ * spec.hidden(), out.length);
    assertNormalized(out, floats(model, "encoder.albert_layer_groups.0.albert_layers.0.output.LayerNorm.bias"), spec.hidden());

    long layerWeights = 0;
    Set<String> readers = new HashSet<>();
    for (TensorProto t : model.getGraph().getInitializerList()) {
      if (t.getName().startsWith("encoder.albert_layer_groups.0.")) {
        layerWeights += t.getDimsList().stream().reduce(1L, (x, y) -> x * y);
      }
    }
    assertEquals(spec.layerParameters(), layerWeights, "one layer's weights, written once");
    for (var n : model.getGraph().getNodeList()) {
      if (n.getInputList().contains("encoder.albert_layer_groups.0.albert_layers.0.attention.query.weight")) {
        readers.add(n.getName());
      }
    }
    assertEquals(spec.layers(), readers.size(), "every layer reads the shared query weight");
  }

  private static void assertNormalized(float[] out, float[] beta, int width) {
    for (int t = 0; t < out.length / width; t++) {
      double mean = 0;
      double square = 0;
      for (int i = 0; i < width; i++) {
        double v = out[t * width + i] - beta[i];
        mean += v / width;
        square += v * v / width;
      }
      assertEquals(0, mean, 1e-4, "mean of token " + t);
      assertEquals(1, square - mean * mean, 1e-3, "variance of token " + t);
    }
  }

  private static float[] floats(ModelProto model, String name) {
    TensorProto t = model.getGraph().getInitializerList().stream().filter(i -> i.getName().equals(name)).findFirst().orElseThrow();
    var buffer = ByteBuffer.wrap(t.getRawData().toByteArray()).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    float[] values = new float[buffer.remaining()];
    buffer.get(values);
    return values;
  }

  private static float[] run(ModelProto model) throws OrtException {
    long[][] ids = new long[BATCH][SEQ];
    long[][] mask = new long[BATCH][SEQ];
    for (int r = 0; r < BATCH; r++) {
      for (int s = 0; s < SEQ; s++) {
        ids[r][s] = 2 + (7 * r + 3 * s) % 50;
        mask[r][s] = r == 1 && s >= 3 ? 0 : 1;
      }
    }
    try (OrtSession session = ENV.createSession(model.toByteArray(), new OrtSession.SessionOptions());
        OnnxTensor idTensor = OnnxTensor.createTensor(ENV, ids);
        OnnxTensor maskTensor = OnnxTensor.createTensor(ENV, mask);
        OrtSession.Result result = session.run(Map.of("input_ids", idTensor, "attention_mask", maskTensor))) {
      return ((OnnxTensor) result.get(0)).getFloatBuffer().array();
    }
  }
}
