package dev.onnxskip.eval;

import java.util.Locale;

/** How eval computes the variants' logits; the engine changes the time a run takes, not its numbers. */
public enum EngineKind {
  /** Every layer state computed once and shared by all spans that start after it. */
  SHARED,
  /** One full pass of each rewritten variant, for checking the shared engine. */
  NAIVE;

  /** The name the command line takes and timing.json and the run key record: "shared" or "naive". */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
