package dev.onnxskip.cli;

import dev.onnxskip.eval.Findings;
import picocli.CommandLine.Option;

/** How eval's statistics are computed; the values are checked when the settings are made, before any input is read. */
public final class StatisticsOptions {
  @Option(names = "--alpha", defaultValue = "0.05",
      description = "Family-wise error rate of the paired tests against the baseline, Holm-corrected over every span and label"
          + " (default: ${DEFAULT-VALUE}).")
  private double alpha;

  @Option(names = "--bootstrap", defaultValue = "1000", paramLabel = "N",
      description = "Paired bootstrap resamples for the interval of each change, from a fixed seed; 0 for none (default: ${DEFAULT-VALUE}).")
  private int bootstrap;

  @Option(names = "--folds", paramLabel = "K",
      description = "Folds of the cross-fitted recalibration (per-class offsets); at most the smallest label's examples"
          + " (default: 5, or that many where it is fewer).")
  private Integer folds;

  @Option(names = "--head-refit", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Where the model's head is linear, fit a fresh one on each variant's features (cross-fitted) and report"
          + " its accuracy; --no-head-refit skips it (default: on).")
  private boolean headRefit;

  @Option(names = "--layer-metrics", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Label-free layer metrics (angular distance, Block Influence, pooled cosine, linear CKA) beside the"
          + " accuracy, and their agreement with it; --no-layer-metrics skips them (default: on).")
  private boolean layerMetrics;

  Findings.Settings settings() {
    return new Findings.Settings(alpha, bootstrap, folds == null ? 0 : folds, headRefit, layerMetrics);
  }
}
