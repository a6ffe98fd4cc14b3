package dev.onnxskip.cli;

import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.UsageException;
import dev.onnxskip.eval.Latencies;
import dev.onnxskip.eval.RunResults;
import dev.onnxskip.graph.Digests;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.layout.EncoderLayout;
import dev.onnxskip.layout.LayoutDetector;
import dev.onnxskip.report.ResultsJson;
import dev.onnxskip.rewrite.Variant;
import dev.onnxskip.select.Constraints;
import dev.onnxskip.select.VariantChoice;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code onnx-skip select}: choose the variant to ship from an eval run, under the user's constraints, and write it. */
@Command(
    name = "select",
    mixinStandardHelpOptions = true,
    description = {
      "Choose the skip variant with the highest measured speed-up (without latencies: the most layers skipped)",
      "whose every label stays above a floor and drops no more than a limit; say why the others lost; write it as a model folder."
    })
public final class SelectCommand implements Callable<Integer> {

  /** Runner-ups explained by default. */
  private static final int RUNNER_UPS = 5;

  @Option(names = "--results", required = true, paramLabel = "DIR|results.json", description = "An eval output folder, or its results.json.")
  Path results;

  @Option(names = "--min-label-accuracy", defaultValue = "0", paramLabel = "A",
      description = "Every label's accuracy must be at least A, in [0, 1] (default: ${DEFAULT-VALUE}).")
  double minLabelAccuracy;

  @Option(names = "--max-drop", defaultValue = "1", paramLabel = "D",
      description = "No label's accuracy may fall by more than D against the baseline, in [0, 1] (default: ${DEFAULT-VALUE}).")
  double maxDrop;

  @Option(names = "--significant", description = "Judge each drop by the upper end of its bootstrap interval (the drop the data cannot"
      + " rule out) instead of the point estimate.")
  boolean significant;

  @Option(names = "--min-speedup", paramLabel = "X", description = "The measured batch-1 speed-up must be at least X (needs eval --latency).")
  Double minSpeedup;

  @Option(names = "--runner-ups", defaultValue = "5", paramLabel = "N", description = "How many of the other variants to explain (default: ${DEFAULT-VALUE}).")
  int runnerUps = RUNNER_UPS;

  @Option(names = {"-o", "--output"}, paramLabel = "DIR", description = "Write the chosen variant as a Hugging Face-style model folder.")
  Path output;

  @Option(names = "--model", paramLabel = "CLASSIFIER.onnx", description = "The evaluated model (default: the one results.json names);"
      + " its sha256 must be the evaluated one's.")
  Path model;

  @Option(names = "--force", description = "Replace an existing output folder.")
  boolean force;

  @Mixin ModelFolderOptions folderOptions;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Constraints constraints = new Constraints(minLabelAccuracy, maxDrop, significant,
        minSpeedup == null ? OptionalDouble.empty() : OptionalDouble.of(minSpeedup));
    if (runnerUps < 0) {
      throw new UsageException("--runner-ups must be 0 or more, got " + runnerUps);
    }
    Path file = Files.isDirectory(results) ? results.resolve("results.json") : results;
    if (!Files.isRegularFile(file)) {
      throw new UsageException("no results in " + results + (Files.isDirectory(results) ? ": it has no results.json" : ": no such file")
          + "; run eval --out first");
    }
    RunResults run = ResultsJson.read(file);
    Optional<Latencies> latencies = ResultsJson.readLatencies(file);
    Map<Variant, Map<String, double[]>> intervals = significant ? ResultsJson.readChangeIntervals(file) : Map.of();
    VariantChoice choice = VariantChoice.of(run, latencies, intervals, constraints);
    Path source = null;
    if (output != null) {
      source = sourceModel(run, file);
      folderOptions.tokenizer = folderOptions.tokenizer != null ? folderOptions.tokenizer : configPath(run, "tokenizer", file);
      folderOptions.check("-o");
      new OutputPolicy(source, force).checkFolder(output, "select -o writes a model folder");
      ModelFolderOptions.refuseSourceInside(output, source);
    }

