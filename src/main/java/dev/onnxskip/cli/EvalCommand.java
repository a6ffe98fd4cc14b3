package dev.onnxskip.cli;

import dev.onnxskip.UsageException;
import dev.onnxskip.data.LabelSet;
import dev.onnxskip.eval.EngineKind;
import dev.onnxskip.eval.EvalConfig;
import dev.onnxskip.eval.EvalRun;
import dev.onnxskip.eval.Phase;
import dev.onnxskip.eval.PhaseTimes;
import dev.onnxskip.eval.Latencies;
import dev.onnxskip.eval.LatencyRun;
import dev.onnxskip.report.LatencySummary;
import dev.onnxskip.runtime.ModelTimer;
import dev.onnxskip.report.RunReport;
import dev.onnxskip.report.Summary;
import dev.onnxskip.rewrite.SkipSpans;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code onnx-skip eval}: per-label accuracy of the baseline and every skip variant. */
@Command(
    name = "eval",
    mixinStandardHelpOptions = true,
    description = {
      "Evaluate a classifier and its skip variants on labelled data, per gold label.",
      "Writes results.json, results.csv and heatmaps to --out; prints a Markdown summary."
    })
public final class EvalCommand implements Callable<Integer> {

  @Option(names = "--model", required = true, paramLabel = "CLASSIFIER.onnx", description = "A classifier: an encoder with a head giving logits [batch, labels].")
  Path model;

  @Mixin TokenizerOptions tokenizer;

  @Option(names = "--data", required = true, paramLabel = "FILE", description = "Labelled data: .jsonl, .json (an array of objects), .csv or .tsv with a header.")
  Path data;

  @Mixin DataOptions dataOptions;

  @Option(names = "--spans", defaultValue = "all", paramLabel = "all|S-E,...", description = "Spans to skip (default: all); the baseline is always evaluated.")
  String spans;

  @Option(names = "--labels", split = ",", paramLabel = "NAME,...", description = "Label names in logit order (default: the model's id2label or a config.json beside it);"
      + " where the model has its own, they must be the same unless --labels-override is given.")
  List<String> labels = List.of();

  @Option(names = "--labels-override", description = "Let --labels replace the model's own id2label where they differ (with a warning).")
  boolean labelsOverride;

  @Option(names = "--logits-output", paramLabel = "NAME", description = "The output holding logits (default: 'logits', or the only 2-D float output).")
  String logitsOutput;

  @Mixin RuntimeOptions runtime;

  @Option(names = "--engine", defaultValue = "shared", paramLabel = "ENGINE",
      converter = LowerCaseChoice.Engines.class, completionCandidates = LowerCaseChoice.Engines.class,
      description = "One of ${COMPLETION-CANDIDATES}: shared computes each layer state once for all spans (default);"
          + " naive runs one full pass per variant, for checking.")
  EngineKind engine;

  @Option(names = "--out", defaultValue = "out/eval", paramLabel = "DIR", description = "Output folder (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--resume", description = "Continue an interrupted run in --out with the same arguments.")
  boolean resume;

  @Option(names = "--force", description = "Start over in an --out that holds an earlier run.")
  boolean force;

  @Option(names = "--save-predictions", arity = "0..1", fallbackValue = "logits", paramLabel = "WHAT",
      converter = LowerCaseChoice.PredictionDetails.class, completionCandidates = LowerCaseChoice.PredictionDetails.class,
      description = "Also write predictions.jsonl: every example's id, gold label, and prediction and logits per variant;"
          + " --save-predictions=text adds each example's text. One of ${COMPLETION-CANDIDATES} (default: logits).")
  RunReport.PredictionDetail savePredictions;

  @Option(names = "--no-sort", negatable = false, description = "Batch in dataset order instead of by token length.")
  boolean noSort;

  @Option(names = "--quiet", description = "No progress bar.")
  boolean quiet;

  @Mixin LayoutOptions layoutOptions;

  @Mixin StatisticsOptions statistics;

  @Mixin LatencyOptions latency;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  /** Where the variants run: in this process unless another entry point (a cluster's) says otherwise. */
  private EvalRun.EngineFactory engines = EvalRun.BUILT_IN;

  /** Runs the variants through {@code engines} instead of in this process; the options and outputs stay eval's. */
  public void runEnginesWith(EvalRun.EngineFactory engines) {
    this.engines = engines;
  }

  /** Where another entry point fetched the inputs from: see {@link EvalConfig.Inputs#shownAs()}. */
  private Map<String, String> inputsShownAs = Map.of();

  /** Names the inputs in the reports as {@code shownAs} says: local copies as the URIs they came from. */
  public void showInputsAs(Map<String, String> shownAs) {
    this.inputsShownAs = Map.copyOf(shownAs);
  }

  @Override
  public Integer call() {
    SkipSpans.checkText(spans);
    Optional<ModelTimer.Plan> timing = latency.plan();
    if (labelsOverride && labels.isEmpty()) {
      throw new UsageException("--labels-override needs --labels: it lets them replace the model's id2label");
    }
    new OutputPolicy(model, force).checkRunFolder(out, resume, "eval writes a folder");
    EvalConfig cfg = new EvalConfig(
        new EvalConfig.Inputs(model, tokenizer.tokenizer, data, dataOptions.columns(), inputsShownAs),
        new EvalConfig.ModelReading(labels, labelsOverride ? LabelSet.ModelLabels.OVERRIDE : LabelSet.ModelLabels.KEEP,
            Optional.ofNullable(logitsOutput), layoutOptions.boundaries),
        spans,
        new EvalConfig.Batching(runtime.batchSize(), tokenizer.maxLength(), !noSort),
        new EvalConfig.Execution(runtime.parsedDevice(), runtime.threads(), engine),
        statistics.settings());
    PrintWriter outWriter = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Progress.Mode mode = quiet ? Progress.Mode.SILENT : System.console() == null ? Progress.Mode.LINES : Progress.Mode.BAR;
    try (Progress progress = new Progress(mode, err, out)) {
      EvalRun.Outcome outcome = progress.whileRunning(() -> EvalRun.run(cfg, out, resume, force, progress, engines));
      PhaseTimes phases = outcome.timing().phases();
      Main.startupNanos().ifPresent(nanos -> phases.add(Phase.START, nanos));
      long timingModels = System.nanoTime();
      Optional<Latencies> latencies = timing.map(plan -> {
        int models = outcome.results().variants().size();
        if (mode != Progress.Mode.SILENT) {
          err.printf("timing %d standalone models (%d warm-up and %d timed runs each, at batch 1 and at the batch size)%n", models,
              plan.warmup(), plan.repeats());
        }
        return LatencyRun.measure(cfg, outcome.results().variants().stream().map(v -> v.variant()).toList(), plan, done -> {});
      });
      if (latencies.isPresent()) {
        phases.since(Phase.LATENCY, timingModels);
      }
      List<Path> files = RunReport.write(outcome, latencies, out, Optional.ofNullable(savePredictions));
      outWriter.println(Summary.markdown(outcome.results()));
      latencies.ifPresent(l -> outWriter.println(LatencySummary.markdown(outcome.results(), l)));
      outWriter.printf("Evaluated %d variants on %s in %.1f s%s.%n", outcome.results().variants().size(), outcome.timing().device(),
          outcome.timing().seconds(), outcome.resumedVariants() > 0 ? " (" + outcome.resumedVariants() + " resumed from the journal)" : "");
      outWriter.println("Time: " + phases.describe() + ".");
      outWriter.println("Files:");
      files.forEach(f -> outWriter.println("  " + f));
      outWriter.flush();
    }
    return 0;
  }
}
