package dev.onnxskip.eval;

import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.ToolVersion;
import dev.onnxskip.data.BatchPlan;
import dev.onnxskip.data.BatchSource;
import dev.onnxskip.data.EncodedDataset;
import dev.onnxskip.data.Example;
import dev.onnxskip.data.LabelSet;
import dev.onnxskip.data.LabelledData;
import dev.onnxskip.data.TextEncoder;
import dev.onnxskip.graph.Digests;
import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.ClassifierHead;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.layout.LayoutDetector;
import dev.onnxskip.rewrite.ExposedOutputs;
import dev.onnxskip.rewrite.SkipSpan;
import dev.onnxskip.rewrite.SkipSpans;
import dev.onnxskip.rewrite.Variant;
import dev.onnxskip.runtime.ClassifierOutputs;
import dev.onnxskip.runtime.ClassifierSignature;
import dev.onnxskip.runtime.OrtRuntime;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;

/**
 * One evaluation run: the baseline and every requested skip variant over a labelled data set,
 * journaled as it goes. It returns what it found; {@code report/} writes the files.
 */
public final class EvalRun {

  /** Hears about progress, for a progress bar; all methods may be called from the run's thread only. */
  public interface Listener {
    /** Called once before work starts: the runtime note, and how much of the work is left. */
    default void start(String runtimeNote, Work work) {}

    default void examples(int count) {}

    default void variantsDone(int done, int total) {}

    /** News the user should hear as it happens, such as a fallback to the CPU. */
    default void warning(String message) {}

    /**
     * Called when {@code force} has just reset the journal of an earlier run: what that run wrote
     * beside it is stale now, and whoever writes the reports should remove it.
     */
    default void startingOver() {}
  }

  /**
   * What a run produced, for the reports to write.
   *
   * @param resumedVariants variants taken whole from the journal of an earlier run
   */
  public record Outcome(RunResults results, Predictions predictions, Timing timing, int resumedVariants) {}

  /**
   * Every example's gold label and each variant's logits.
   *
   * @param examples the examples in data order, with their line, id and texts
   * @param gold label indices into {@code labels}
   */
  public record Predictions(List<Example> examples, List<String> labels, int[] gold, Map<Variant, float[][]> logits) {

    public int[] predicted(Variant variant) {
      return argmax(logits.get(variant));
    }
  }

  /**
   * The work of a run as it starts, and how much of it an earlier run's journal already held.
   *
   * @param variantsFromJournal variants the journal held whole
   * @param examplesFromJournal examples the journal held of the variants still to run, counted once
   *     per variant
   * @param examplesLeft examples still to run, counted once per variant
   */
  public record Work(int variants, int variantsFromJournal, long examplesFromJournal, long examplesLeft) {
    public boolean resumed() {
      return variantsFromJournal > 0 || examplesFromJournal > 0;
    }
  }

  /**
   * How long the engine took; {@code device} is the runtime's note (what was asked for, what ran).
   *
   * @param seconds the engine's wall time, from opening its journal to its last batch
   * @param phases the whole run's time by phase, which the command adds its start-up and reports to
   */
  public record Timing(String engine, String device, int threads, double seconds, int examples, int variantsRun, PhaseTimes phases) {}

  private EvalRun() {}

  /** What the model, its layout and the data are, once loaded and checked against each other. */
  private record Loaded(OnnxModel model, EncoderLayout layout, ClassifierSignature signature, List<SkipSpan> spans,
      LabelledData data, LabelSet labels, int[] gold, BatchSource batches, ClassifierHead head) {}

  /**
   * The model the engines run, and the features they fetch beside the logits: the linear head's input
   * where a head is to be refit.
   */
  private record EngineModel(OnnxModel model, EvalEngine.Wanted wanted, Findings.Refit refit) {

    static EngineModel of(EvalConfig cfg, Loaded in) {
      return of(cfg, in.model(), in.signature(), in.head());
    }

