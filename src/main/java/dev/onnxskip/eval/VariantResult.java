package dev.onnxskip.eval;

import dev.onnxskip.rewrite.SkipSpan;
import dev.onnxskip.rewrite.Variant;
import java.util.Objects;

/** One evaluated model, the baseline or a skip variant, and its scores. */
public record VariantResult(Variant variant, Metrics metrics) {

  public VariantResult {
    Objects.requireNonNull(variant, "variant");
    Objects.requireNonNull(metrics, "metrics");
  }

  public static VariantResult baseline(Metrics metrics) {
    return new VariantResult(Variant.BASELINE, metrics);
  }

  public boolean isBaseline() {
    return variant.isBaseline();
  }

  /** The skipped layers; reports ask only skip variants (the baseline has none). */
  public SkipSpan span() {
    if (variant instanceof SkipSpan s) {
      return s;
    }
    throw new IllegalStateException("the baseline skips no span");
  }

  /** "baseline" or the span as {@code S-E}. */
  public String name() {
    return variant.name();
  }
}
