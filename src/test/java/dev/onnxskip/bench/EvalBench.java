package dev.onnxskip.bench;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.data.Batch;
import dev.onnxskip.data.BatchPlan;
import dev.onnxskip.data.DataColumns;
import dev.onnxskip.data.EncodedDataset;
import dev.onnxskip.data.LabelSet;
import dev.onnxskip.data.LabelledData;
import dev.onnxskip.data.TextEncoder;
import dev.onnxskip.eval.EvalEngine;
import dev.onnxskip.eval.Findings;
import dev.onnxskip.eval.LayerMetrics;
import dev.onnxskip.eval.NaiveEngine;
import dev.onnxskip.eval.SharedPrefixEngine;
import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.ClassifierHead;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.layout.LayoutDetector;
import dev.onnxskip.rewrite.ExposedOutputs;
import dev.onnxskip.rewrite.HeadWriter;
import dev.onnxskip.rewrite.Pooling;
import dev.onnxskip.rewrite.SkipSpan;
import dev.onnxskip.rewrite.Variant;
import dev.onnxskip.runtime.ClassifierOutputs;
import dev.onnxskip.runtime.ClassifierSignature;
import dev.onnxskip.runtime.Device;
import dev.onnxskip.runtime.OrtRuntime;
import dev.onnxskip.runtime.TokenFeeds;
import dev.onnxskip.runtime.VariantSession;
import dev.onnxskip.runtime.WeightBuffers;
import dev.onnxskip.testing.SyntheticBert;
import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.function.ToDoubleFunction;

/**
 * {@code make bench}: the eval engines side by side on one machine in one run. For the real MiniLM
 * (six layers, with a mean-pool head of fixed random weights) and a synthetic twelve-layer model of
 * the same width, it times one baseline pass over the examples, all spans with the naive engine and
 * all spans with the shared engine, and sets the ratios beside the block-evaluation counts; then
 * the Java pipeline against a bare {@code OrtSession.run} loop, and batch size 1 against the default
 * with and without length-sorted dynamic padding.
 *
 * <p>What is timed: the baseline pass runs an open, warmed-up session over every batch (building
 * the batches and tensors and reading the logits included; tokenizing and opening the session
 * not); an all-spans run is the whole engine (its sessions, rewrites and graph building included),
 * as {@code eval} runs it after tokenizing. So the shared engine is held to a baseline that pays
 * for no setup at all.
 *
 * <p>Each engine run and each set of baseline runs is a child JVM of its own, so that each reports
 * its own peak RSS (VmHWM is a process-wide high-water mark) and no session or arena of one helps
 * another. A child warms up (ORT's native library, the JIT, the tokenizer) on a few examples before
 * it starts a clock, and collects garbage before each. Configurations are measured in rounds; the
 * naive engine, which takes longest, runs in the first {@code bench.naiveRounds} rounds only.
 * Tables give the best round, which the ratios use, and the worst in brackets. The shared engine's
 * child also times a baseline pass right after the engine, and the bound is checked on the median ratio
 * to that paired pass: on a shared machine, processes minutes apart run at speeds that differ by
 * more than the 15% the bound allows.
 *
 * <p>System properties: {@code bench.rounds} (3), {@code bench.naiveRounds} (1),
 * {@code bench.examples} (256, the L=6 table), {@code bench.examples12} (64, the L=12 table).
 */
public final class EvalBench {
  private static final Path TOKENIZER = Path.of("models/minilm-l6/tokenizer.json");
  private static final Path DATA = Path.of("data/imdb/dev.jsonl");
  private static final Path MINILM = Path.of("models/minilm-l6/model.onnx");
  private static final int THREADS = 2;
  private static final int BATCH = 32;
  private static final int MAX_LENGTH = 128;
  private static final int LONG_MAX_LENGTH = 512;
  private static final String RESULT = "EVALBENCH ";
  private static final ObjectMapper JSON = new ObjectMapper();

  private EvalBench() {}

  /** What one child JVM measures. */
  enum Mode {
    /** Baseline passes through one session: the default plan and the batch-size and padding variants, then a bare loop. */
    BASELINES,
    /** The baseline and every span, naive engine. */
    NAIVE,
    /** The baseline and every span, shared engine. */
    SHARED
  }

