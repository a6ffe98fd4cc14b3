package dev.onnxskip.eval;

import dev.onnxskip.rewrite.SkipSpan;
import java.util.List;
import java.util.Optional;

/**
 * Computes the logits of the baseline and of skip variants over a data set. Engines report each
 * variant as soon as it is complete, so the caller can journal it before the next one starts.
 */
public interface EvalEngine {

  /** Receives a finished variant: its span (empty for the baseline) and logits in dataset order. */
  @FunctionalInterface
  interface Sink {
    void done(Optional<SkipSpan> span, float[][] logits);
  }

  /** Told how many examples have passed through a model, for progress and throughput. */
  @FunctionalInterface
  interface Progress {
    void examples(int count);
  }

  /** A short name for results and messages, e.g. "naive". */
  String name();

  void run(List<Optional<SkipSpan>> todo, Sink sink, Progress progress);
}
