package dev.onnxskip.rewrite;

/**
 * An inclusive span of encoder layers to replace with the identity. Layers are numbered from 0,
 * as in the export's own names: {@code 2-3} skips layers 2 and 3.
 */
public record SkipSpan(int start, int end) implements Variant {

  public SkipSpan {
    if (start < 0 || end < start) {
      throw new IllegalArgumentException("invalid skip span " + start + "-" + end);
    }
  }

  public int length() {
    return end - start + 1;
  }

  @Override
  public boolean skips(int layer) {
    return layer >= start && layer <= end;
  }

  @Override
  public String name() {
    return toString();
  }

  /** Every contiguous span of a model with {@code layers} layers, ordered by start, then end. */
  public static java.util.List<SkipSpan> all(int layers) {
    var spans = new java.util.ArrayList<SkipSpan>();
    for (int s = 0; s < layers; s++) {
      for (int e = s; e < layers; e++) {
        spans.add(new SkipSpan(s, e));
      }
    }
    return spans;
  }

  @Override
  public String toString() {
    return start + "-" + end;
  }
}
