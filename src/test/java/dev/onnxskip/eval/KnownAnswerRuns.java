package dev.onnxskip.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.data.DataColumns;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.report.RunReport;
import dev.onnxskip.rewrite.Variant;
import dev.onnxskip.runtime.Device;
import dev.onnxskip.runtime.RunTimes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Results folders of {@link KnownAnswerModel} on {@link KnownAnswerEvalTest#DATA}, whose accuracies are
 * worked out by hand there, for the tests of what reads a run's results (select).
 */
public final class KnownAnswerRuns {

  /** Where the model, tokenizer and data of a run were written. */
  public record Inputs(Path model, Path tokenizer, Path data) {}

  private KnownAnswerRuns() {}

  /** Writes the model, its tokenizer and the data into {@code dir}. */
  public static Inputs inputs(Path dir) {
    try {
      Files.createDirectories(dir);
      Path model = dir.resolve("known.onnx");
      ModelIO.save(KnownAnswerModel.build().proto(), model);
      Path tokenizer = KnownAnswerModel.TOKENIZER.write(dir.resolve("tokenizer.json"));
      StringBuilder lines = new StringBuilder();
      ObjectMapper json = new ObjectMapper();
      for (String[] row : KnownAnswerEvalTest.DATA) {
        lines.append(json.writeValueAsString(Map.of("text", row[0], "label", row[1]))).append('\n');
      }
      return new Inputs(model, tokenizer, Files.writeString(dir.resolve("data.jsonl"), lines));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static EvalConfig config(Inputs in, String spans) {
    return new EvalConfig(new EvalConfig.Inputs(in.model(), in.tokenizer(), in.data(), DataColumns.DEFAULT),
        EvalConfig.ModelReading.FROM_MODEL, spans, new EvalConfig.Batching(5, 16, true), new EvalConfig.Execution(Device.CPU, 1, EngineKind.SHARED));
  }

  /**
   * Evaluates {@code spans} into {@code out} and writes the run's files, with latencies that follow
   * {@link #idealMillis} when {@code withLatency}: known speed-ups, where measured ones would be noise.
   */
  public static EvalRun.Outcome folder(Inputs in, String spans, Path out, boolean withLatency) {
    EvalRun.Outcome outcome = EvalRun.run(config(in, spans), out, false, false, new EvalRun.Listener() {});
    Optional<Latencies> latencies = withLatency ? Optional.of(syntheticLatencies(outcome.results())) : Optional.empty();
    RunReport.write(outcome, latencies, out, Optional.empty());
    return outcome;
  }

  /**
   * A run time of 2 ms outside the layers and 10 ms spread evenly over them: skipping k of L layers
   * takes {@code 2 + 10 (L - k) / L} ms, a speed-up of {@code 12 / (2 + 10 (L - k) / L)}.
   */
  public static double idealMillis(int layers, int skipped) {
    return 2 + 10.0 * (layers - skipped) / layers;
  }

  private static double[] runs(double ms) {
    double[] runs = new double[7];
    Arrays.fill(runs, ms);
    return runs;
  }

  static Latencies syntheticLatencies(RunResults results) {
    List<Latencies.VariantLatency> list = new ArrayList<>();
    double[] baseline = runs(idealMillis(results.layers(), 0));
    for (VariantResult v : results.variants()) {
      int skipped = v.isBaseline() ? 0 : v.span().length();
      double[] runs = runs(idealMillis(results.layers(), skipped));
      Variant variant = v.variant();
      list.add(new Latencies.VariantLatency(variant, 1000 - 100L * skipped, 4000 - 400L * skipped, new RunTimes(1, 3, 2, runs),
          new RunTimes(5, 3, 2, runs), new RunTimes(1, 3, 2, baseline), new RunTimes(5, 3, 2, baseline)));
    }
    return new Latencies(new Latencies.Settings("cpu", 1, 2, 7, 3, 5, 3), list);
  }
}
