package dev.onnxskip.eval;

import ai.onnx.proto.OnnxMl.TensorProto;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.onnxskip.AtomicFiles;
import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.ToolVersion;
import dev.onnxskip.UsageException;
import dev.onnxskip.data.BatchPlan;
import dev.onnxskip.data.BatchSource;
import dev.onnxskip.data.EncodedDataset;
import dev.onnxskip.data.LabelSet;
import dev.onnxskip.data.LabelledData;
import dev.onnxskip.data.TextEncoder;
import dev.onnxskip.graph.Digests;
import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.layout.LayoutDetector;
import dev.onnxskip.report.Heatmaps;
import dev.onnxskip.report.ResultsCsv;
import dev.onnxskip.report.ResultsJson;
import dev.onnxskip.rewrite.SkipSpan;
import dev.onnxskip.rewrite.SkipSpans;
import dev.onnxskip.rewrite.Variant;
import dev.onnxskip.runtime.ClassifierSignature;
import dev.onnxskip.runtime.OrtRuntime;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;

/**
 * One evaluation run: the baseline and every requested skip variant over a labelled data set,
 * journaled as it goes, then reported as results.json, results.csv and heatmaps.
 */
public final class EvalRun {

  /** Hears about progress, for a progress bar; all methods may be called from the run's thread only. */
  public interface Listener {
    /** Called once before work starts: the runtime note and the amount of work left. */
    default void start(String runtimeNote, int variantsLeft, long examplesLeft) {}

    default void examples(int count) {}

    default void variantsDone(int done, int total) {}
  }

  /** What a run produced. */
  public record Outcome(RunResults results, List<Path> files, double seconds, String runtimeNote, int resumedVariants) {}

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private EvalRun() {}

