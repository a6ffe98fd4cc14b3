package dev.onnxskip.eval;

import dev.onnxskip.data.Batch;
import dev.onnxskip.data.BatchSource;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.rewrite.ExposedOutputs;
import dev.onnxskip.rewrite.SkipRewriter;
import dev.onnxskip.rewrite.SkipSpan;
import dev.onnxskip.rewrite.Variant;
import dev.onnxskip.runtime.ClassifierOutputs;
import dev.onnxskip.runtime.ClassifierSignature;
import dev.onnxskip.runtime.OrtRuntime;
import dev.onnxskip.runtime.VariantSession;
import dev.onnxskip.runtime.WeightBuffers;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The straightforward engine: one full forward pass per variant, each variant its own rewritten
 * model in its own session. It recomputes shared prefixes, so it is kept for checking the fast
 * engine, not for speed.
 */
public final class NaiveEngine implements EvalEngine {
  private final OnnxModel model;
  private final EncoderLayout layout;
  private final ClassifierSignature signature;
  private final OrtRuntime runtime;
  private final BatchSource batches;
  private final String sourceSha256;
  private final Wanted wanted;

  public NaiveEngine(OnnxModel model, EncoderLayout layout, ClassifierSignature signature, OrtRuntime runtime,
      BatchSource batches, String sourceSha256, Wanted wanted) {
    this.model = model;
    this.layout = layout;
    this.signature = signature;
    this.runtime = runtime;
    this.batches = batches;
    this.sourceSha256 = sourceSha256;
    this.wanted = wanted;
  }

  @Override
  public void run(List<Variant> todo, Set<Integer> skipBatches, Sink sink, Progress progress) {
    try (WeightBuffers weights = new WeightBuffers()) {
      for (Variant which : todo) {
        runVariant(which, skipBatches, sink, progress, weights);
      }
    }
  }

  private void runVariant(Variant which, Set<Integer> skipBatches, Sink sink, Progress progress, WeightBuffers weights) {
    long opening = System.nanoTime();
    OnnxModel variant = which instanceof SkipSpan s ? SkipRewriter.variant(model, layout, s, sourceSha256) : model;
    // The layer metrics read every boundary state of the baseline, and each variant's final state:
    // the last boundary, or, where the span reaches the last layer, the state the span starts from.
    List<String> states = !wanted.layerStates() ? List.of()
        : which instanceof SkipSpan s
            ? List.of(layout.boundary(s.end() == layout.layers() - 1 ? s.start() : layout.layers()))
            : java.util.stream.IntStream.rangeClosed(0, layout.layers()).mapToObj(layout::boundary).toList();
    variant = ExposedOutputs.streamStates(variant, layout, states);
    String label = which.isBaseline() ? "the baseline model" : "variant skipping layers " + which;
    List<int[]> rows = new ArrayList<>();
    List<ClassifierOutputs> outputs = new ArrayList<>();
    Phase runs = which.isBaseline() ? Phase.BASELINE_RUNS : Phase.SPAN_RUNS;
    try (VariantSession session = VariantSession.open(variant, signature, runtime, label, weights)) {
      progress.ran(Phase.SESSIONS, System.nanoTime() - opening);
      for (int b = 0; b < batches.batchCount(); b++) {
        if (skipBatches.contains(b)) {
          continue;
        }
        Batch batch = batches.batch(b);
        rows.add(batch.exampleIndices());
        long started = System.nanoTime();
        VariantSession.Run run = session.outputs(batch, wanted.headFeatures(), states);
        progress.ran(runs, System.nanoTime() - started);
        ClassifierOutputs out = run.outputs();
        if (wanted.layerStates()) {
          int hidden = (int) (run.states().get(0).capacity() / ((long) batch.batchSize() * batch.seqLen()));
          out = out.with(ClassifierOutputs.Extra.FINAL_POOLED, LayerStates.pooled(batch, run.states().get(run.states().size() - 1), 1, hidden));
          if (which.isBaseline()) {
            out = out.with(ClassifierOutputs.Extra.LAYER_METRICS, LayerStates.perExample(batch, run.states(), hidden));
          }
        }
        outputs.add(out);
        progress.examples(batch.batchSize());
      }
    }
    // One journal entry per variant: the naive engine's unit of work is a whole session.
    sink.done(which, rows.stream().flatMapToInt(Arrays::stream).toArray(), ClassifierOutputs.concat(outputs));
    sink.flush();
  }
}
