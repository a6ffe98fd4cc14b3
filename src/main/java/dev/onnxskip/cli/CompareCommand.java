package dev.onnxskip.cli;

import dev.onnxskip.UsageException;
import dev.onnxskip.eval.RunResults;
import dev.onnxskip.report.ResultsJson;
import dev.onnxskip.report.RunComparison;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code onnx-skip compare}: two eval runs on the same data, per variant and label, with the change. */
@Command(
    name = "compare",
    mixinStandardHelpOptions = true,
    description = "Compare two eval output folders (or their results.json files) on the same data: per variant its"
        + " accuracy and macro-F1, then its accuracy on each gold label, side by side with the change B - A, as a"
        + " Markdown table. Variants or labels that only one run has are listed as missing on the other side.")
public final class CompareCommand implements Callable<Integer> {
  static final String RESULTS = "results.json";

  @Parameters(index = "0", paramLabel = "RUN_A", description = "An eval --out folder, or its results.json.")
  Path runA;

  @Parameters(index = "1", paramLabel = "RUN_B", description = "The run to compare with RUN_A; changes are B - A.")
  Path runB;

  @Option(names = "--csv", paramLabel = "FILE", description = "Also write the comparison as CSV.")
  Path csv;

  @Option(names = "--json", paramLabel = "FILE", description = "Also write the comparison as JSON.")
  Path json;

  @Option(names = "--force", description = "Overwrite existing --csv and --json files.")
  boolean force;

  @Option(names = "--allow-different-data",
      description = "Compare even when the runs' datasets differ (dataset_sha256 in results.json's provenance).")
  boolean allowDifferentData;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Path fileA = resultsFile(runA);
    Path fileB = resultsFile(runB);
    for (Path output : new Path[] {csv, json}) {
      checkOutput(output, fileA, fileB);
    }
    if (csv != null && json != null && csv.toAbsolutePath().normalize().equals(json.toAbsolutePath().normalize())) {
      throw new UsageException("--csv and --json name the same file " + csv);
    }
    RunResults a = ResultsJson.read(fileA);
    RunResults b = ResultsJson.read(fileB);
    if (!allowDifferentData) {
      checkSameData(fileA, a, fileB, b);
    }
    RunComparison comparison = RunComparison.of(fileA, a, fileB, b);
    if (csv != null) {
      comparison.writeCsv(csv);
    }
    if (json != null) {
      comparison.writeJson(json);
    }
    spec.commandLine().getOut().print(comparison.markdown());
    spec.commandLine().getOut().flush();
    return 0;
  }

  /** A folder stands for the results.json in it. */
  private static Path resultsFile(Path run) {
    return Files.isDirectory(run) ? run.resolve(RESULTS) : run;
  }

  private void checkOutput(Path output, Path fileA, Path fileB) {
    if (output == null) {
      return;
    }
    Path normal = output.toAbsolutePath().normalize();
    if (normal.equals(fileA.toAbsolutePath().normalize()) || normal.equals(fileB.toAbsolutePath().normalize())) {
      throw new UsageException(output + " is one of the runs being compared; name another output file");
    }
    if (Files.isDirectory(output)) {
      throw new UsageException(output + " is a folder; name a file to write");
    }
    if (Files.exists(output) && !force) {
      throw new UsageException(output + " exists; use --force to overwrite it");
    }
  }

  private static void checkSameData(Path fileA, RunResults a, Path fileB, RunResults b) {
    Object dataA = a.provenance().get("dataset_sha256");
    Object dataB = b.provenance().get("dataset_sha256");
    if (dataA == null || dataB == null) {
      Path without = dataA == null ? fileA : fileB;
      throw new UsageException(without + ": provenance has no dataset_sha256, so the data cannot be checked to be the"
          + " same; use --allow-different-data to compare anyway");
    }
    if (!Objects.equals(dataA, dataB)) {
      throw new UsageException("the runs used different data: dataset_sha256 " + dataA + " in " + fileA + ", " + dataB
          + " in " + fileB + "; use --allow-different-data to compare anyway");
    }
  }
}
