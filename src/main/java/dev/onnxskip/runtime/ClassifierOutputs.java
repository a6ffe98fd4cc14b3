package dev.onnxskip.runtime;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * What one model run gives per example: the logits, and the features its linear head read where
 * they were asked for (the pooled vector a fresh head can be trained on).
 *
 * @param logits [examples][labels]
 * @param features [examples][width], in the same row order
 */
public record ClassifierOutputs(float[][] logits, Optional<float[][]> features) {

  public ClassifierOutputs {
    if (features.isPresent() && features.get().length != logits.length) {
      throw new IllegalArgumentException(features.get().length + " feature rows for " + logits.length + " rows of logits");
    }
  }

  public static ClassifierOutputs logitsOnly(float[][] logits) {
    return new ClassifierOutputs(logits, Optional.empty());
  }

  public int rows() {
    return logits.length;
  }

  /** Rows {@code from} (inclusive) to {@code to} (exclusive). */
  public ClassifierOutputs rows(int from, int to) {
    return new ClassifierOutputs(Arrays.copyOfRange(logits, from, to), features.map(f -> Arrays.copyOfRange(f, from, to)));
  }

  /** The rows of every part, in order; the parts either all have features or none has. */
  public static ClassifierOutputs concat(List<ClassifierOutputs> parts) {
    float[][] logits = parts.stream().flatMap(p -> Arrays.stream(p.logits())).toArray(float[][]::new);
    boolean withFeatures = !parts.isEmpty() && parts.stream().allMatch(p -> p.features().isPresent());
    Optional<float[][]> features = withFeatures
        ? Optional.of(parts.stream().flatMap(p -> Arrays.stream(p.features().get())).toArray(float[][]::new))
        : Optional.empty();
    return new ClassifierOutputs(logits, features);
  }
}
