package dev.onnxskip.bench;

import dev.onnxskip.data.DataColumns;
import dev.onnxskip.eval.EngineKind;
import dev.onnxskip.eval.EvalConfig;
import dev.onnxskip.eval.Latencies;
import dev.onnxskip.eval.LatencyRun;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.rewrite.SkipSpan;
import dev.onnxskip.rewrite.Variant;
import dev.onnxskip.runtime.Device;
import dev.onnxskip.runtime.ModelTimer;
import dev.onnxskip.runtime.OrtRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code make bench}: MiniLM's measured speed-up for each number k of skipped layers (the span 0 to
 * k-1, each run as its standalone model and in turn with the baseline, as {@code eval --latency}
 * does), beside the ideal L/(L-k) of removing k of the L layers' work. The embeddings, the head and
 * the session's fixed cost keep the measured figure below the ideal; how far below is what a
 * depth-pruning engineer needs to know, and what FLOP counts do not say.
 *
 * <p>System properties: {@code bench.examples} (texts of the IMDb dev split whose median length sets
 * the batch-1 input, default 64), {@code bench.repeats} (default 30), {@code bench.warmup}
 * (default 5), {@code bench.threads} (default 0, ONNX Runtime's choice), {@code bench.batch}
 * (default 32), {@code bench.device} (default cpu).
 */
public final class LatencyBench {
  private static final Path MINILM = Path.of("models/minilm-l6/model.onnx");
  private static final Path TOKENIZER = Path.of("models/minilm-l6/tokenizer.json");
  private static final Path DATA = Path.of("data/imdb/dev.jsonl");
  private static final int LAYERS = 6;

  private LatencyBench() {}

  public static void main(String[] args) throws Exception {
    int examples = Integer.getInteger("bench.examples", 64);
    ModelTimer.Plan plan = new ModelTimer.Plan(Integer.getInteger("bench.warmup", 5), Integer.getInteger("bench.repeats", 30));
    int threads = Integer.getInteger("bench.threads", 0);
    int batch = Integer.getInteger("bench.batch", 32);
    Device device = Device.parse(System.getProperty("bench.device", "cpu"));
    Path tmp = Files.createTempDirectory("onnx-skip-latencybench");
    try {
      Path model = tmp.resolve("minilm-l6-head.onnx");
      ModelIO.save(EvalBench.withRandomHead(ModelIO.load(MINILM)).proto(), model);
      Path data = tmp.resolve("dev.jsonl");
      Files.write(data, Files.readAllLines(DATA).subList(0, examples));
      List<Variant> variants = new ArrayList<>(List.of(Variant.BASELINE));
      for (int k = 1; k <= LAYERS; k++) {
        variants.add(new SkipSpan(0, k - 1));
      }
      EvalConfig cfg = new EvalConfig(new EvalConfig.Inputs(model, TOKENIZER, data, DataColumns.DEFAULT), EvalConfig.ModelReading.FROM_MODEL,
          "all", new EvalConfig.Batching(batch, 128, true), new EvalConfig.Execution(device, threads, EngineKind.SHARED));
      long started = System.nanoTime();
      Latencies l = LatencyRun.measure(cfg, variants, plan, done -> {});
      Latencies.Settings s = l.settings();
      System.out.printf("%nlatency of MiniLM-L6 + random head with layers 0..k-1 skipped: %s, %s, ONNX Runtime %s, %d cores%n",
          s.device(), threads == 0 ? "default threads" : threads + " threads", OrtRuntime.ortVersion(),
          java.lang.Runtime.getRuntime().availableProcessors());
      System.out.printf("batch 1 at %d tokens (median of %d IMDb reviews), batch %d at %d tokens; %d warm-up, median of %d runs,"
          + " each variant in turn with the baseline%n%n", s.sequenceLength(), examples, s.batchSize(), s.batchSequenceLength(), s.warmup(),
          s.repeats());
      System.out.println("| k | span | batch-1 ms [IQR] | speed-up | ideal L/(L-k) | of ideal | batch speed-up |");
      System.out.println("|--:|:--|--:|--:|--:|--:|--:|");
      for (Latencies.VariantLatency v : l.variants()) {
        int k = v.variant() instanceof SkipSpan span ? span.length() : 0;
        double ideal = k == LAYERS ? Double.POSITIVE_INFINITY : LAYERS / (double) (LAYERS - k);
        double speedup = l.speedup(v);
        System.out.printf("| %d | %s | %.2f [%.2f-%.2f] | %.2fx | %s | %s | %.2fx |%n", k, v.variant().name(), v.latency().median(),
            v.latency().q1(), v.latency().q3(), speedup, k == LAYERS ? "inf" : String.format("%.2fx", ideal),
            k == 0 || k == LAYERS ? "-" : String.format("%.0f%%", 100 * (speedup - 1) / (ideal - 1)),
            l.throughputSpeedup(v));
      }
      System.out.printf("%n'of ideal': the share of the ideal gain (speed-up - 1) / (L/(L-k) - 1) that was measured; latency bench %.0f s%n",
          (System.nanoTime() - started) / 1e9);
    } finally {
      RewriteBench.deleteTree(tmp);
    }
  }
}