  /** One timed piece of work: wall and CPU seconds, and the process's peak RSS when it ended. */
  record Measured(double seconds, double cpuSeconds, long peakRssKiB) {}

  /**
   * A child's report.
   *
   * @param measured by the names of {@link #PLANS} and "bare" (BASELINES), or "engine"
   * @param padding the share of padded token positions, by plan name
   */
  record Report(Map<String, Measured> measured, double tokenizeSeconds, double sessionSeconds, Map<String, Double> padding) {}

  /**
   * A way of batching: batch size, max length, and sorted by length and padded per batch, or in
   * data order and padded to max length.
   */
  record Plan(int batchSize, boolean dynamic, int maxLength) {
    String key() {
      return "b" + batchSize + (dynamic ? "-sorted-" : "-fixed-") + maxLength;
    }

    String describe() {
      return "max " + maxLength + ", batch " + batchSize + (dynamic ? ", sorted by length, padded per batch" : ", data order, padded to max length");
    }

    BatchPlan of(EncodedDataset data) {
      return dynamic
          ? BatchPlan.of(data, batchSize, BatchPlan.Order.LONGEST_FIRST, BatchPlan.Padding.LONGEST_IN_BATCH)
          : BatchPlan.of(data, batchSize, BatchPlan.Order.DATASET, BatchPlan.Padding.MAX_LENGTH);
    }
  }

