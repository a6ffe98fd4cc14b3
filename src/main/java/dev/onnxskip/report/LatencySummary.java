package dev.onnxskip.report;

import dev.onnxskip.eval.Latencies;
import dev.onnxskip.eval.RunResults;
import dev.onnxskip.eval.VariantResult;
import java.util.Locale;
import java.util.Optional;

/**
 * The latency section of the summary: per variant its size, its median batch-1 latency with the
 * spread of the runs, its throughput at the batch size, the speed-ups against the baseline beside the
 * ideal L/(L-k) of removing k of L layers' work, and its accuracies.
 */
public final class LatencySummary {
  private LatencySummary() {}

  public static String markdown(RunResults results, Latencies latencies) {
    Latencies.Settings s = latencies.settings();
    StringBuilder md = new StringBuilder("## Latency\n\n");
    md.append(String.format(Locale.ROOT,
        "Measured on %s with %s: each variant as a standalone model, %d warm-up %s, then the median of %d timed runs"
            + " (the interquartile range in brackets); batch 1 at %d tokens (the data's median), throughput at batch %d of %d tokens."
            + " Each variant ran in turn with the baseline, and its speed-ups are against those paired baseline runs, so they can"
            + " differ from the ratio of this table's times when the machine's load changed between variants."
            + " Ideal: L/(L-k), the speed-up if the skipped layers were all of the work.\n\n",
        s.device(), s.threads() == 0 ? "ONNX Runtime's default threads" : s.threads() + " intra-op threads", s.warmup(),
        s.warmup() == 1 ? "run" : "runs", s.repeats(),
        s.sequenceLength(), s.batchSize(), s.batchSequenceLength()));
    md.append("| variant | parameters | file MiB | batch 1 ms | speed-up | ideal | examples/s | throughput speed-up | accuracy | worst label |\n");
    md.append("|:--|--:|--:|--:|--:|--:|--:|--:|--:|:--|\n");
    int layers = results.layers();
    for (VariantResult v : results.variants()) {
      Optional<Latencies.VariantLatency> measured = latencies.of(v.variant());
      if (measured.isEmpty()) {
        continue;
      }
      Latencies.VariantLatency m = measured.get();
      int skipped = v.isBaseline() ? 0 : v.span().length();
      String ideal = skipped == layers ? "\u221e" : String.format(Locale.ROOT, "%.2f\u00d7", layers / (double) (layers - skipped));
      int worst = ParetoFigure.worstLabel(v);
      md.append(String.format(Locale.ROOT, "| %s | %,d | %.1f | %.2f [%.2f\u2013%.2f] | %.2f\u00d7 | %s | %.1f | %.2f\u00d7 | %.3f | %s %.3f |\n",
          v.name(), m.parameters(), m.fileBytes() / 1048576.0, m.latency().median(), m.latency().q1(), m.latency().q3(),
          latencies.speedup(m), ideal, m.throughput().examplesPerSecond(), latencies.throughputSpeedup(m), v.metrics().accuracy(),
          v.metrics().perLabel().get(worst).label(), v.metrics().perLabel().get(worst).accuracy()));
    }
    md.append("\nSpeed against accuracy, with the Pareto front: [pareto.png](pareto.png)\n");
    return md.toString();
  }
}
