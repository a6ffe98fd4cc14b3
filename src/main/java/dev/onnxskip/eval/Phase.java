package dev.onnxskip.eval;

/**
 * The parts an {@code eval} run's time is told in, in the order they happen: timing.json's
 * {@code phases_seconds} and the closing "Time:" line. They show where the next second is to be won.
 */
public enum Phase {
  /** From the JVM's start to the command's first step: class loading, the CDS archive, picocli. */
  START("start"),
  /** Reading the model and the data, finding the layers, the head and the labels. */
  MODEL("model"),
  /** Waiting for the data's tokens, which are made beside the model's loading: what tokenizing adds to the run. */
  TOKENIZE("tokenize"),
  /**
   * SHA-256 of the model, its external data, the data and the tokenizer, for provenance and the
   * journal: the external data's, and what is left of the others', which are hashed beside the model's loading.
   */
  DIGESTS("digests"),
  /** Rewriting the model for the engine and opening its ONNX Runtime sessions. */
  SESSIONS("sessions"),
  /**
   * Session runs of the baseline: the shared engine's prefix (at full depth it gives the baseline),
   * or the naive engine's baseline model.
   */
  BASELINE_RUNS("baseline runs"),
  /** Session runs that give skip variants: the shared engine's stacked suffixes, or the naive engine's variant models. */
  SPAN_RUNS("span runs"),
  /** Appending finished work to the journal, forced to disk batch by batch. */
  JOURNAL("journal"),
  /** The engine's time outside session runs and the journal: token tensors, copies of states, layer states. */
  ENGINE_OTHER("engine other"),
  /** Accuracy, intervals, tests, recalibration, the head refit and the layer metrics. */
  SCORING("scoring"),
  /** With {@code --latency}: timing every variant as a standalone model. */
  LATENCY("latency"),
  /** Writing results, tables and figures. */
  REPORTS("reports");

  private final String label;

  Phase(String label) {
    this.label = label;
  }

  /** The name timing.json and the closing line use. */
  public String label() {
    return label;
  }
}