  /**
   * The plan eval uses, first (so its peak RSS is its own), then the others of column (7). At max
   * length 128 most IMDB reviews are cut to the same length, so padding hardly differs; at 512 they
   * are not, and there sorting by length shows what it saves.
   */
  static final List<Plan> PLANS = List.of(new Plan(BATCH, true, MAX_LENGTH), new Plan(BATCH, false, MAX_LENGTH),
      new Plan(1, true, MAX_LENGTH), new Plan(1, false, MAX_LENGTH), new Plan(BATCH, true, LONG_MAX_LENGTH), new Plan(BATCH, false, LONG_MAX_LENGTH));

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--child")) {
      child(Path.of(args[1]), Mode.valueOf(args[2]), Integer.parseInt(args[3]), args[4].equals("-") ? Optional.empty() : Optional.of(Path.of(args[4])));
      return;
    }
    int rounds = Integer.getInteger("bench.rounds", 3);
    int naiveRounds = Math.min(rounds, Integer.getInteger("bench.naiveRounds", 1));
    long started = System.nanoTime();
    Path tmp = Files.createTempDirectory("onnx-skip-evalbench");
    try {
      Path minilm = tmp.resolve("minilm-l6-head.onnx");
      ModelIO.save(withRandomHead(ModelIO.load(MINILM)).proto(), minilm);
      Path synthetic = tmp.resolve("synthetic-l12.onnx");
      ModelIO.save(synthetic12(), synthetic);
      System.out.printf("%neval --spans all, side by side: %d cores (%s), %d intra-op threads, ONNX Runtime %s%n",
          java.lang.Runtime.getRuntime().availableProcessors(), cpuName(), THREADS, OrtRuntime.ortVersion());
      table("models/minilm-l6 + random mean-pool head", minilm, 6, Integer.getInteger("bench.examples", 256), rounds, naiveRounds, tmp);
      table("synthetic BERT, hidden 384, random weights", synthetic, 12, Integer.getInteger("bench.examples12", 64), rounds, naiveRounds, tmp);
      System.out.printf("%nbench wall time %.0f s%n", (System.nanoTime() - started) / 1e9);
    } finally {
      RewriteBench.deleteTree(tmp);
    }
  }

  /** A twelve-layer BERT of MiniLM's width and vocabulary, random weights, with a mean-pool head of two labels. */
  static ModelProto synthetic12() {
    return SyntheticBert.build(SyntheticBert.Spec.tiny(12).withHidden(384).withHeads(12).withIntermediate(1536)
        .withVocab(30522).withMaxPositions(512).withHead(SyntheticBert.Head.MEAN_POOL_CLASSIFIER, 2));
  }

  /** The MiniLM encoder with a mean-pool linear head of fixed random weights: a classifier of the real model's shape. */
  static OnnxModel withRandomHead(OnnxModel encoder) {
    int hidden = 384;
    Random random = new Random(42);
    float[] weights = new float[hidden * 2];
    for (int i = 0; i < weights.length; i++) {
      weights[i] = (float) (random.nextGaussian() * 0.1);
    }
    return HeadWriter.append(encoder, "last_hidden_state", "attention_mask", Pooling.MEAN, weights, new float[] {0.05f, -0.05f}, List.of("neg", "pos"));
  }

  private static void table(String title, Path model, int layers, int examples, int rounds, int naiveRounds, Path tmp) throws Exception {
    List<Report> baselines = new ArrayList<>();
    List<Report> naive = new ArrayList<>();
    List<Report> shared = new ArrayList<>();
    Path naiveLogits = tmp.resolve("naive-" + layers + ".json");
    Path sharedLogits = tmp.resolve("shared-" + layers + ".json");
    for (int r = 0; r < rounds; r++) {
      baselines.add(spawn(model, Mode.BASELINES, examples, null));
      if (r < naiveRounds) {
        naive.add(spawn(model, Mode.NAIVE, examples, naiveLogits));
      }
      shared.add(spawn(model, Mode.SHARED, examples, sharedLogits));
    }
    int variants = 1 + layers * (layers + 1) / 2;
    double theoryNaive = naiveBlockEvaluations(layers) / (double) layers;
    double theoryShared = sharedBlockEvaluations(layers) / (double) layers;
    String plan = PLANS.get(0).key();
    List<Measured> base = measured(baselines, plan);
    List<Measured> naiveRuns = measured(naive, "engine");
    List<Measured> sharedRuns = measured(shared, "engine");
    double baseBest = best(base).seconds();

    System.out.printf("%n== %s: L=%d, %d IMDB dev examples, max length %d, batch %d, %d variants; best (worst) of %d round(s), naive %d ==%n",
        title, layers, examples, MAX_LENGTH, BATCH, variants, rounds, naiveRounds);
    System.out.printf("%-31s %17s %7s %11s %7s %7s %9s%n", "", "wall s", "cpu s", "examples/s", "x (1)", "theory", "peak RSS");
    row("(1) baseline pass", base, baseBest, examples, 1, 1.0);
    row("(2) all spans, naive engine", naiveRuns, baseBest, examples, variants, theoryNaive);
    row("(3) all spans, shared engine", sharedRuns, baseBest, examples, variants, theoryShared);
    System.out.printf("    examples/s counts (example, variant) pairs; theory counts block evaluations (embeddings and head excluded);%n"
        + "    the engines' times include their setup (shared: %.2f s to build its graph and open its sessions)%n",
        Stat.of(shared, Report::sessionSeconds).best());
    double speedup = best(naiveRuns).seconds() / best(sharedRuns).seconds();
    double target = layers >= 12 ? 1.8 : 1.6;
    System.out.printf("    naive / shared: %.2f (theory %.2f; target >= %.1f: %s)%n", speedup, theoryNaive / theoryShared, target,
        speedup >= target ? "met" : "NOT met");
    double bound = best(sharedRuns).seconds() / baseBest / theoryShared;
    System.out.printf("    shared / (theory x baseline pass), best rounds of separate processes: %.3f%n", bound);
    double[] paired = shared.stream()
        .mapToDouble(r -> r.measured().get("engine").seconds() / r.measured().get("paired").seconds() / theoryShared).sorted().toArray();
    double pairedMedian = paired[paired.length / 2];
    System.out.printf("    shared / (theory x baseline pass timed in the same process right after): %s; median %.3f (target <= 1.15: %s)%n",
        Arrays.stream(paired).mapToObj(v -> String.format(Locale.ROOT, "%.3f", v)).toList(), pairedMedian, pairedMedian <= 1.15 ? "met" : "NOT met");
    System.out.printf("    naive vs shared: %s%n", compareLogits(naiveLogits, sharedLogits));
    double[] statistics = shared.stream()
        .mapToDouble(r -> r.measured().get("findings").seconds() / r.measured().get("engine").seconds()).sorted().toArray();
    double statisticsMedian = statistics[statistics.length / 2];
    System.out.printf("    statistics (intervals, tests, bootstrap %d, AUROC, recalibration) / shared engine, same process: %s;"
        + " median %.3f (target <= 0.05: %s)%n", Findings.Settings.DEFAULT.bootstrap(),
        Arrays.stream(statistics).mapToObj(v -> String.format(Locale.ROOT, "%.3f", v)).toList(), statisticsMedian,
        statisticsMedian <= 0.05 ? "met" : "NOT met");
    double[] refit = shared.stream()
        .mapToDouble(r -> (r.measured().get("engine_features").seconds() - r.measured().get("engine_plain").seconds()
            + r.measured().get("findings_refit").seconds() - r.measured().get("findings").seconds()) / r.measured().get("engine_plain").seconds())
        .sorted().toArray();
    double refitMedian = refit[refit.length / 2];
    double[] layerMetrics = shared.stream()
        .mapToDouble(r -> (r.measured().get("engine_layer_metrics").seconds() - r.measured().get("engine_plain").seconds()
            + r.measured().get("layer_metrics").seconds()) / r.measured().get("engine_plain").seconds())
        .sorted().toArray();
    double layerMetricsMedian = layerMetrics[layerMetrics.length / 2];
    System.out.printf("    head refit (features fetched by the engine, then liblinear per variant and fold) / a warm shared engine run"
        + " between the two, same process: %s;"
        + " median %.3f (target <= 0.15: %s)%n", Arrays.stream(refit).mapToObj(v -> String.format(Locale.ROOT, "%.3f", v)).toList(),
        refitMedian, refitMedian <= 0.15 ? "met" : "NOT met");
    System.out.printf("    layer metrics (states handed to the metrics, pooled final states fetched, aggregation) / the same warm shared"
        + " engine run, same process: %s;"
        + " median %.3f (target <= 0.10: %s)%n", Arrays.stream(layerMetrics).mapToObj(v -> String.format(Locale.ROOT, "%.3f", v)).toList(),
        layerMetricsMedian, layerMetricsMedian <= 0.10 ? "met" : "NOT met");

    List<Double> pipeline = new ArrayList<>();
    for (Report r : baselines) {
      pipeline.add(r.tokenizeSeconds() + r.measured().get(plan).seconds());
    }
    Stat pipelineT = Stat.of(pipeline, Double::doubleValue);
    Stat bareT = Stat.of(measured(baselines, "bare"), Measured::seconds);
    System.out.printf("(6) baseline throughput, session open and warm (opening it took %.2f s):%n", Stat.of(baselines, Report::sessionSeconds).best());
    System.out.printf("    %-68s %17s %8.2f ex/s%n", String.format(Locale.ROOT, "Java pipeline: tokenize (%.2f s), batches, tensors, logits",
        Stat.of(baselines, Report::tokenizeSeconds).best()), pipelineT, examples / pipelineT.best());
    System.out.printf("    %-68s %17s %8.2f ex/s%n", "bare OrtSession.run loop over the same batches, tensors built beforehand", bareT, examples / bareT.best());
    System.out.printf("    pipeline / bare: %.3f%n", pipelineT.best() / bareT.best());
    System.out.printf("(7) baseline pass by batch size and padding:%n");
    System.out.printf("    %-59s %17s %11s %8s %9s%n", "", "wall s", "examples/s", "padding", "peak RSS");
    for (Plan p : List.of(PLANS.get(2), PLANS.get(3), PLANS.get(0), PLANS.get(1), PLANS.get(4), PLANS.get(5))) {
      List<Measured> runs = measured(baselines, p.key());
      Stat t = Stat.of(runs, Measured::seconds);
      System.out.printf("    %-59s %17s %11.2f %7.1f%% %s%n", p.describe(), t, examples / t.best(),
          100 * baselines.get(0).padding().get(p.key()), p == PLANS.get(0) ? String.format(Locale.ROOT, "%5d MiB", peakMiB(runs)) : "");
    }
    for (int i = 0; i < PLANS.size(); i += 2) {
      double fixed = best(measured(baselines, PLANS.get(i + 1).key())).seconds();
      double sorted = best(measured(baselines, PLANS.get(i).key())).seconds();
      System.out.printf("    max %d, batch %d: fixed padding / sorted dynamic padding %.2f (padding %.1f%% vs %.1f%%; sorted faster: %s)%n",
          PLANS.get(i).maxLength(), PLANS.get(i).batchSize(), fixed / sorted, 100 * baselines.get(0).padding().get(PLANS.get(i + 1).key()),
          100 * baselines.get(0).padding().get(PLANS.get(i).key()), sorted < fixed ? "yes" : "no");
    }
  }

  private static List<Measured> measured(List<Report> reports, String key) {
    return reports.stream().map(r -> r.measured().get(key)).toList();
  }

  /**
   * The fastest of the rounds. Other work on the machine can only slow a run down, so the best
   * round is the closest to what the code itself costs; the worst shows how noisy the machine was.
   */
  private static Measured best(List<Measured> runs) {
    return runs.stream().min(java.util.Comparator.comparingDouble(Measured::seconds)).orElseThrow();
  }

  private static void row(String name, List<Measured> runs, double baseline, int examples, int variants, double theory) {
    Measured best = best(runs);
    System.out.printf("%-31s %17s %7.1f %11.2f %7.2f %7.2f %5d MiB%n", name, Stat.of(runs, Measured::seconds), best.cpuSeconds(),
        examples * (double) variants / best.seconds(), best.seconds() / baseline, theory, peakMiB(runs));
  }

  private static long peakMiB(List<Measured> runs) {
    return runs.stream().mapToLong(Measured::peakRssKiB).max().orElse(0) >> 10;
  }

  /** Block evaluations per example of the naive engine: the baseline's L plus L - length per span. */
  static long naiveBlockEvaluations(int layers) {
    long total = layers;
    for (SkipSpan s : SkipSpan.all(layers)) {
      total += layers - (s.end() - s.start() + 1);
    }
    return total;
  }

  /** Block evaluations per example with each prefix state computed once: L + Σ_E (E+1)(L-1-E). */
  static long sharedBlockEvaluations(int layers) {
    long total = layers;
    for (int e = 0; e < layers; e++) {
      total += (long) (e + 1) * (layers - 1 - e);
    }
    return total;
  }

  /** The best (lowest) and worst of a measurement over rounds. */
  record Stat(double best, double worst) {
    static <T> Stat of(List<T> values, ToDoubleFunction<T> f) {
      double[] v = values.stream().mapToDouble(f).sorted().toArray();
      return new Stat(v[0], v[v.length - 1]);
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT, "%.2f (%.2f)", best, worst);
    }
  }

  private static String compareLogits(Path naive, Path shared) throws IOException {
    JsonNode a = JSON.readTree(naive.toFile());
    JsonNode b = JSON.readTree(shared.toFile());
    double worst = 0;
    int samePredictions = 0;
    int variants = 0;
    for (var it = a.fieldNames(); it.hasNext();) {
      String key = it.next();
      JsonNode x = a.get(key);
      JsonNode y = b.get(key);
      boolean same = y != null && y.size() == x.size();
      for (int i = 0; same && i < x.size(); i++) {
        for (int j = 0; j < x.get(i).size(); j++) {
          worst = Math.max(worst, Math.abs(x.get(i).get(j).asDouble() - y.get(i).get(j).asDouble()));
        }
        same &= argmax(x.get(i)) == argmax(y.get(i));
      }
      variants++;
      samePredictions += same ? 1 : 0;
    }
    return String.format(Locale.ROOT, "max |logit difference| %.2e (must be <= 1e-5), same predictions in %d of %d variants",
        worst, samePredictions, variants);
  }

  private static int argmax(JsonNode row) {
    int best = 0;
    for (int j = 1; j < row.size(); j++) {
      if (row.get(j).asDouble() > row.get(best).asDouble()) {
        best = j;
      }
    }
    return best;
  }

  private static Report spawn(Path model, Mode mode, int examples, Path logitsOut) throws IOException, InterruptedException, URISyntaxException {
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx3g", "-Dai.djl.offline=true", "-cp", classpath(), EvalBench.class.getName(), "--child",
        model.toString(), mode.name(), Integer.toString(examples), logitsOut == null ? "-" : logitsOut.toString());
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("OPT_OUT_TRACKING", "true");
    System.err.printf("  measuring %s on %s ...%n", mode.name().toLowerCase(Locale.ROOT), model.getFileName());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException("bench child " + mode + " on " + model + " failed:\n" + out);
    }
    String line = out.lines().filter(l -> l.startsWith(RESULT)).findFirst()
        .orElseThrow(() -> new IllegalStateException("bench child " + mode + " printed no result:\n" + out));
    return JSON.readValue(line.substring(RESULT.length()), Report.class);
  }

  /** The classpath this JVM runs on, also when Maven's exec:java loads it through its own class loader. */
  static String classpath() throws URISyntaxException {
    if (EvalBench.class.getClassLoader() instanceof URLClassLoader loader && loader.getURLs().length > 1) {
      List<String> parts = new ArrayList<>();
      for (URL u : loader.getURLs()) {
        parts.add(Path.of(u.toURI()).toString());
      }
      return String.join(File.pathSeparator, parts);
    }
    return System.getProperty("java.class.path");
  }

  private static String cpuName() {
    try {
      return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
          .map(l -> l.substring(l.indexOf(':') + 1).strip()).findFirst().orElse("unknown CPU");
    } catch (IOException e) {
      return "unknown CPU";
    }
  }

  // ---- the child side ----

  private static void child(Path modelFile, Mode mode, int examples, Optional<Path> logitsOut) throws Exception {
    LabelledData all = LabelledData.read(DATA, DataColumns.DEFAULT);
    LabelledData data = new LabelledData(all.file(), all.format(), all.examples().subList(0, examples));
    LabelledData warmData = new LabelledData(all.file(), all.format(), all.examples().subList(0, 4));
    OnnxModel model = ModelIO.load(modelFile);
    EncoderLayout layout = LayoutDetector.detect(model);
    ClassifierSignature signature = ClassifierSignature.of(model, Optional.empty());
    OrtRuntime runtime = OrtRuntime.open(Device.CPU, THREADS);
    List<Variant> baselineOnly = List.of(Variant.BASELINE);

    EncodedDataset encoded;
    double tokenizeSeconds;
    try (TextEncoder encoder = TextEncoder.open(TOKENIZER, MAX_LENGTH)) {
      // Warm-up: the tokenizer, ORT's native library and environment, the JIT on the run path.
      EncodedDataset warm = encoder.encode(warmData);
      new NaiveEngine(model, layout, signature, runtime, BatchPlan.of(warm, 4), "bench", EvalEngine.Wanted.LOGITS).run(baselineOnly, Set.of(), (s, r, l) -> {}, n -> {});
      long t0 = System.nanoTime();
      encoded = encoder.encode(data);
      tokenizeSeconds = (System.nanoTime() - t0) / 1e9;
    }
    Map<Integer, EncodedDataset> byMaxLength = new HashMap<>(Map.of(MAX_LENGTH, encoded));
    if (mode == Mode.BASELINES) {
      try (TextEncoder encoder = TextEncoder.open(TOKENIZER, LONG_MAX_LENGTH)) {
        byMaxLength.put(LONG_MAX_LENGTH, encoder.encode(data));
      }
    }
    Map<String, Measured> measured = new LinkedHashMap<>();
    Map<String, Double> padding = new LinkedHashMap<>();
    for (Plan p : PLANS) {
      EncodedDataset d = byMaxLength.get(p.maxLength());
      if (d != null) {
        padding.put(p.key(), 1 - d.tokenCount() / (double) p.of(d).paddedTokenCount());
      }
    }
    double sessionSeconds = 0;
    switch (mode) {
      case BASELINES -> {
        long t0 = System.nanoTime();
        try (WeightBuffers weights = new WeightBuffers();
            VariantSession session = VariantSession.open(model, signature, runtime, "the baseline", weights)) {
          sessionSeconds = (System.nanoTime() - t0) / 1e9;
          // A whole untimed pass: the first one after loading runs beside the JIT and the collector.
          for (Batch b : PLANS.get(0).of(encoded)) {
            session.logits(b);
          }
          for (Plan p : PLANS) {
            BatchPlan batches = p.of(byMaxLength.get(p.maxLength()));
            measured.put(p.key(), time(() -> {
              for (Batch b : batches) {
                session.logits(b);
              }
            }));
            if (p == PLANS.get(0)) {
              // Right after the pipeline's own pass, so that the two are timed a moment apart.
              measured.put("bare", bareLoop(model, signature, runtime, batches));
            }
          }
        }
      }
      case NAIVE, SHARED -> {
        List<Variant> everything = new ArrayList<>(baselineOnly);
        everything.addAll(SkipSpan.all(layout.layers()));
        Map<String, float[][]> logits = new LinkedHashMap<>();
        Map<Variant, float[][]> byVariant = new LinkedHashMap<>();
        EvalEngine.Sink sink = (span, rows, outputs) -> {
          float[][] values = outputs.logits();
          float[][] target = logits.computeIfAbsent(span.name(), s -> new float[examples][]);
          byVariant.put(span, target);
          for (int i = 0; i < rows.length; i++) {
            target[rows[i]] = values[i];
          }
        };
        BatchPlan plan = PLANS.get(0).of(encoded);
        if (mode == Mode.NAIVE) {
          measured.put("engine", time(() -> new NaiveEngine(model, layout, signature, runtime, plan, "bench", EvalEngine.Wanted.LOGITS).run(everything, Set.of(), sink, n -> {})));
        } else {
          System.gc();
          long t0 = System.nanoTime();
          double cpu0 = processCpuSeconds();
          try (SharedPrefixEngine engine = new SharedPrefixEngine(model, layout, signature, runtime, plan, EvalEngine.Wanted.LOGITS)) {
            sessionSeconds = (System.nanoTime() - t0) / 1e9;
            engine.run(everything, Set.of(), sink, n -> {});
          }
          measured.put("engine", new Measured((System.nanoTime() - t0) / 1e9, processCpuSeconds() - cpu0, peakRssKiB()));
        }
        if (logitsOut.isPresent()) {
          JSON.writeValue(logitsOut.get().toFile(), logits);
        }
        if (mode == Mode.SHARED) {
          measured.put("paired", pairedBaseline(model, signature, runtime, plan));
          // The statistics of every variant, as eval computes them after the engine, on the same logits.
          int[] gold = LabelSet.of(List.of("neg", "pos")).goldIndices(data);
          measured.put("findings", time(() -> Findings.of(Findings.Settings.DEFAULT, List.of("neg", "pos"), gold, everything, byVariant)));
          // The head refit: the engine again, fetching the head's features too, then the findings with the refit.
          ClassifierHead.Linear head = (ClassifierHead.Linear) ClassifierHead.of(model, signature.logitsOutput());
          OnnxModel exposed = ExposedOutputs.headFeatures(model, head, signature.logitsOutput());
          Map<Variant, float[][]> features = new LinkedHashMap<>();
          EvalEngine.Sink featureSink = (span, rows, outputs) -> {
            float[][] target = features.computeIfAbsent(span, v -> new float[examples][]);
            for (int i = 0; i < rows.length; i++) {
              target[rows[i]] = outputs.features().orElseThrow()[i];
            }
          };
          measured.put("engine_features", time(() -> {
            try (SharedPrefixEngine engine = new SharedPrefixEngine(exposed, layout, signature, runtime, plan, new EvalEngine.Wanted(Optional.of(head.features()), false))) {
              engine.run(everything, Set.of(), featureSink, n -> {});
            }
          }));
          measured.put("findings_refit", time(() -> Findings.of(Findings.Settings.DEFAULT, List.of("neg", "pos"), gold, everything, byVariant,
              features, new Findings.Refit(true, head.features()))));
          // The reference for both: the plain engine again, between the two it is compared with, so that
          // it runs as warm as they do (the first run of a process pays for more than its work).
          measured.put("engine_plain", time(() -> {
            try (SharedPrefixEngine engine = new SharedPrefixEngine(model, layout, signature, runtime, plan, EvalEngine.Wanted.LOGITS)) {
              engine.run(everything, Set.of(), (span, rows, outputs) -> {}, n -> {});
            }
          }));
          // The layer metrics: the engine again, handing its states to the metrics, then their aggregation.
          Map<Variant, float[][]> pooled = new LinkedHashMap<>();
          float[][] perExample = new float[examples][];
          EvalEngine.Sink statesSink = (span, rows, outputs) -> {
            float[][] target = pooled.computeIfAbsent(span, v -> new float[examples][]);
            for (int i = 0; i < rows.length; i++) {
              target[rows[i]] = outputs.extra(ClassifierOutputs.Extra.FINAL_POOLED).orElseThrow()[i];
              if (span.isBaseline()) {
                perExample[rows[i]] = outputs.extra(ClassifierOutputs.Extra.LAYER_METRICS).orElseThrow()[i];
              }
            }
          };
          measured.put("engine_layer_metrics", time(() -> {
            try (SharedPrefixEngine engine = new SharedPrefixEngine(model, layout, signature, runtime, plan, new EvalEngine.Wanted(Optional.empty(), true))) {
              engine.run(everything, Set.of(), statesSink, n -> {});
            }
          }));
          Findings plain = Findings.of(Findings.Settings.DEFAULT, List.of("neg", "pos"), gold, everything, byVariant);
          Map<Variant, double[]> accuracy = new LinkedHashMap<>();
          plain.variants().forEach(v -> accuracy.put(v.variant(), v.groups().stream().mapToDouble(g -> g.accuracy().orElse(Double.NaN)).toArray()));
          measured.put("layer_metrics", time(() -> LayerMetrics.of(List.of("neg", "pos"), gold, layout.layers(), everything, perExample, pooled, accuracy)));
        }
      }
    }
    System.out.println(RESULT + JSON.writeValueAsString(new Report(measured, tokenizeSeconds, sessionSeconds, padding)));
  }

  /**
   * A baseline pass timed in this process right after the engine, so that a ratio to it compares two
   * runs a moment apart: the machine's speed drifts between child processes minutes apart by more
   * than the effects measured here. The best of two passes after an untimed one, as in BASELINES.
   */
  private static Measured pairedBaseline(OnnxModel model, ClassifierSignature signature, OrtRuntime runtime, BatchPlan plan) throws Exception {
    try (WeightBuffers weights = new WeightBuffers();
        VariantSession session = VariantSession.open(model, signature, runtime, "the baseline", weights)) {
      Work pass = () -> {
        for (Batch b : plan) {
          session.logits(b);
        }
      };
      pass.run();
      Measured first = time(pass);
      Measured second = time(pass);
      return first.seconds() <= second.seconds() ? first : second;
    }
  }

  /** Work to time. */
  @FunctionalInterface
  private interface Work {
    void run() throws Exception;
  }

  private static Measured time(Work work) throws Exception {
    // Garbage from loading and rewriting models is collected here, not on the clock.
    System.gc();
    double cpu0 = processCpuSeconds();
    long t0 = System.nanoTime();
    work.run();
    return new Measured((System.nanoTime() - t0) / 1e9, processCpuSeconds() - cpu0, peakRssKiB());
  }

  /**
   * A session of its own run over every batch, its input tensors built before the clock starts
   * and only the logits asked for, as the pipeline asks, left in native memory: the floor of what
   * any Java pipeline can reach.
   */
  private static Measured bareLoop(OnnxModel model, ClassifierSignature signature, OrtRuntime runtime, BatchPlan plan) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    List<Map<String, OnnxTensor>> feeds = new ArrayList<>();
    Set<String> names = new HashSet<>();
    signature.inputs().forEach(i -> names.add(i.name()));
    for (Batch b : plan) {
      feeds.add(TokenFeeds.create(signature.inputs(), names, b, 1));
    }
    try (OrtSession.SessionOptions opts = runtime.sessionOptions();
        OrtSession session = env.createSession(ExternalData.inline(model).proto().toByteArray(), opts)) {
      session.run(feeds.get(0), Set.of(signature.logitsOutput())).close();
      return time(() -> {
        for (Map<String, OnnxTensor> f : feeds) {
          session.run(f, Set.of(signature.logitsOutput())).close();
        }
      });
    } finally {
      feeds.forEach(f -> f.values().forEach(OnnxTensor::close));
    }
  }

  /** CPU time of this process, all threads, native ones included. */
  static double processCpuSeconds() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
  }

  /** The peak resident set of this process so far, from /proc/self/status (Linux). */
  static long peakRssKiB() throws IOException {
    return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmHWM:"))
        .map(l -> Long.parseLong(l.replaceAll("[^0-9]", ""))).findFirst().orElse(-1L);
  }
}
