package dev.onnxskip.eval;

import dev.onnxskip.rewrite.Variant;
import dev.onnxskip.runtime.ClassifierOutputs;
import java.util.List;
import java.util.Optional;

/**
 * Computes the logits of the baseline and of skip variants over a data set, and the features their
 * linear head reads where the engine was asked for them. Engines report work
 * as soon as a piece is complete (a variant, or a batch of variants), so the caller can journal it
 * before the next one starts.
 */
public interface EvalEngine {

  /**
   * What an engine fetches beside the logits.
   *
   * @param headFeatures a graph output to fetch as {@link ClassifierOutputs.Extra#HEAD_FEATURES}: the
   *     input of a linear head
   * @param layerStates the baseline's per-example layer metrics ({@link LayerStates}) and every
   *     variant's final state mean-pooled ({@link ClassifierOutputs.Extra#FINAL_POOLED})
   */
  record Wanted(Optional<String> headFeatures, boolean layerStates) {
    public static final Wanted LOGITS = new Wanted(Optional.empty(), false);
  }

  /**
   * Receives finished work: the outputs of the examples at dataset positions {@code rows} under
   * {@code variant}, in the order of {@code rows}.
   */
  @FunctionalInterface
  interface Sink {
    void done(Variant variant, int[] rows, ClassifierOutputs outputs);

    /** The work reported since the last flush is a consistent unit (e.g. one batch of every variant). */
    default void flush() {}
  }

  /** Told how many examples have passed through a model, for progress and throughput, and how long its runs took. */
  @FunctionalInterface
  interface Progress {
    void examples(int count);

    /**
     * {@code nanos} more spent in {@code phase}: {@link Phase#SESSIONS} where the engine opens
     * sessions while it runs, {@link Phase#BASELINE_RUNS} and {@link Phase#SPAN_RUNS} for the
     * session runs themselves, outputs read back included.
     */
    default void ran(Phase phase, long nanos) {}
  }

  /**
   * Evaluates the variants in {@code todo} over every batch not in {@code skipBatches} (batches
   * an earlier, interrupted run already finished for all of them).
   */
  void run(List<Variant> todo, java.util.Set<Integer> skipBatches, Sink sink, Progress progress);
}
