package dev.onnxskip.report;

import dev.onnxskip.eval.Metrics;
import dev.onnxskip.eval.RunResults;
import dev.onnxskip.eval.VariantResult;
import dev.onnxskip.rewrite.SkipSpan;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A run small enough to check by hand: 3 layers, labels neg and pos with 10 examples each.
 * Confusion rows are gold, columns predicted ({@code {{neg->neg, neg->pos}, {pos->neg, pos->pos}}}).
 *
 * <pre>
 * variant   neg acc  pos acc   note
 * baseline  .9       .8
 * 0-0       .8       .7
 * 0-1       1.0      0.0       every prediction neg
 * 0-2       0.0      1.0       every prediction pos
 * 1-1       .9       .8        as the baseline
 * 1-2       .9       .8        as the baseline, one layer more
 * 2-2       .7       .9
 * </pre>
 */
public final class HandRun {
  public static final List<String> LABELS = List.of("neg", "pos");
  static final int LAYERS = 3;

  private HandRun() {}

  public static RunResults results() {
    return results("2025-01-01T00:00:00Z");
  }

  public static RunResults results(String timestamp) {
    Map<String, Object> config = new LinkedHashMap<>();
    config.put("model", "models/tiny/model.onnx");
    config.put("dataset", "data/tiny.tsv");
    config.put("batch_size", 8);
    config.put("spans", List.of("0-0", "all"));
    Map<String, Object> provenance = new LinkedHashMap<>();
    provenance.put("model_sha256", "ab12");
    provenance.put("runtime", Map.of("name", "onnxruntime", "version", "1.29.0"));
    return new RunResults(config, provenance, LABELS, LAYERS, List.of(
        VariantResult.baseline(m(9, 1, 2, 8)),
        new VariantResult(new SkipSpan(0, 0), m(8, 2, 3, 7)),
        new VariantResult(new SkipSpan(0, 1), m(10, 0, 10, 0)),
        new VariantResult(new SkipSpan(0, 2), m(0, 10, 0, 10)),
        new VariantResult(new SkipSpan(1, 1), m(9, 1, 2, 8)),
        new VariantResult(new SkipSpan(1, 2), m(9, 1, 2, 8)),
        new VariantResult(new SkipSpan(2, 2), m(7, 3, 1, 9))), timestamp);
  }

  private static Metrics m(long negNeg, long negPos, long posNeg, long posPos) {
    return new Metrics(LABELS, new long[][] {{negNeg, negPos}, {posNeg, posPos}});
  }
}
