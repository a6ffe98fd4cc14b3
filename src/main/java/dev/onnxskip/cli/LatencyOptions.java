package dev.onnxskip.cli;

import dev.onnxskip.UsageException;
import dev.onnxskip.eval.LatencyRun;
import dev.onnxskip.runtime.ModelTimer;
import java.util.Optional;
import picocli.CommandLine.Option;

/** Whether and how eval measures the speed of every variant; the accessor checks the values. */
public final class LatencyOptions {
  @Option(names = "--latency", description = "Also measure every variant's speed as a standalone model (batch-1 latency at the data's"
      + " median length, throughput at --batch-size) and draw pareto.png.")
  private boolean latency;

  @Option(names = "--latency-warmup", paramLabel = "N", description = "Untimed runs before the timed ones (default: 3).")
  private Integer warmup;

  @Option(names = "--latency-repeats", paramLabel = "N", description = "Timed runs per model and input; the median is reported"
      + " (default: 10).")
  private Integer repeats;

  /** The plan of runs, when --latency is given. */
  Optional<ModelTimer.Plan> plan() {
    if (!latency) {
      if (warmup != null || repeats != null) {
        throw new UsageException("--latency-warmup and --latency-repeats need --latency");
      }
      return Optional.empty();
    }
    int w = warmup == null ? LatencyRun.DEFAULT_PLAN.warmup() : warmup;
    int r = repeats == null ? LatencyRun.DEFAULT_PLAN.repeats() : repeats;
    if (w < 0) {
      throw new UsageException("--latency-warmup must be 0 or more, got " + w);
    }
    if (r < 3) {
      throw new UsageException("--latency-repeats must be at least 3, so that the spread means something, got " + r);
    }
    return Optional.of(new ModelTimer.Plan(w, r));
  }
}