  public static Outcome run(EvalConfig cfg, Path outDir, boolean resume, boolean force, boolean savePredictions, Listener listener) {
    if (cfg.batchSize() <= 0) {
      throw new UsageException("--batch-size must be positive, got " + cfg.batchSize());
    }
    if (cfg.maxLength() <= 1) {
      throw new UsageException("--max-length must be at least 2, got " + cfg.maxLength());
    }
    if (!cfg.engine().equals("shared") && !cfg.engine().equals("naive")) {
      throw new UsageException("unknown engine '" + cfg.engine() + "': expected shared or naive");
    }
    // Settings first, so that a bad one fails before a large model is loaded.
    OrtRuntime runtime = OrtRuntime.open(cfg.device(), cfg.threads());
    OnnxModel model = ModelIO.load(cfg.model());
    EncoderLayout layout = LayoutDetector.detect(model, cfg.boundaries());
    ClassifierSignature signature = ClassifierSignature.of(model, cfg.logitsOutput());
    // Reports list spans in layer order, whatever order the user gave them in.
    List<SkipSpan> spans = SkipSpans.parse(cfg.spans(), layout.layers()).stream().sorted().toList();
    LabelledData data = LabelledData.read(cfg.data(), cfg.columns());
    OptionalInt width = signature.logitsWidth() > 0 ? OptionalInt.of((int) signature.logitsWidth()) : OptionalInt.empty();
    LabelSet labels = LabelSet.resolve(cfg.labels(), model.metadata(), cfg.model(), width);
    int[] gold = labels.goldIndices(data);

    EncodedDataset encoded;
    try (TextEncoder encoder = TextEncoder.open(cfg.tokenizer(), cfg.maxLength())) {
      layout.vocabularySize().ifPresent(rows -> checkVocabulary(encoder, rows, cfg));
      encoded = encoder.encode(data);
    }
    encoded.checkFits(layout.maxPositions(), data);
    BatchSource batches = BatchPlan.of(encoded, cfg.batchSize(), cfg.sortByLength() ? BatchPlan.Order.LONGEST_FIRST : BatchPlan.Order.DATASET, BatchPlan.Padding.LONGEST_IN_BATCH);

    String modelSha = Digests.sha256(cfg.model());
    Map<String, String> weightsSha = externalDataDigests(model);
    String dataSha = Digests.sha256(cfg.data());
    String tokenizerSha = Digests.sha256(cfg.tokenizer());
    String runKey = runKey(cfg, modelSha, weightsSha, dataSha, tokenizerSha);

    List<Variant> all = new ArrayList<>();
    all.add(Variant.BASELINE);
    all.addAll(spans);
    int n = data.size();
    long started = System.nanoTime();
    Map<Variant, float[][]> logits = new LinkedHashMap<>();
    all.forEach(s -> logits.put(s, new float[n][]));
    int resumed;
    try (Journal journal = Journal.open(outDir, runKey, resume, force)) {
      if (force) {
        removeEarlierOutputs(outDir);
      }
      for (Journal.Entry e : journal.done()) {
        float[][] target = logits.get(e.variant());
        if (target != null) {
          for (int i = 0; i < e.rows().length; i++) {
            target[e.rows()[i]] = e.logits()[i];
          }
        }
      }
      List<Variant> todo = all.stream().filter(s -> !complete(logits.get(s))).toList();
      resumed = all.size() - todo.size();
      Set<Integer> skipBatches = finishedBatches(batches, todo, logits);
      long examplesLeft = 0;
      for (int b = 0; b < batches.batchCount(); b++) {
        examplesLeft += skipBatches.contains(b) ? 0 : (long) batches.batch(b).batchSize() * todo.size();
      }
      listener.start(runtime.note(), todo.size(), examplesLeft);
      if (!todo.isEmpty()) {
        List<Journal.Entry> pending = new ArrayList<>();
        int[] finished = {resumed};
        EvalEngine.Sink sink = new EvalEngine.Sink() {
          @Override
          public void done(Variant span, int[] rows, float[][] values) {
            float[][] target = logits.get(span);
            for (int i = 0; i < rows.length; i++) {
              target[rows[i]] = values[i];
            }
            pending.add(new Journal.Entry(span, rows, values));
          }

          @Override
          public void flush() {
            journal.append(pending);
            pending.clear();
            int now = (int) all.stream().filter(s -> complete(logits.get(s))).count();
            if (now != finished[0]) {
              finished[0] = now;
              listener.variantsDone(now, all.size());
            }
          }
        };
        runEngine(cfg, model, layout, signature, runtime, batches, modelSha, todo, skipBatches, sink, listener);
      }
    }
    double seconds = (System.nanoTime() - started) / 1e9;

    List<VariantResult> variants = new ArrayList<>();
    for (Variant s : all) {
      int[] predicted = argmax(logits.get(s));
      variants.add(new VariantResult(s, Metrics.of(labels.names(), gold, predicted)));
    }
    Map<String, Object> provenance = new LinkedHashMap<>();
    provenance.put("model_sha256", modelSha);
    if (!weightsSha.isEmpty()) {
      provenance.put("model_external_data_sha256", weightsSha);
    }
    provenance.put("dataset_sha256", dataSha);
    provenance.put("tokenizer_sha256", tokenizerSha);
    provenance.put("examples", n);
    provenance.put("labels_from", labels.origin());
    provenance.put("layout_strategy", layout.strategy());
    provenance.put("onnx_skip_version", ToolVersion.get());
    provenance.put("onnxruntime_version", OrtRuntime.ortVersion());
    provenance.put("device", runtime.device().toString());
    RunResults results = new RunResults(cfg.describe(), provenance, labels.names(), layout.layers(), variants,
        Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
    List<Path> files = new ArrayList<>();
    Path json = outDir.resolve("results.json");
    ResultsJson.write(results, json);
    files.add(json);
    Path csv = outDir.resolve("results.csv");
    ResultsCsv.write(results, csv);
    files.add(csv);
    files.addAll(Heatmaps.write(results, outDir));
    if (savePredictions) {
      Path preds = outDir.resolve("predictions.jsonl");
      writePredictions(preds, data, labels, gold, all, logits);
      files.add(preds);
    }
    Path timing = outDir.resolve("timing.json");
    writeTiming(timing, cfg, runtime, seconds, n, all.size() - resumed);
    files.add(timing);
    return new Outcome(results, files, seconds, runtime.note(), resumed);
  }

  private static void runEngine(EvalConfig cfg, OnnxModel model, EncoderLayout layout, ClassifierSignature signature,
      OrtRuntime runtime, BatchSource batches, String modelSha, List<Variant> todo, Set<Integer> skipBatches,
      EvalEngine.Sink sink, Listener listener) {
    if (cfg.engine().equals("naive")) {
      new NaiveEngine(model, layout, signature, runtime, batches, modelSha).run(todo, skipBatches, sink, listener::examples);
    } else {
      SharedPrefixEngine shared;
      try {
        shared = new SharedPrefixEngine(model, layout, signature, runtime, batches);
      } catch (OnnxSkipException e) {
        // Splitting can fail where a whole variant runs (e.g. a fused op whose side output a later
        // layer reads); the message alone would not tell the user there is another way.
        throw new OnnxSkipException("the shared engine cannot split " + cfg.model() + " into per-layer parts ("
            + e.getMessage() + "); --engine naive evaluates each variant whole", e);
      }
      try (SharedPrefixEngine engine = shared) {
        engine.run(todo, skipBatches, sink, listener::examples);
      }
    }
  }

  /**
   * Deletes what an earlier run in the folder wrote, which --force makes stale: it would sit beside
   * the new run's journal until that run ends, and outlive it where the new run writes no such file
   * (a label the new model lacks, predictions not asked for again).
   */
  private static void removeEarlierOutputs(Path outDir) {
    String earlier = "{results.json,results.csv,timing.json,predictions.jsonl,heatmaps.png,heatmaps.svg,heatmap-*.png,heatmap-*.svg}";
    try (DirectoryStream<Path> files = Files.newDirectoryStream(outDir, earlier)) {
      for (Path file : files) {
        Files.deleteIfExists(file);
      }
    } catch (IOException e) {
      throw new OnnxSkipException("cannot remove the earlier run's outputs in " + outDir + ": " + AtomicFiles.describe(e), e);
    }
  }

  private static void checkVocabulary(TextEncoder encoder, long embeddingRows, EvalConfig cfg) {
    if (encoder.vocabularySize() > embeddingRows) {
      throw new OnnxSkipException(cfg.tokenizer() + ": the tokenizer's vocabulary has " + encoder.vocabularySize()
          + " tokens but the model's embedding table " + cfg.model() + " has only " + embeddingRows
          + " rows; token ids past it would fail at run time (wrong tokenizer for this model?)");
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
    for (TensorProto t : model.proto().getGraph().getInitializerList()) {
      ExternalData.refOf(t).ifPresent(ref ->
          digests.computeIfAbsent(ref.location(), location -> Digests.sha256(model.baseDir().resolve(location))));
    }
    return digests;
  }

  private static String runKey(EvalConfig cfg, String modelSha, Map<String, String> weightsSha, String dataSha, String tokenizerSha) {
    Map<String, Object> key = new LinkedHashMap<>(cfg.describe());
    key.remove("model");
    key.remove("tokenizer");
    key.remove("dataset");
    key.put("model_sha256", modelSha);
    if (!weightsSha.isEmpty()) {
      key.put("model_external_data_sha256", weightsSha);
    }
    key.put("dataset_sha256", dataSha);
    key.put("tokenizer_sha256", tokenizerSha);
    key.put("engine", cfg.engine());
    key.put("device", cfg.device().toString());
    try {
      return Digests.sha256(new ObjectMapper().writeValueAsBytes(key));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("the run key is plain values", e);
    }
  }

  private static void writePredictions(Path file, LabelledData data, LabelSet labels, int[] gold,
      List<Variant> all, Map<Variant, float[][]> logits) {
    ObjectMapper compact = new ObjectMapper();
    Map<Variant, int[]> predicted = new LinkedHashMap<>();
    all.forEach(s -> predicted.put(s, argmax(logits.get(s))));
    AtomicFiles.write(file, out -> {
      for (int i = 0; i < gold.length; i++) {
        ObjectNode line = compact.createObjectNode();
        line.put("index", i);
        line.put("line", data.examples().get(i).line());
        line.put("gold", labels.names().get(gold[i]));
        ObjectNode preds = line.putObject("predicted");
        ObjectNode raw = line.putObject("logits");
        for (Variant s : all) {
          String key = s.name();
          preds.put(key, labels.names().get(predicted.get(s)[i]));
          var arr = raw.putArray(key);
          for (float f : logits.get(s)[i]) {
            arr.add(f);
          }
        }
        out.write(compact.writeValueAsBytes(line));
        out.write('\n');
      }
    });
  }

  private static void writeTiming(Path file, EvalConfig cfg, OrtRuntime runtime, double seconds, int examples, int variantsRun) {
    Map<String, Object> t = new LinkedHashMap<>();
    t.put("engine", cfg.engine());
    t.put("device", runtime.note());
    t.put("threads", cfg.threads());
    t.put("seconds", seconds);
    t.put("variants_run", variantsRun);
    t.put("examples_per_second", seconds > 0 ? examples * (double) variantsRun / seconds : 0);
    try {
      AtomicFiles.writeString(file, JSON.writeValueAsString(t) + "\n");
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("timing is plain values", e);
    }
  }
}