    static EngineModel of(EvalConfig cfg, OnnxModel model, ClassifierSignature signature, ClassifierHead head) {
      boolean layerStates = cfg.statistics().layerMetrics();
      if (!cfg.statistics().headRefit()) {
        return new EngineModel(model, new EvalEngine.Wanted(Optional.empty(), layerStates),
            Findings.Refit.absent("turned off (--no-head-refit)"));
      }
      if (head instanceof ClassifierHead.Linear linear) {
        return new EngineModel(ExposedOutputs.headFeatures(model, linear, signature.logitsOutput()),
            new EvalEngine.Wanted(Optional.of(linear.features()), layerStates),
            new Findings.Refit(true, "features '" + linear.features() + "', width " + linear.width()));
      }
      return new EngineModel(model, new EvalEngine.Wanted(Optional.empty(), layerStates),
          Findings.Refit.absent(((ClassifierHead.NotLinear) head).reason()));
    }
  }

  /** Digests of every input, which the journal's run key and results.json's provenance are made of. */
  private record InputDigests(String model, Map<String, String> externalData, String data, String tokenizer) {

    /** The digests as results.json's provenance and the run key name them, in that order. */
    Map<String, Object> entries() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("model_sha256", model);
      if (!externalData.isEmpty()) {
        m.put("model_external_data_sha256", externalData);
      }
      m.put("dataset_sha256", data);
      m.put("tokenizer_sha256", tokenizer);
      return m;
    }
  }

  /**
   * Evaluates the baseline and every span of {@code cfg}, journaling logits in {@code outDir} as
   * they come, so that a later run with {@code resume} takes up where this one stopped.
   */
  public static Outcome run(EvalConfig cfg, Path outDir, boolean resume, boolean force, Listener listener) {
    return run(cfg, outDir, resume, force, listener, BUILT_IN);
  }

  /**
   * The same run, with the engine made by {@code engines}: everything but computing the outputs
   * (loading, tokenizing, journaling, resuming, scoring) stays as it is.
   */
  public static Outcome run(EvalConfig cfg, Path outDir, boolean resume, boolean force, Listener listener, EngineFactory engines) {
    PhaseTimes phases = new PhaseTimes();
    long loading = System.nanoTime();
    OrtRuntime runtime = OrtRuntime.open(cfg.execution().device(), cfg.execution().threads());
    runtime.fallback().ifPresent(listener::warning);
    Loaded in;
    InputDigests digests;
    try (BackgroundInputs inputs = BackgroundInputs.start(cfg)) {
      in = load(cfg, listener, inputs, phases);
      phases.add(Phase.MODEL, System.nanoTime() - loading - (long) (phases.seconds(Phase.TOKENIZE) * 1e9));
      long digesting = System.nanoTime();
      BackgroundInputs.FileDigests files = inputs.digests();
      digests = new InputDigests(files.model(), externalDataDigests(in.model()), files.data(), files.tokenizer());
      phases.since(Phase.DIGESTS, digesting);
    }
    List<Variant> all = new ArrayList<>();
    all.add(Variant.BASELINE);
    all.addAll(in.spans());
    EngineModel engineModel = EngineModel.of(cfg, in);
    Map<Variant, float[][]> logits = new LinkedHashMap<>();
    Map<Variant, Map<ClassifierOutputs.Extra, float[][]>> extras = new LinkedHashMap<>();
    for (Variant v : all) {
      logits.put(v, new float[in.data().size()][]);
      extras.put(v, new EnumMap<>(ClassifierOutputs.Extra.class));
    }
    long started = System.nanoTime();
    int resumed = evaluate(cfg, in, engineModel, digests, runtime, outDir, resume, force, all, logits, extras, listener, engines, phases);
    long engineNanos = System.nanoTime() - started;
    if (resumed < all.size()) {
      double inRuns = phases.seconds(Phase.SESSIONS) + phases.seconds(Phase.BASELINE_RUNS) + phases.seconds(Phase.SPAN_RUNS)
          + phases.seconds(Phase.JOURNAL);
      phases.add(Phase.ENGINE_OTHER, engineNanos - (long) (inRuns * 1e9));
    }
    long scoring = System.nanoTime();
    RunResults results = score(cfg, in, engineModel.refit(), digests, runtime, all, logits, extras);
    phases.since(Phase.SCORING, scoring);
    Predictions predictions = new Predictions(in.data().examples(), in.labels().names(), in.gold(), logits);
    Timing timing = new Timing(engines.name(cfg), runtime.note(), cfg.execution().threads(), engineNanos / 1e9, in.data().size(),
        all.size() - resumed, phases);
    return new Outcome(results, predictions, timing, resumed);
  }

  /**
   * The model, its layout and the data, checked against each other; the data and its tokens come
   * from {@code inputs}, which read them meanwhile. {@link Phase#TOKENIZE} is the time spent waiting
   * for the tokens: what their reading adds to the run.
   */
  private static Loaded load(EvalConfig cfg, Listener listener, BackgroundInputs inputs, PhaseTimes phases) {
    OnnxModel model = ModelIO.load(cfg.inputs().model());
    EncoderLayout layout = LayoutDetector.detect(model, cfg.reading().boundaries());
    ClassifierSignature signature = ClassifierSignature.of(model, cfg.reading().logitsOutput());
    // Reports list spans in layer order, whatever order the user gave them in.
    List<SkipSpan> spans = SkipSpans.parse(cfg.spans(), layout.layers()).stream().sorted().toList();
    LabelledData data = inputs.data();
    OptionalInt width = signature.logitsWidth() > 0 ? OptionalInt.of((int) signature.logitsWidth()) : OptionalInt.empty();
    LabelSet labels = LabelSet.resolve(cfg.reading().labels(), cfg.reading().onLabelDifference(), model.metadata(),
        cfg.inputs().model(), width);
    labels.overridden().ifPresent(own -> listener.warning("--labels " + String.join(",", labels.names())
        + " replace the model's id2label (" + String.join(", ", own.names()) + ", from " + own.origin() + ")"));
    int[] gold = labels.goldIndices(data);
    Findings.checkFolds(cfg.statistics(), labels.names(), gold);
    // A variant written with --static-shapes takes batches of one shape only; ONNX Runtime would
    // refuse any other mid-run, after the journal was started.
    ClassifierSignature.FixedDims fixed = ClassifierSignature.fixedDims(model);
    fixed.check(cfg.inputs().model().toString(), cfg.batching().batchSize(), cfg.batching().maxLength(), data.size());
    long tokenizing = System.nanoTime();
    BackgroundInputs.Tokens tokens = inputs.tokens();
    phases.since(Phase.TOKENIZE, tokenizing);
    try (TextEncoder encoder = tokens.encoder()) {
      encoder.checkVocabulary(layout.vocabularySize(), cfg.inputs().model().toString());
    }
    EncodedDataset encoded = tokens.encoded();
    encoded.checkFits(layout.maxPositions(), data);
    BatchPlan.Order order = cfg.batching().sortByLength() ? BatchPlan.Order.LONGEST_FIRST : BatchPlan.Order.DATASET;
    BatchSource batches = fixed.sequence().isPresent()
        ? BatchPlan.padded(encoded, cfg.batching().batchSize(), order, Math.toIntExact(fixed.sequence().getAsLong()))
        : BatchPlan.of(encoded, cfg.batching().batchSize(), order, BatchPlan.Padding.LONGEST_IN_BATCH);
    return new Loaded(model, layout, signature, spans, data, labels, gold, batches, ClassifierHead.of(model, signature.logitsOutput()));
  }

  /**
   * Fills {@code logits} from the journal of an earlier run, then runs the engine on what is left,
   * journaling as it goes.
   *
   * @return how many variants the journal held whole
   */
  private static int evaluate(EvalConfig cfg, Loaded in, EngineModel engineModel, InputDigests digests, OrtRuntime runtime, Path outDir,
      boolean resume, boolean force, List<Variant> all, Map<Variant, float[][]> logits,
      Map<Variant, Map<ClassifierOutputs.Extra, float[][]>> extras, Listener listener, EngineFactory engines, PhaseTimes phases) {
    try (Journal journal = Journal.open(outDir, runKey(cfg, digests), resume, force)) {
      try {
        if (force) {
          listener.startingOver();
        }
        for (Journal.Entry e : journal.done()) {
          if (logits.containsKey(e.variant())) {
            keep(e.variant(), e.rows(), e.outputs(), logits, extras);
          }
        }
        List<Variant> todo = all.stream().filter(v -> !complete(logits.get(v))).toList();
        int resumed = all.size() - todo.size();
        Set<Integer> skipBatches = finishedBatches(in.batches(), todo, logits);
        long examplesLeft = 0;
        for (int b = 0; b < in.batches().batchCount(); b++) {
          examplesLeft += skipBatches.contains(b) ? 0 : (long) in.batches().batch(b).batchSize() * todo.size();
        }
        long examplesFromJournal = 0;
        for (Variant v : todo) {
          examplesFromJournal += Arrays.stream(logits.get(v)).filter(Objects::nonNull).count();
        }
        listener.start(runtime.note(), new Work(all.size(), resumed, examplesFromJournal, examplesLeft));
        if (!todo.isEmpty()) {
          List<Journal.Entry> pending = new ArrayList<>();
          int[] finished = {resumed};
          EvalEngine.Sink sink = new EvalEngine.Sink() {
            @Override
            public void done(Variant variant, int[] rows, ClassifierOutputs outputs) {
              keep(variant, rows, outputs, logits, extras);
              pending.add(new Journal.Entry(variant, rows, outputs));
            }

            @Override
            public void flush() {
              long appending = System.nanoTime();
              journal.append(pending);
              phases.since(Phase.JOURNAL, appending);
              pending.clear();
              int now = (int) all.stream().filter(v -> complete(logits.get(v))).count();
              if (now != finished[0]) {
                finished[0] = now;
                listener.variantsDone(now, all.size());
              }
            }
          };
          runEngine(engines, cfg, new EngineInputs(engineModel.model(), in.layout(), in.signature(), engineModel.wanted(), digests.model()),
              runtime, in.batches(), todo, skipBatches, sink, listener, phases);
        }
        return resumed;
      } catch (RuntimeException | Error e) {
        // A run that fails before finishing anything leaves no journal, nor a folder it made.
        journal.abandon();
        throw e;
      }
    }
  }

  /** Puts one piece of finished work in its rows of the run's logits and extras. */
  private static void keep(Variant variant, int[] rows, ClassifierOutputs outputs, Map<Variant, float[][]> logits,
      Map<Variant, Map<ClassifierOutputs.Extra, float[][]>> extras) {
    float[][] variantLogits = logits.get(variant);
    for (int i = 0; i < rows.length; i++) {
      variantLogits[rows[i]] = outputs.logits()[i];
    }
    outputs.extras().forEach((which, values) -> {
      float[][] target = extras.get(variant).computeIfAbsent(which, w -> new float[variantLogits.length][]);
      for (int i = 0; i < rows.length; i++) {
        target[rows[i]] = values[i];
      }
    });
  }

  /** Every variant's rows of {@code which}, where every row of every variant has it. */
  private static Optional<Map<Variant, float[][]>> complete(Map<Variant, Map<ClassifierOutputs.Extra, float[][]>> extras,
      ClassifierOutputs.Extra which, List<Variant> variants) {
    Map<Variant, float[][]> out = new LinkedHashMap<>();
    for (Variant v : variants) {
      float[][] rows = extras.get(v).get(which);
      if (rows == null || !complete(rows)) {
        return Optional.empty();
      }
      out.put(v, rows);
    }
    return Optional.of(out);
  }

  private static RunResults score(EvalConfig cfg, Loaded in, Findings.Refit refit, InputDigests digests, OrtRuntime runtime,
      List<Variant> all, Map<Variant, float[][]> logits, Map<Variant, Map<ClassifierOutputs.Extra, float[][]>> extras) {
    List<VariantResult> variants = new ArrayList<>();
    for (Variant v : all) {
      variants.add(new VariantResult(v, Metrics.of(in.labels().names(), in.gold(), argmax(logits.get(v)))));
    }
    Map<String, Object> provenance = new LinkedHashMap<>(digests.entries());
    provenance.put("examples", in.data().size());
    provenance.put("labels_from", cfg.inputs().shown(in.labels().origin()));
    provenance.put("layout_strategy", in.layout().strategy());
    provenance.put("onnx_skip_version", ToolVersion.get());
    provenance.put("onnxruntime_version", OrtRuntime.ortVersion());
    provenance.put("device", runtime.device().toString());
    Map<Variant, float[][]> features = complete(extras, ClassifierOutputs.Extra.HEAD_FEATURES, all).orElse(Map.of());
    Findings findings = Findings.of(cfg.statistics(), in.labels().names(), in.gold(), all, logits, features,
        refit.computed() && features.isEmpty() ? Findings.Refit.absent("the head's features are missing") : refit);
    Optional<LayerMetrics> layerMetrics = Optional.empty();
    Optional<Map<Variant, float[][]>> pooled = complete(extras, ClassifierOutputs.Extra.FINAL_POOLED, all);
    Optional<Map<Variant, float[][]>> perExample = complete(extras, ClassifierOutputs.Extra.LAYER_METRICS, List.of(Variant.BASELINE));
    if (cfg.statistics().layerMetrics() && pooled.isPresent() && perExample.isPresent()) {
      Map<Variant, double[]> accuracy = new LinkedHashMap<>();
      for (Findings.VariantFindings v : findings.variants()) {
        accuracy.put(v.variant(), v.groups().stream().mapToDouble(g -> g.accuracy().orElse(Double.NaN)).toArray());
      }
      layerMetrics = Optional.of(LayerMetrics.of(in.labels().names(), in.gold(), in.layout().layers(), all,
          perExample.get().get(Variant.BASELINE), pooled.get(), accuracy));
    }
    return new RunResults(cfg.describe(), provenance, in.labels().names(), in.layout().layers(), variants,
        Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), Optional.of(findings), layerMetrics);
  }

  private static void runEngine(EngineFactory engines, EvalConfig cfg, EngineInputs inputs, OrtRuntime runtime, BatchSource batches,
      List<Variant> todo, Set<Integer> skipBatches, EvalEngine.Sink sink, Listener listener, PhaseTimes phases) {
    long opening = System.nanoTime();
    EvalEngine engine = engines.open(cfg, inputs, runtime, batches);
    phases.since(Phase.SESSIONS, opening);
    EvalEngine.Progress progress = new EvalEngine.Progress() {
      @Override
      public void examples(int count) {
        listener.examples(count);
      }

      @Override
      public void ran(Phase phase, long nanos) {
        phases.add(phase, nanos);
      }
    };
    try (AutoCloseable closing = engine instanceof AutoCloseable c ? c : () -> {}) {
      engine.run(todo, skipBatches, sink, progress);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new OnnxSkipException("closing the " + engines.name(cfg) + " engine failed: " + e.getMessage(), e);
    }
  }

  /** The engines of {@code --engine}, made in this process. */
  private static EvalEngine builtInEngine(EvalConfig cfg, EngineInputs in, OrtRuntime runtime, BatchSource batches) {
    if (cfg.execution().engine() == EngineKind.NAIVE) {
      return new NaiveEngine(in.model(), in.layout(), in.signature(), runtime, batches, in.modelSha256(), in.wanted());
    }
    try {
      return new SharedPrefixEngine(in.model(), in.layout(), in.signature(), runtime, batches, in.wanted());
    } catch (OnnxSkipException e) {
      // Splitting can fail where a whole variant runs (e.g. a fused op whose side output a later
      // layer reads); the message alone would not tell the user there is another way.
      throw new OnnxSkipException("the shared engine cannot split " + cfg.inputs().model() + " into per-layer parts ("
          + e.getMessage() + "); --engine naive evaluates each variant whole", e);
    }
  }

  private static boolean complete(float[][] rows) {
    for (float[] r : rows) {
      if (r == null) {
        return false;
      }
    }
    return true;
  }

  /** Batches whose examples an earlier run already finished under every variant still to do. */
  private static Set<Integer> finishedBatches(BatchSource batches, List<Variant> todo, Map<Variant, float[][]> logits) {
    Set<Integer> done = new HashSet<>();
    for (int b = 0; b < batches.batchCount(); b++) {
      boolean finished = !todo.isEmpty();
      for (int row : batches.batch(b).exampleIndices()) {
        for (Variant s : todo) {
          finished &= logits.get(s)[row] != null;
        }
      }
      if (finished) {
        done.add(b);
      }
    }
    return done;
  }

  /** Predicted label per example: the first of equal maxima, so ties resolve the same way every run. */
  static int[] argmax(float[][] logits) {
    int[] out = new int[logits.length];
    for (int i = 0; i < logits.length; i++) {
      int best = 0;
      for (int j = 1; j < logits[i].length; j++) {
        if (logits[i][j] > logits[i][best]) {
          best = j;
        }
      }
      out[i] = best;
    }
    return out;
  }

  /**
   * Digests of the files holding a model's external weights, by location: the model file's own
   * digest does not change when they do, and a resumed run must not mix two sets of weights.
   */
  private static Map<String, String> externalDataDigests(OnnxModel model) {
    Map<String, String> digests = new TreeMap<>();
    for (String location : ExternalData.locations(model)) {
      digests.put(location, Digests.sha256(model.baseDir().resolve(location)));
    }
    return digests;
  }

  /**
   * What a journal must match to be resumed: the settings without the spans (a resumed run may ask
   * for others, and evaluates only those the journal lacks), and every input's digest.
   */
  private static RunKey runKey(EvalConfig cfg, InputDigests digests) {
    Map<String, Object> key = new LinkedHashMap<>(cfg.describe());
    key.remove("spans");
    // The statistics are computed from the logits afterwards: another alpha need not run them again.
    key.remove("alpha");
    key.remove("bootstrap");
    key.remove("folds");
    key.remove("model");
    key.remove("tokenizer");
    key.remove("dataset");
    key.putAll(digests.entries());
    key.put("engine", cfg.execution().engine().cliName());
    key.put("device", cfg.execution().device().toString());
    return RunKey.of(key);
  }

  // ---- Engines made by the caller, e.g. on a cluster. ----

  /**
   * What an engine runs: the model as the engines see it (the head's features exposed where a head
   * is refit), its layout and signature, and what to fetch beside the logits.
   *
   * @param modelSha256 the source model's digest, which variant files record
   */
  public record EngineInputs(OnnxModel model, EncoderLayout layout, ClassifierSignature signature, EvalEngine.Wanted wanted,
      String modelSha256) {}

  /** Makes the engine of a run; the run closes it afterwards where it is {@link AutoCloseable}. */
  public interface EngineFactory {
    /** The engine as {@code timing.json} names it; results.json does not name it. */
    String name(EvalConfig cfg);

    EvalEngine open(EvalConfig cfg, EngineInputs inputs, OrtRuntime runtime, BatchSource batches);
  }

  /** The engine {@code --engine} names, in this process: what {@link #run(EvalConfig, Path, boolean, boolean, Listener)} uses. */
  public static final EngineFactory BUILT_IN = new EngineFactory() {
    @Override
    public String name(EvalConfig cfg) {
      return cfg.execution().engine().cliName();
    }

    @Override
    public EvalEngine open(EvalConfig cfg, EngineInputs inputs, OrtRuntime runtime, BatchSource batches) {
      return builtInEngine(cfg, inputs, runtime, batches);
    }
  };

  /**
   * Loads what an engine of {@code cfg} runs, as a run does, without the data: for a process that
   * runs engines on batches a run elsewhere sends it.
   */
  public static EngineInputs engineInputs(EvalConfig cfg, String modelSha256) {
    OnnxModel model = ModelIO.load(cfg.inputs().model());
    EncoderLayout layout = LayoutDetector.detect(model, cfg.reading().boundaries());
    ClassifierSignature signature = ClassifierSignature.of(model, cfg.reading().logitsOutput());
    EngineModel engineModel = EngineModel.of(cfg, model, signature, ClassifierHead.of(model, signature.logitsOutput()));
    return new EngineInputs(engineModel.model(), layout, signature, engineModel.wanted(), modelSha256);
  }
}
