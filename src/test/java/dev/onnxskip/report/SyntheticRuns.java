package dev.onnxskip.report;

import dev.onnxskip.eval.Metrics;
import dev.onnxskip.eval.RunResults;
import dev.onnxskip.eval.VariantResult;
import dev.onnxskip.rewrite.SkipSpan;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs with a plausible shape for figure tests: skipping early or many layers hurts, and the first
 * label suffers most as the model drifts towards the last label. Counts are exact integers, so the
 * accuracies are known fractions.
 */
final class SyntheticRuns {
  private SyntheticRuns() {}

  static RunResults run(int layers, List<String> labels, int supportPerLabel) {
    Map<String, Object> config = new LinkedHashMap<>();
    config.put("model", "models/minilm-l6/model.onnx");
    config.put("dataset", "sst2-validation.tsv");
    List<VariantResult> variants = new ArrayList<>();
    variants.add(VariantResult.baseline(metrics(labels, supportPerLabel, 0)));
    for (SkipSpan span : SkipSpan.all(layers)) {
      double early = 1 - (double) span.start() / layers;
      double share = (double) span.length() / layers;
      variants.add(new VariantResult(span, metrics(labels, supportPerLabel, Math.min(1, share * (0.4 + early)))));
    }
    return new RunResults(config, Map.of("tool_version", "test"), labels, layers, variants,
        "2025-01-01T00:00:00Z");
  }

  /** With harm 0 every label is 90% right; with harm 1 the first label is all wrong, the last all right. */
  private static Metrics metrics(List<String> labels, int support, double harm) {
    int n = labels.size();
    long[][] confusion = new long[n][n];
    for (int g = 0; g < n; g++) {
      double weight = n == 1 ? 0 : (double) (n - 1 - g) / (n - 1);
      double accuracy = g == n - 1 ? 0.9 + 0.1 * harm : 0.9 * (1 - harm * (0.3 + 0.7 * weight));
      long right = Math.round(accuracy * support);
      confusion[g][g] = right;
      confusion[g][g == n - 1 ? 0 : n - 1] = support - right;
    }
    return new Metrics(labels, confusion);
  }
}
