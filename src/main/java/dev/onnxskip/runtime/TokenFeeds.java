package dev.onnxskip.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.onnxskip.data.Batch;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Turns a token batch into the input tensors a session declares, in int64 or int32 as it asks. */
public final class TokenFeeds {
  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  private TokenFeeds() {}

  /**
   * Tensors for the token inputs among {@code wanted}, with the batch tiled {@code copies} times
   * along the batch axis (for running several stacked states at once). The caller closes them.
   */
  public static Map<String, OnnxTensor> create(List<ClassifierSignature.TokenInput> inputs, Set<String> wanted, Batch batch, int copies)
      throws OrtException {
    Map<String, OnnxTensor> feeds = new HashMap<>();
    long[] shape = {(long) batch.batchSize() * copies, batch.seqLen()};
    try {
      for (ClassifierSignature.TokenInput in : inputs) {
        if (!wanted.contains(in.name())) {
          continue;
        }
        long[] values = tile(batch.tensor(in.role()), copies);
        feeds.put(in.name(), in.int32()
            ? OnnxTensor.createTensor(ENV, IntBuffer.wrap(Batch.toInt32(values)), shape)
            : OnnxTensor.createTensor(ENV, LongBuffer.wrap(values), shape));
      }
      return feeds;
    } catch (OrtException | RuntimeException e) {
      Resources.closeAllAfter(e, List.copyOf(feeds.values()));
      throw e;
    }
  }

  private static long[] tile(long[] values, int copies) {
    if (copies == 1) {
      return values;
    }
    long[] out = new long[values.length * copies];
    for (int i = 0; i < copies; i++) {
      System.arraycopy(values, 0, out, i * values.length, values.length);
    }
    return out;
  }

}
