package dev.onnxskip.runtime;

import java.io.Serializable;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What one model run gives per example: the logits, and whichever per-example extras the run was
 * asked for (the features a linear head reads, the pooled final state, the layer metrics of the
 * baseline's states). Serializable, so that a run on another machine can send it back whole.
 *
 * @param logits [examples][labels]
 * @param extras each [examples][width], in the same row order
 */
public record ClassifierOutputs(float[][] logits, Map<Extra, float[][]> extras) implements Serializable {

  /** The per-example values a run may give beside the logits, with the name the journal keeps them under. */
  public enum Extra {
    /** The input of a linear head, [examples][width]: what a fresh head can be trained on. */
    HEAD_FEATURES("features"),
    /** The final residual-stream state, mean-pooled over real tokens, [examples][hidden]. */
    FINAL_POOLED("final_pooled"),
    /** The baseline's per-example layer metrics, in the order the layer metrics define. */
    LAYER_METRICS("layer_metrics");

    private final String key;

    Extra(String key) {
      this.key = key;
    }

    public String key() {
      return key;
    }
  }

  public ClassifierOutputs {
    EnumMap<Extra, float[][]> copy = new EnumMap<>(Extra.class);
    copy.putAll(extras);
    for (Map.Entry<Extra, float[][]> e : copy.entrySet()) {
      if (e.getValue().length != logits.length) {
        throw new IllegalArgumentException(e.getValue().length + " rows of " + e.getKey().key() + " for " + logits.length + " rows of logits");
      }
    }
    extras = java.util.Collections.unmodifiableMap(copy);
  }

  public static ClassifierOutputs logitsOnly(float[][] logits) {
    return new ClassifierOutputs(logits, Map.of());
  }

  public Optional<float[][]> extra(Extra which) {
    return Optional.ofNullable(extras.get(which));
  }

  public Optional<float[][]> features() {
    return extra(Extra.HEAD_FEATURES);
  }

  /** The same logits with {@code values} added as {@code which}. */
  public ClassifierOutputs with(Extra which, float[][] values) {
    Map<Extra, float[][]> more = new EnumMap<>(Extra.class);
    more.putAll(extras);
    more.put(which, values);
    return new ClassifierOutputs(logits, more);
  }

  public int rows() {
    return logits.length;
  }

  /** Rows {@code from} (inclusive) to {@code to} (exclusive). */
  public ClassifierOutputs rows(int from, int to) {
    Map<Extra, float[][]> part = new EnumMap<>(Extra.class);
    extras.forEach((k, v) -> part.put(k, Arrays.copyOfRange(v, from, to)));
    return new ClassifierOutputs(Arrays.copyOfRange(logits, from, to), part);
  }

  /** The rows of every part, in order; an extra is kept where every part has it. */
  public static ClassifierOutputs concat(List<ClassifierOutputs> parts) {
    float[][] logits = parts.stream().flatMap(p -> Arrays.stream(p.logits())).toArray(float[][]::new);
    Map<Extra, float[][]> extras = new EnumMap<>(Extra.class);
    for (Extra which : Extra.values()) {
      if (!parts.isEmpty() && parts.stream().allMatch(p -> p.extras().containsKey(which))) {
        extras.put(which, parts.stream().flatMap(p -> Arrays.stream(p.extras().get(which))).toArray(float[][]::new));
      }
    }
    return new ClassifierOutputs(logits, extras);
  }
}
