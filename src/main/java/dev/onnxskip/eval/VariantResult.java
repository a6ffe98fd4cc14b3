package dev.onnxskip.eval;

import dev.onnxskip.rewrite.SkipSpan;
import java.util.Objects;

/**
 * One evaluated model: the baseline when {@code span} is null, else the model with the layers of
 * {@code span} replaced by the identity.
 */
public record VariantResult(SkipSpan span, Metrics metrics) {

  public VariantResult {
    Objects.requireNonNull(metrics, "metrics");
  }

  public static VariantResult baseline(Metrics metrics) {
    return new VariantResult(null, metrics);
  }

  public boolean isBaseline() {
    return span == null;
  }

  /** "baseline" or the span as {@code S-E}. */
  public String name() {
    return span == null ? "baseline" : span.toString();
  }
}
