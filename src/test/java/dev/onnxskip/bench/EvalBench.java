package dev.onnxskip.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.eval.Batch;
import dev.onnxskip.eval.BatchPlan;
import dev.onnxskip.eval.ClassifierSignature;
import dev.onnxskip.eval.DataColumns;
import dev.onnxskip.eval.Device;
import dev.onnxskip.eval.EncodedDataset;
import dev.onnxskip.eval.EvalEngine;
import dev.onnxskip.eval.LabelledData;
import dev.onnxskip.eval.NaiveEngine;
import dev.onnxskip.eval.Runtime;
import dev.onnxskip.eval.SharedPrefixEngine;
import dev.onnxskip.eval.TextEncoder;
import dev.onnxskip.eval.TokenFeeds;
import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.layout.LayoutDetector;
import dev.onnxskip.probe.HeadWriter;
import dev.onnxskip.probe.Pooling;
import dev.onnxskip.rewrite.SkipSpan;
import dev.onnxskip.testing.SyntheticBert;
import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

/**
 * {@code make bench}: the eval engines side by side on one machine in one run. For the real MiniLM
 * (six layers, with a random mean-pool head) and a synthetic twelve-layer model of the same width,
 * it times the baseline pass alone, all spans with the naive engine and all spans with the shared
 * engine, and sets the ratios beside the block-evaluation counts; then the Java pipeline against a
 * bare {@code OrtSession.run} loop, and batch size 1 against the default with and without
 * length-sorted dynamic padding.
 *
 * <p>Every configuration runs in a child JVM of its own, so that each reports its own peak RSS
 * (VmHWM is a process-wide high-water mark) and no session or arena of one configuration helps
 * another. A child warms up (ORT's native library, the JIT, the tokenizer) on a few examples before
 * it starts the clock. Configurations are measured in rounds, so a disturbance from other work on
 * the machine lands on one round, not on one configuration; the table gives the median and the
 * range.
 */
public final class EvalBench {
  private static final Path TOKENIZER = Path.of("models/minilm-l6/tokenizer.json");
  private static final Path DATA = Path.of("data/imdb/dev.jsonl");
  private static final Path MINILM = Path.of("models/minilm-l6/model.onnx");
  private static final int THREADS = 2;
  private static final int BATCH = 32;
  private static final int MAX_LENGTH = 128;
  private static final String RESULT = "EVALBENCH ";
  private static final ObjectMapper JSON = new ObjectMapper();

  private EvalBench() {}

  /** What one child JVM measures. */
  enum Mode {
    /** Tokenizing, then the baseline alone through the naive engine. */
    BASELINE,
    /** The baseline and every span, naive engine. */
    NAIVE_ALL,
    /** The baseline and every span, shared engine. */
    SHARED_ALL,
    /** Candidate: one fan-out graph. */
    FANOUT_ALL,
    /** Candidate: If-chain. */
    CHAIN_ALL,
    /** One session and a loop of OrtSession.run over tensors built beforehand. */
    BARE
  }

  /** One child run: which model, what to do, how to batch. */
  record Config(String model, Mode mode, int examples, int batchSize, boolean dynamic) {
    String label() {
      return mode.name().toLowerCase(Locale.ROOT) + " b" + batchSize + (dynamic ? " sorted" : " fixed");
    }
  }

  /** A child's measurements. */
  record Measured(double tokenizeSeconds, double seconds, double cpuSeconds, double sessionSeconds, long peakRssKiB, double paddedFraction) {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--child")) {
      child(args);
      return;
    }
    int rounds = Integer.getInteger("bench.rounds", 3);
    int examples6 = Integer.getInteger("bench.examples", 256);
    int examples12 = Integer.getInteger("bench.examples12", 64);
    Path tmp = Files.createTempDirectory("onnx-skip-evalbench");
    try {
      Path minilm = tmp.resolve("minilm-l6-head.onnx");
      ModelIO.save(withRandomHead(ModelIO.load(MINILM)).proto(), minilm);
      Path synthetic = tmp.resolve("synthetic-l12.onnx");
      ModelIO.save(SyntheticBert.build(SyntheticBert.Spec.tiny(12).withHidden(384).withHeads(12).withIntermediate(1536)
          .withVocab(30522).withMaxPositions(512).withHead(SyntheticBert.Head.MEAN_POOL_CLASSIFIER, 2)), synthetic);
      System.out.printf("%neval --spans all, side by side: %d cores, %d intra-op threads, ONNX Runtime %s, %s%n",
          java.lang.Runtime.getRuntime().availableProcessors(), THREADS, Runtime.ortVersion(), cpuName());
      table("models/minilm-l6 + random mean-pool head", minilm, 6, examples6, rounds, tmp);
      table("synthetic BERT, hidden 384, random weights", synthetic, 12, examples12, rounds, tmp);
    } finally {
      RewriteBench.deleteTree(tmp);
    }
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

