package dev.onnxskip.rewrite;

/**
 * Which model is meant: the source as it is ({@link #BASELINE}), or the source with the layers of a
 * {@link SkipSpan} replaced by the identity. The one type for this from the command line through
 * the engines and the journal to the reports; files spell the baseline as they always have (JSON
 * {@code null} for its span, the word "baseline" for its name).
 */
public sealed interface Variant extends Comparable<Variant> permits Variant.Baseline, SkipSpan {

  Variant BASELINE = new Baseline();

  /** The unmodified source model. */
  record Baseline() implements Variant {
    @Override
    public boolean skips(int layer) {
      return false;
    }

    @Override
    public String name() {
      return "baseline";
    }

    @Override
    public String toString() {
      return name();
    }
  }

  /** Whether this variant leaves out layer {@code layer}. */
  boolean skips(int layer);

  /** "baseline", or the span as {@code S-E}: the key of this variant in reports and predictions. */
  String name();

  default boolean isBaseline() {
    return this instanceof Baseline;
  }

  /** The baseline first, then spans by first layer, then by last. */
  @Override
  default int compareTo(Variant o) {
    if (this instanceof SkipSpan a && o instanceof SkipSpan b) {
      return a.start() != b.start() ? Integer.compare(a.start(), b.start()) : Integer.compare(a.end(), b.end());
    }
    return Boolean.compare(!isBaseline(), !o.isBaseline());
  }
}
