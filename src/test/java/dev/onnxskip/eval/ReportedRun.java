package dev.onnxskip.eval;

import dev.onnxskip.report.RunReport;
import java.nio.file.Path;
import java.util.Optional;

/** A fresh evaluation run with its files written, as the eval command does it. */
final class ReportedRun {
  private ReportedRun() {}

  static EvalRun.Outcome of(EvalConfig cfg, Path out, boolean savePredictions) {
    EvalRun.Outcome outcome = EvalRun.run(cfg, out, false, false, new EvalRun.Listener() {});
    RunReport.write(outcome, out, savePredictions ? Optional.of(RunReport.PredictionDetail.LOGITS) : Optional.empty());
    return outcome;
  }
}