  private static void table(String title, Path model, int layers, int examples, int rounds, Path tmp) throws Exception {
    Config baseline = new Config(model.toString(), Mode.BASELINE, examples, BATCH, true);
    Config naive = new Config(model.toString(), Mode.NAIVE_ALL, examples, BATCH, true);
    Config shared = new Config(model.toString(), Mode.SHARED_ALL, examples, BATCH, true);
    Config bare = new Config(model.toString(), Mode.BARE, examples, BATCH, true);
    Config baselineFixed = new Config(model.toString(), Mode.BASELINE, examples, BATCH, false);
    Config single = new Config(model.toString(), Mode.BASELINE, examples, 1, true);
    Config singleFixed = new Config(model.toString(), Mode.BASELINE, examples, 1, false);
    List<Config> configs = List.of(baseline, naive, shared, bare, baselineFixed, single, singleFixed);
    Map<Config, List<Measured>> runs = new LinkedHashMap<>();
    configs.forEach(c -> runs.put(c, new ArrayList<>()));
    Path naiveLogits = tmp.resolve("naive-" + layers + ".json");
    Path sharedLogits = tmp.resolve("shared-" + layers + ".json");
    for (int r = 0; r < rounds; r++) {
      for (Config c : configs) {
        Path logitsOut = c == naive ? naiveLogits : c == shared ? sharedLogits : null;
        runs.get(c).add(spawn(c, logitsOut));
      }
    }
    int variants = 1 + layers * (layers + 1) / 2;
    double theoryNaive = naiveBlockEvaluations(layers) / (double) layers;
    double theoryShared = sharedBlockEvaluations(layers) / (double) layers;
    Stat base = Stat.of(runs.get(baseline), Measured::seconds);
    Stat naiveT = Stat.of(runs.get(naive), Measured::seconds);
    Stat sharedT = Stat.of(runs.get(shared), Measured::seconds);

    System.out.printf("%n== %s: L=%d, %d IMDB dev examples, max length %d, batch %d, %d variants, median [min-max] of %d rounds ==%n",
        title, layers, examples, MAX_LENGTH, BATCH, variants, rounds);
    System.out.printf("%-34s %22s %12s %10s %10s %12s%n", "", "seconds", "examples/s", "x (1)", "theory", "peak RSS MiB");
    row("(1) baseline pass", base, examples, 1, base.median, 1.0, runs.get(baseline));
    row("(2) all spans, naive engine", naiveT, examples, variants, base.median, theoryNaive, runs.get(naive));
    row("(3) all spans, shared engine", sharedT, examples, variants, base.median, theoryShared, runs.get(shared));
    System.out.printf("    examples/s counts every (example, variant) pair; theory counts block evaluations only%n");
    double speedup = naiveT.median / sharedT.median;
    double target = layers >= 12 ? 1.8 : 1.6;
    System.out.printf("    naive / shared: %.2fx (theory %.2fx; target >= %.1fx: %s)%n", speedup, theoryNaive / theoryShared, target,
        speedup >= target ? "met" : "NOT met");
    double bound = (sharedT.median / base.median) / theoryShared;
    System.out.printf("    shared / (theory x baseline): %.3f (target <= 1.15: %s)%n", bound, bound <= 1.15 ? "met" : "NOT met");
    System.out.printf("    naive vs shared: %s%n", compareLogits(naiveLogits, sharedLogits));

    Stat pipeline = Stat.of(runs.get(baseline), m -> m.tokenizeSeconds() + m.seconds());
    Stat bareT = Stat.of(runs.get(bare), Measured::seconds);
    System.out.printf("(6) baseline throughput, one session each (its creation included):%n");
    System.out.printf("    Java pipeline (tokenize %.2fs + batches + tensors + bookkeeping): %7.2f ex/s  %s s%n",
        Stat.of(runs.get(baseline), Measured::tokenizeSeconds).median, examples / pipeline.median, pipeline);
    System.out.printf("    bare OrtSession.run loop over pre-built tensors:                %7.2f ex/s  %s s%n", examples / bareT.median, bareT);
    System.out.printf("    pipeline overhead: %.1f%% (session creation %.2fs in both)%n",
        100 * (pipeline.median / bareT.median - 1), Stat.of(runs.get(bare), Measured::sessionSeconds).median);
    System.out.printf("(7) baseline pass by batch size and padding:%n");
    System.out.printf("    %-44s %22s %12s %10s%n", "", "seconds", "examples/s", "padding");
    for (Config c : List.of(single, singleFixed, baseline, baselineFixed)) {
      Stat s = Stat.of(runs.get(c), Measured::seconds);
      System.out.printf("    %-44s %22s %12.2f %9.1f%%%n", "batch " + c.batchSize() + (c.dynamic()
          ? ", sorted by length, padded per batch" : ", data order, padded to max length"),
          s, examples / s.median, 100 * runs.get(c).get(0).paddedFraction());
    }
  }

