package dev.onnxskip.rewrite;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.onnxskip.graph.OnnxModel;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/** Runs models in ONNX Runtime for tests: feeds what a session declares and returns float outputs. */
final class OrtHarness {
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  /** A float tensor copied out of the runtime, with its shape. */
  record Floats(float[] data, long[] shape) {}

  private OrtHarness() {}

  /** Token ids, attention mask and token types of a small padded batch, as the tokenizer makes them. */
  static Map<String, long[][]> tokenBatch() {
    long[][] ids = {
      {101, 7592, 2088, 1010, 2023, 2003, 1037, 3231, 1012, 102},
      {101, 1996, 3185, 2001, 6659, 102, 0, 0, 0, 0},
      {101, 2307, 2143, 999, 102, 0, 0, 0, 0, 0}
    };
    long[][] mask = new long[ids.length][ids[0].length];
    for (int i = 0; i < ids.length; i++) {
      for (int j = 0; j < ids[i].length; j++) {
        mask[i][j] = ids[i][j] == 0 ? 0 : 1;
      }
    }
    return Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", new long[ids.length][ids[0].length]);
  }

  /** Runs a model on the long inputs it declares plus float extra inputs; returns every output. */
  static Map<String, Floats> run(OnnxModel model, Map<String, long[][]> longInputs, Map<String, Floats> floatInputs)
      throws OrtException {
    return run(model, longInputs, floatInputs, Map.of());
  }

  /** As {@link #run(OnnxModel, Map, Map)}, with boolean scalar inputs too, such as layer switches. */
  static Map<String, Floats> run(
      OnnxModel model, Map<String, long[][]> longInputs, Map<String, Floats> floatInputs, Map<String, Boolean> boolInputs)
      throws OrtException {
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      // Without graph optimizations, the same ops compute the same floats whether or not the
      // graph is split, so recomposed sub-models can be compared bit for bit.
      opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
      return run(model, longInputs, floatInputs, boolInputs, opts);
    }
  }

  private static Map<String, Floats> run(OnnxModel model, Map<String, long[][]> longInputs, Map<String, Floats> floatInputs,
      Map<String, Boolean> boolInputs, OrtSession.SessionOptions opts) throws OrtException {
    try (OrtSession session = ENV.createSession(model.proto().toByteArray(), opts)) {
      Map<String, OnnxTensor> feeds = new HashMap<>();
      try {
        for (String name : session.getInputNames()) {
          if (longInputs.containsKey(name)) {
            long[][] v = longInputs.get(name);
            long[] flat = new long[v.length * v[0].length];
            for (int i = 0; i < v.length; i++) {
              System.arraycopy(v[i], 0, flat, i * v[0].length, v[0].length);
            }
            feeds.put(name, OnnxTensor.createTensor(ENV, LongBuffer.wrap(flat), new long[] {v.length, v[0].length}));
          } else if (boolInputs.containsKey(name)) {
            feeds.put(name, OnnxTensor.createTensor(ENV, (boolean) boolInputs.get(name)));
          } else {
            Floats f = floatInputs.get(name);
            feeds.put(name, OnnxTensor.createTensor(ENV, FloatBuffer.wrap(f.data()), f.shape()));
          }
        }
        Map<String, Floats> outs = new LinkedHashMap<>();
        try (OrtSession.Result result = session.run(feeds)) {
          for (Map.Entry<String, OnnxValue> e : result) {
            OnnxTensor t = (OnnxTensor) e.getValue();
            FloatBuffer fb = t.getFloatBuffer();
            float[] data = new float[fb.remaining()];
            fb.get(data);
            outs.put(e.getKey(), new Floats(data, t.getInfo().getShape()));
          }
        }
        return outs;
      } finally {
        feeds.values().forEach(OnnxTensor::close);
      }
    }
  }

  static double maxAbsDiff(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
    }
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
    return max;
  }
}
