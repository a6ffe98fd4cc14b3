package dev.onnxskip.select;

import dev.onnxskip.UsageException;
import java.util.OptionalDouble;

/**
 * What a variant must satisfy to be chosen.
 *
 * @param minLabelAccuracy every label's accuracy must be at least this (labels without examples are
 *     not judged)
 * @param maxDrop no label's accuracy may fall by more than this against the baseline
 * @param significant judge the drop by the upper end of the bootstrap interval of the drop (the
 *     drop the data cannot rule out) instead of its point estimate
 * @param minSpeedup the measured batch-1 speed-up must be at least this, when given
 */
public record Constraints(double minLabelAccuracy, double maxDrop, boolean significant, OptionalDouble minSpeedup) {

  /** @throws UsageException naming the option of a value out of range */
  public Constraints {
    if (!(minLabelAccuracy >= 0 && minLabelAccuracy <= 1)) {
      throw new UsageException("--min-label-accuracy must lie in [0, 1], got " + minLabelAccuracy);
    }
    if (!(maxDrop >= 0 && maxDrop <= 1)) {
      throw new UsageException("--max-drop must lie in [0, 1], got " + maxDrop);
    }
    if (minSpeedup.isPresent() && !(minSpeedup.getAsDouble() > 0) || minSpeedup.isPresent() && Double.isInfinite(minSpeedup.getAsDouble())) {
      throw new UsageException("--min-speedup must be a positive number, got " + minSpeedup.getAsDouble());
    }
  }

  /** One constraint, by the option that sets it. */
  public enum Kind {
    LABEL_FLOOR("--min-label-accuracy"),
    MAX_DROP("--max-drop"),
    MIN_SPEEDUP("--min-speedup");

    public final String option;

    Kind(String option) {
      this.option = option;
    }
  }
}