  private static void row(String name, Stat s, int examples, int variants, double baseline, double theory, List<Measured> runs) {
    long rss = runs.stream().mapToLong(Measured::peakRssKiB).max().orElse(0);
    System.out.printf("%-34s %22s %12.2f %10.2f %10.2f %12d%n", name, s, examples * (double) variants / s.median,
        s.median / baseline, theory, rss >> 10);
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

  /** Median and range of a measurement over rounds. */
  record Stat(double median, double min, double max) {
    static Stat of(List<Measured> runs, java.util.function.ToDoubleFunction<Measured> f) {
      double[] v = runs.stream().mapToDouble(f).sorted().toArray();
      double median = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
      return new Stat(median, v[0], v[v.length - 1]);
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT, "%.2f [%.2f-%.2f]", median, min, max);
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
      boolean same = true;
      for (int i = 0; i < x.size(); i++) {
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

  private static Measured spawn(Config c, Path logitsOut) throws IOException, InterruptedException, URISyntaxException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx3g", "-Dai.djl.offline=true", "-cp", classpath(), EvalBench.class.getName(), "--child",
        c.model(), c.mode().name(), Integer.toString(c.examples()), Integer.toString(c.batchSize()), Boolean.toString(c.dynamic()),
        logitsOut == null ? "-" : logitsOut.toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
    pb.environment().put("OPT_OUT_TRACKING", "true");
    System.err.printf("  measuring %s (%s) ...%n", c.label(), Path.of(c.model()).getFileName());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException("bench child failed for " + c + ":\n" + out);
    }
    String line = out.lines().filter(l -> l.startsWith(RESULT)).findFirst()
        .orElseThrow(() -> new IllegalStateException("bench child printed no result for " + c + ":\n" + out));
    return JSON.readValue(line.substring(RESULT.length()), Measured.class);
  }

  /** The classpath this JVM runs on, also when Maven's exec:java loads it through its own class loader. */
  private static String classpath() throws URISyntaxException {
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

  private static void child(String[] args) throws Exception {
    Config c = new Config(args[1], Mode.valueOf(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]), Boolean.parseBoolean(args[5]));
    Optional<Path> logitsOut = args[6].equals("-") ? Optional.empty() : Optional.of(Path.of(args[6]));
    LabelledData all = LabelledData.read(DATA, DataColumns.DEFAULT);
    LabelledData data = new LabelledData(all.file(), all.format(), all.examples().subList(0, c.examples()));
    LabelledData warmData = new LabelledData(all.file(), all.format(), all.examples().subList(0, 4));
    OnnxModel model = ModelIO.load(Path.of(c.model()));
    EncoderLayout layout = LayoutDetector.detect(model);
    ClassifierSignature signature = ClassifierSignature.of(model, Optional.empty());
    Runtime runtime = Runtime.open(Device.CPU, THREADS);
    List<Optional<SkipSpan>> baselineOnly = List.of(Optional.empty());

    EncodedDataset encoded;
    double tokenizeSeconds;
    try (TextEncoder encoder = TextEncoder.open(TOKENIZER, MAX_LENGTH)) {
      // Warm-up: the tokenizer, ORT's native library and environment, the JIT on the run path.
      EncodedDataset warm = encoder.encode(warmData);
      new NaiveEngine(model, layout, signature, runtime, BatchPlan.of(warm, 4), "bench").run(baselineOnly, Set.of(), (s, r, l) -> {}, n -> {});
      long t0 = System.nanoTime();
      encoded = encoder.encode(data);
      tokenizeSeconds = (System.nanoTime() - t0) / 1e9;
    }
    BatchPlan plan = BatchPlan.of(encoded, c.batchSize(), c.dynamic() ? BatchPlan.Order.LONGEST_FIRST : BatchPlan.Order.DATASET,
        c.dynamic() ? BatchPlan.Padding.LONGEST_IN_BATCH : BatchPlan.Padding.MAX_LENGTH);
    double padded = 1 - encoded.tokenCount() / (double) plan.paddedTokenCount();

    List<Optional<SkipSpan>> everything = new ArrayList<>(baselineOnly);
    SkipSpan.all(layout.layers()).forEach(s -> everything.add(Optional.of(s)));
    Map<Optional<SkipSpan>, float[][]> logits = new LinkedHashMap<>();
    EvalEngine.Sink sink = (span, rows, values) -> {
      float[][] target = logits.computeIfAbsent(span, s -> new float[c.examples()][]);
      for (int i = 0; i < rows.length; i++) {
        target[rows[i]] = values[i];
      }
    };
    double sessionSeconds = 0;
    double cpu0 = processCpuSeconds();
    long t0 = System.nanoTime();
    switch (c.mode()) {
      case BASELINE -> new NaiveEngine(model, layout, signature, runtime, plan, "bench").run(baselineOnly, Set.of(), sink, n -> {});
      case NAIVE_ALL -> new NaiveEngine(model, layout, signature, runtime, plan, "bench").run(everything, Set.of(), sink, n -> {});
      case SHARED_ALL -> {
        try (SharedPrefixEngine engine = new SharedPrefixEngine(model, layout, signature, runtime, plan)) {
          engine.run(everything, Set.of(), sink, n -> {});
        }
      }
      case FANOUT_ALL -> new FanOutPrototype(model, layout, signature, runtime, plan, Integer.getInteger("fanout.copies", 64))
          .run(everything, Set.of(), sink, n -> {});
      case CHAIN_ALL -> {
        try (ChainPrototype engine = new ChainPrototype(model, layout, signature, runtime, plan, Integer.getInteger("onnxskip.stackTokens", 4096))) {
          engine.run(everything, Set.of(), sink, n -> {});
        }
      }
      case BARE -> {
        // The tensors are built before the clock starts, so this mode times itself.
        double[] times = bareLoop(model, signature, runtime, plan);
        sessionSeconds = times[0];
        t0 = System.nanoTime() - (long) (times[1] * 1e9);
      }
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    double cpuSeconds = processCpuSeconds() - cpu0;
    if (logitsOut.isPresent()) {
      Map<String, float[][]> named = new LinkedHashMap<>();
      logits.forEach((span, v) -> named.put(span.map(SkipSpan::toString).orElse("baseline"), v));
      JSON.writeValue(logitsOut.get().toFile(), named);
    }
    System.out.println(RESULT + JSON.writeValueAsString(new Measured(tokenizeSeconds, seconds, cpuSeconds, sessionSeconds, peakRssKiB(), padded)));
  }

  /**
   * Creates one session and runs it over every batch, the input tensors built beforehand: the
   * floor of what any Java pipeline can reach. Returns the seconds of session creation and of
   * the whole (creation and loop).
   */
  private static double[] bareLoop(OnnxModel model, ClassifierSignature signature, Runtime runtime, BatchPlan plan) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    List<Map<String, OnnxTensor>> feeds = new ArrayList<>();
    Set<String> names = new java.util.HashSet<>();
    signature.inputs().forEach(i -> names.add(i.name()));
    for (Batch b : plan) {
      feeds.add(TokenFeeds.create(signature.inputs(), names, b, 1));
    }
    long t0 = System.nanoTime();
    byte[] bytes = ExternalData.inline(model).proto().toByteArray();
    double session;
    try (OrtSession.SessionOptions opts = runtime.sessionOptions(); OrtSession s = env.createSession(bytes, opts)) {
      session = (System.nanoTime() - t0) / 1e9;
      for (Map<String, OnnxTensor> f : feeds) {
        try (OrtSession.Result r = s.run(f)) {
          float[][] out = (float[][]) r.get(0).getValue();
          if (out.length == 0) {
            throw new IllegalStateException("no logits");
          }
        }
      }
    }
    double total = (System.nanoTime() - t0) / 1e9;
    feeds.forEach(f -> f.values().forEach(OnnxTensor::close));
    return new double[] {session, total};
  }

  /** CPU time of this process, all threads, native ones included. */
  static double processCpuSeconds() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
  }

  /** The peak resident set of this process so far, from /proc/self/status (Linux). */
  static long peakRssKiB() throws IOException {
    return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmHWM:"))
        .map(l -> Long.parseLong(l.replaceAll("[^0-9]", ""))).findFirst().orElse(-1L);
  }
}
