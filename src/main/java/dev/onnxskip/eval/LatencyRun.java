package dev.onnxskip.eval;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.onnxskip.data.Batch;
import dev.onnxskip.data.BatchPlan;
import dev.onnxskip.data.EncodedDataset;
import dev.onnxskip.data.Encoding;
import dev.onnxskip.data.LabelledData;
import dev.onnxskip.data.TextEncoder;
import dev.onnxskip.graph.Digests;
import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.graph.TensorTypes;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.layout.LayoutDetector;
import dev.onnxskip.rewrite.SkipRewriter;
import dev.onnxskip.rewrite.SkipSpan;
import dev.onnxskip.rewrite.Variant;
import dev.onnxskip.runtime.ClassifierSignature;
import dev.onnxskip.runtime.ModelTimer;
import dev.onnxskip.runtime.OrtRuntime;
import dev.onnxskip.runtime.RunTimes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Measures the speed of the baseline and of each skip variant as standalone models: every variant
 * is the model {@code rewrite} writes, in a session of its own, timed at batch 1 on an example of
 * the data's median length, and at the run's batch size on the examples nearest that length.
 */
public final class LatencyRun {

  /** Warm-up and timed runs: a stable median of paired runs, at a cost of some 26 batch passes per variant. */
  public static final ModelTimer.Plan DEFAULT_PLAN = new ModelTimer.Plan(3, 10);

  private LatencyRun() {}

  /**
   * @param variants the baseline and the spans to time, the baseline first
   * @param done hears how many models are timed so far
   */
  public static Latencies measure(EvalConfig cfg, List<Variant> variants, ModelTimer.Plan plan, IntConsumer done) {
    OrtRuntime runtime = OrtRuntime.open(cfg.execution().device(), cfg.execution().threads());
    OnnxModel model = ModelIO.load(cfg.inputs().model());
    EncoderLayout layout = LayoutDetector.detect(model, cfg.reading().boundaries());
    ClassifierSignature signature = ClassifierSignature.of(model, cfg.reading().logitsOutput());
    LabelledData data = LabelledData.read(cfg.inputs().data(), cfg.inputs().columns());
    EncodedDataset encoded;
    try (TextEncoder encoder = TextEncoder.open(cfg.inputs().tokenizer(), cfg.batching().maxLength())) {
      encoder.checkVocabulary(layout.vocabularySize(), cfg.inputs().model().toString());
      encoded = encoder.encode(data);
    }
    encoded.checkFits(layout.maxPositions(), data);
    ClassifierSignature.FixedDims fixed = ClassifierSignature.fixedDims(model);
    int batchSize = Math.toIntExact(fixed.batch().orElse(cfg.batching().batchSize()));
    int single = Math.toIntExact(fixed.batch().orElse(1));
    Batch latencyInput = typical(encoded, single, fixed);
    Batch throughputInput = typical(encoded, batchSize, fixed);
    String sourceSha = Digests.sha256(cfg.inputs().model());

    List<Latencies.VariantLatency> measured = new ArrayList<>();
    try (ModelTimer baseline = ModelTimer.open(model, signature, runtime, "the baseline model")) {
      for (Variant v : variants) {
        OnnxModel standalone = v instanceof SkipSpan s ? SkipRewriter.variant(model, layout, s, sourceSha) : model;
        ModelProto inlined = ExternalData.inline(standalone).proto();
        long parameters = 0;
        for (TensorProto t : inlined.getGraph().getInitializerList()) {
          parameters += TensorTypes.elementCount(t);
        }
        if (v.isBaseline()) {
          measured.add(new Latencies.VariantLatency(v, parameters, inlined.getSerializedSize(), baseline.time(latencyInput, plan),
              baseline.time(throughputInput, plan)));
        } else {
          try (ModelTimer timer = ModelTimer.open(standalone, signature, runtime, "variant skipping layers " + v)) {
            RunTimes[] latency = inTurn(baseline, timer, latencyInput, plan);
            RunTimes[] throughput = inTurn(baseline, timer, throughputInput, plan);
            measured.add(new Latencies.VariantLatency(v, parameters, inlined.getSerializedSize(), latency[1], throughput[1], latency[0],
                throughput[0]));
          }
        }
        done.accept(measured.size());
      }
    }
    Latencies.Settings settings = new Latencies.Settings(runtime.device().toString(), cfg.execution().threads(), plan.warmup(),
        plan.repeats(), latencyInput.seqLen(), throughputInput.batchSize(), throughputInput.seqLen());
    return new Latencies(settings, measured);
  }

  /**
   * Runs the baseline and a variant in turn on the same input, the first of each pair alternating,
   * so that a change in the machine's load between one variant and the next (other work, clock
   * scaling) weighs on both alike and cancels in their ratio.
   *
   * @return the baseline's times, then the variant's
   */
  static RunTimes[] inTurn(ModelTimer baseline, ModelTimer variant, Batch batch, ModelTimer.Plan plan) {
    try (ModelTimer.Input b = baseline.prepare(batch); ModelTimer.Input v = variant.prepare(batch)) {
      for (int i = 0; i < plan.warmup(); i++) {
        b.runMillis();
        v.runMillis();
      }
      double[] base = new double[plan.repeats()];
      double[] own = new double[plan.repeats()];
      for (int i = 0; i < plan.repeats(); i++) {
        if (i % 2 == 0) {
          base[i] = b.runMillis();
          own[i] = v.runMillis();
        } else {
          own[i] = v.runMillis();
          base[i] = b.runMillis();
        }
      }
      return new RunTimes[] {new RunTimes(batch.batchSize(), batch.seqLen(), plan.warmup(), base),
        new RunTimes(batch.batchSize(), batch.seqLen(), plan.warmup(), own)};
    }
  }

  /**
   * A batch of {@code rows} examples whose token counts lie nearest the median of the data (repeated
   * when the data has fewer), padded to their longest, or to a fixed sequence length of the model.
   */
  static Batch typical(EncodedDataset data, int rows, ClassifierSignature.FixedDims fixed) {
    int[] lengths = IntStream.range(0, data.size()).map(data::length).sorted().toArray();
    int median = lengths[(lengths.length - 1) / 2];
    List<Integer> nearest = IntStream.range(0, data.size()).boxed()
        .sorted(Comparator.comparingInt((Integer i) -> Math.abs(data.length(i) - median))).toList();
    List<Encoding> picked = new ArrayList<>(rows);
    for (int r = 0; r < rows; r++) {
      picked.add(data.get(nearest.get(r % nearest.size())));
    }
    EncodedDataset chosen = new EncodedDataset(picked, data.maxLength(), data.padId());
    BatchPlan plan = fixed.sequence().isPresent()
        ? BatchPlan.padded(chosen, rows, BatchPlan.Order.DATASET, Math.toIntExact(fixed.sequence().getAsLong()))
        : BatchPlan.of(chosen, rows, BatchPlan.Order.DATASET, BatchPlan.Padding.LONGEST_IN_BATCH);
    return plan.batch(0);
  }
}