    PrintWriter out = spec.commandLine().getOut();
    out.println(describe(constraints, choice.bySpeed()));
    if (choice.chosen().isEmpty()) {
      explainRefusal(choice, out);
      return Main.EXIT_FAILURE;
    }
    VariantChoice.Candidate chosen = choice.chosen().get();
    out.printf("chosen: %s (%s)%n", chosen.span(), chosen.describe());
    if (chosen.speedup().isPresent() && chosen.speedup().getAsDouble() < 1) {
      Warnings.print(spec.commandLine().getErr(), String.format(Locale.ROOT, "the chosen variant measured %.2f\u00d7, slower than the baseline:"
          + " the timings may be noisy (see their spread in summary.md); --min-speedup 1 excludes such variants", chosen.speedup().getAsDouble()));
    }
    List<VariantChoice.Candidate> others = choice.ranked().stream().filter(c -> c != chosen).limit(runnerUps).toList();
    if (!others.isEmpty()) {
      out.println("runner-ups:");
      others.forEach(c -> out.printf("  %-6s %s%n", c.span(), choice.whyNot(c)));
    }
    out.flush();
    if (output != null) {
      OnnxModel loaded = ModelIO.load(source);
      EncoderLayout layout = LayoutDetector.detect(loaded, boundaries(run));
      Object maxLength = run.config().get("max_length");
      folderOptions.write(loaded, layout, chosen.span(), source, run.labels(),
          maxLength instanceof Number n ? OptionalInt.of(n.intValue()) : OptionalInt.empty(), output, force, out);
    }
    return 0;
  }

  private static String describe(Constraints c, boolean bySpeed) {
    StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "constraints: every label at least %.3f; no label drops more than %.3f",
        c.minLabelAccuracy(), c.maxDrop()));
    s.append(c.significant() ? " (upper end of its bootstrap interval)" : " (point estimate)");
    c.minSpeedup().ifPresent(x -> s.append(String.format(Locale.ROOT, "; speed-up at least %.2f\u00d7", x)));
    s.append(bySpeed ? "; best: the highest measured speed-up" : "; best: the most layers skipped (no latencies in the results)");
    return s.toString();
  }

  /** Which constraint binds and the best near miss, on stdout; the one-line verdict on stderr. */
  private void explainRefusal(VariantChoice choice, PrintWriter out) {
    Constraints.Kind binding = choice.binding();
    int[] failing = choice.failing(binding);
    VariantChoice.Candidate near = choice.nearMiss().orElseThrow();
    out.println("no variant qualifies; the constraints each rule out:");
    for (Constraints.Kind kind : Constraints.Kind.values()) {
      int[] f = choice.failing(kind);
      if (f[0] > 0) {
        out.printf("  %-20s %d of %d variants (%d on it alone)%n", kind.option, f[0], choice.ranked().size(), f[1]);
      }
    }
    choice.unlockedByOne().ifPresent(u -> out.printf("without %s: %s (%s)%n", binding.option, u.span(), u.describe()));
    out.printf("best near miss: %s (%s): %s%n", near.span(), near.describe(), choice.whyNot(near));
    out.flush();
    PrintWriter err = spec.commandLine().getErr();
    err.printf("onnx-skip: no variant qualifies: %s binds (%d of %d variants fail it, %d on it alone); best near miss %s: %s%n",
        binding.option, failing[0], choice.ranked().size(), failing[1], near.span(), choice.whyNot(near));
    err.flush();
  }

  /** The evaluated model: --model, else the path results.json names; either way the evaluated file. */
  private Path sourceModel(RunResults run, Path file) {
    Path path = model != null ? model : configPath(run, "model", file);
    if (!Files.isRegularFile(path)) {
      throw new OnnxSkipException("the evaluated model " + path + " is not there; give --model");
    }
    Object sha = run.provenance().get("model_sha256");
    if (sha != null && !Digests.sha256(path).equals(sha.toString())) {
      throw new OnnxSkipException(path + " is not the model " + file + " was evaluated on (its sha256 differs); give --model");
    }
    return path;
  }

  private static Path configPath(RunResults run, String key, Path file) {
    Object value = run.config().get(key);
    if (value == null) {
      throw new OnnxSkipException(file + ": config." + key + " is missing; give --" + key);
    }
    return Path.of(value.toString());
  }

  @SuppressWarnings("unchecked")
  private static List<String> boundaries(RunResults run) {
    Object b = run.config().get("boundaries");
    return b instanceof List<?> list ? (List<String>) list : List.of();
  }
}
