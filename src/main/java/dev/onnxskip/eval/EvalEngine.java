package dev.onnxskip.eval;

import dev.onnxskip.rewrite.Variant;
import dev.onnxskip.runtime.ClassifierOutputs;
import java.util.List;

/**
 * Computes the logits of the baseline and of skip variants over a data set, and the features their
 * linear head reads where the engine was asked for them. Engines report work
 * as soon as a piece is complete (a variant, or a batch of variants), so the caller can journal it
 * before the next one starts.
 */
public interface EvalEngine {

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

  /** Told how many examples have passed through a model, for progress and throughput. */
  @FunctionalInterface
  interface Progress {
    void examples(int count);
  }

  /**
   * Evaluates the variants in {@code todo} over every batch not in {@code skipBatches} (batches
   * an earlier, interrupted run already finished for all of them).
   */
  void run(List<Variant> todo, java.util.Set<Integer> skipBatches, Sink sink, Progress progress);
}
