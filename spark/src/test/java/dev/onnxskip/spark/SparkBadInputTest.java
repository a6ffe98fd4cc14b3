package dev.onnxskip.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input to SparkEval: one line, as eval gives, with eval's exit codes. */
class SparkBadInputTest {

  @TempDir static Path dir;
  static Path classifier;
  static Path data;

  @BeforeAll
  static void inputs() throws IOException {
    classifier = SparkRuns.classifier(dir);
    data = SparkRuns.reviews(dir, 8);
  }

  static String[] args(Path model, Path out, String... more) {
    return args(model.toString(), SparkRuns.TOKENIZER.toString(), data.toString(), out.toString(), more);
  }

  static String[] args(String model, String tokenizer, String data, String out, String... more) {
    List<String> all = new java.util.ArrayList<>(List.of("--model", model, "--tokenizer", tokenizer, "--data", data, "--spans", "0-0",
        "--batch-size", "4", "--quiet", "--out", out));
    all.addAll(List.of(more));
    return all.toArray(String[]::new);
  }

  private static void assertOneLine(String err) {
    assertEquals(1, err.lines().count(), err);
    assertTrue(err.startsWith("onnx-skip: "), err);
  }

  @Test
  void aPartitionCountBelowOneIsAUsageError() {
    SparkRuns.Run run = SparkRuns.spark(args(classifier, dir.resolve("p0"), "--master", "local[1]", "--partitions", "0"));
    assertEquals(2, run.exitCode());
    assertEquals("onnx-skip: --partitions must be at least 1, got 0 (try 'onnx-skip eval --help')", run.err().strip());
  }

  @Test
  void aMasterThatCannotBeReachedInTimeFails() {
    // Nothing listens on port 1.
    SparkRuns.Run run = SparkRuns.spark(args(classifier, dir.resolve("unreachable"), "--master", "spark://127.0.0.1:1",
        "--master-timeout", "3"));
    assertEquals(1, run.exitCode(), run.err());
    assertOneLine(run.err());
    assertTrue(run.err().startsWith("onnx-skip: Spark master spark://127.0.0.1:1 cannot be reached within 3 s (127.0.0.1:1: "), run.err());
  }

  @Test
  void aModelMissingOnTheDriverGivesEvalsError() {
    Path missing = dir.resolve("missing.onnx");
    SparkRuns.Run eval = SparkRuns.eval(args(missing, dir.resolve("eval-missing")));
    SparkRuns.Run spark = SparkRuns.spark(args(missing, dir.resolve("spark-missing"), "--master", "local[1]"));
    assertEquals(1, eval.exitCode());
    assertEquals(eval.exitCode(), spark.exitCode());
    assertOneLine(spark.err());
    assertEquals(eval.err(), spark.err());
  }

  /**
   * The driver reads the model, then it goes before the executors load it: what a path that only
   * the driver's machine has looks like on a cluster.
   */
  @Test
  void aModelMissingOnTheExecutorsGivesEvalsErrorForIt() throws IOException {
    Path model = Files.copy(classifier, dir.resolve("driver-only.onnx"));
    SparkRuns.Run eval = SparkRuns.eval(args(dir.resolve("gone.onnx"), dir.resolve("eval-gone")));
    String evalMessage = eval.err().strip().replace(dir.resolve("gone.onnx").toString(), model.toString()).substring("onnx-skip: ".length());
    SparkRuns.Run run = SparkRuns.spark(spark -> SparkRuns.beforeOpening(spark, cfg -> Files.delete(model)),
        args(model, dir.resolve("spark-gone"), "--master", "local[1]"));
    assertEquals(1, run.exitCode(), run.err());
    assertOneLine(run.err());
    assertTrue(run.err().contains(evalMessage), run.err() + " vs eval's " + evalMessage);
  }

  /** A run that fails on one of its URIs before Spark starts: its one line, with nothing left of the copies. */
  private static SparkRuns.Run failsOnAUri(String model, String tokenizer, String data) throws IOException {
    Path scratch = Files.createDirectories(dir.resolve("scratch"));
    SparkRuns.Run run = SparkRuns.withSparkConf("spark.local.dir", scratch.toString(),
        () -> SparkRuns.spark(args(model, tokenizer, data, dir.resolve("uri-out").toString(), "--master", "local[1]")));
    assertEquals(1, run.exitCode(), run.err());
    assertOneLine(run.err());
    try (java.util.stream.Stream<Path> left = Files.list(scratch)) {
      assertEquals(List.of(), left.toList());
    }
    return run;
  }

  @Test
  void aUriWhoseSchemeHasNoHadoopFileSystemFails() throws IOException {
    SparkRuns.Run run = failsOnAUri("nosuchfs://store/m/classifier.onnx", SparkRuns.TOKENIZER.toString(), data.toString());
    assertEquals("onnx-skip: nosuchfs://store/m/classifier.onnx: no Hadoop FileSystem for scheme 'nosuchfs' on the classpath; add its"
        + " connector with spark-submit --packages or --jars (s3a needs hadoop-aws, gs the GCS connector, abfs hadoop-azure)", run.err().strip());
  }

  @Test
  void aModelMissingAtAUriGivesEvalsWording() throws IOException {
    Path missing = dir.resolve("missing.onnx");
    SparkRuns.Run eval = SparkRuns.eval(args(missing, dir.resolve("eval-missing-uri")));
    String uri = SparkRuns.fileUri(missing);
    SparkRuns.Run spark = failsOnAUri(uri, SparkRuns.TOKENIZER.toString(), data.toString());
    assertEquals("onnx-skip: " + uri + ": no such file", spark.err().strip());
    assertEquals(eval.err().replace(missing.toString(), uri), spark.err());
  }

  @Test
  void dataMissingAtAUriIsNamedBeforeAnythingIsCopied() throws IOException {
    String uri = SparkRuns.fileUri(dir.resolve("no-such-data.jsonl"));
    SparkRuns.Run run = failsOnAUri(SparkRuns.fileUri(classifier), SparkRuns.fileUri(SparkRuns.TOKENIZER), uri);
    assertEquals("onnx-skip: " + uri + ": no such file", run.err().strip());
  }

  @Test
  void aFolderAtAUriIsNotAFile() throws IOException {
    String uri = SparkRuns.fileUri(dir);
    SparkRuns.Run run = failsOnAUri(classifier.toString(), uri, data.toString());
    assertEquals("onnx-skip: " + uri + ": is a directory, not a file", run.err().strip());
  }

  @Test
  void externalDataMissingBesideAModelAtAUriIsNamed() throws IOException {
    Path complete = SparkRuns.withExternalData(classifier, Files.createDirectories(dir.resolve("complete")).resolve("classifier.onnx"),
        "classifier.onnx.data");
    Path alone = Files.copy(complete, Files.createDirectories(dir.resolve("alone")).resolve("classifier.onnx"));
    SparkRuns.Run run = failsOnAUri(SparkRuns.fileUri(alone), SparkRuns.TOKENIZER.toString(), data.toString());
    assertEquals("onnx-skip: " + SparkRuns.fileUri(alone) + ": external data file " + SparkRuns.fileUri(alone.resolveSibling("classifier.onnx.data"))
        + " is missing", run.err().strip());
  }

  /** Spark's file distribution gives executors file names only: a location in a sub-folder could not be found there. */
  @Test
  void externalDataInASubFolderOfAModelAtAUriIsRefused() throws IOException {
    Path model = SparkRuns.withExternalData(classifier, Files.createDirectories(dir.resolve("nested")).resolve("classifier.onnx"),
        "weights/classifier.bin");
    String uri = SparkRuns.fileUri(model);
    SparkRuns.Run run = failsOnAUri(uri, SparkRuns.TOKENIZER.toString(), data.toString());
    assertEquals("onnx-skip: " + uri + ": external data location 'weights/classifier.bin' is in a sub-folder; executors get a model's"
        + " files through Spark's file distribution, which keeps file names only: keep the external data beside the model", run.err().strip());
  }

  @Test
  void anOutputFolderGivenAsAUriIsAUsageError() {
    SparkRuns.Run run = SparkRuns.spark(args(classifier.toString(), SparkRuns.TOKENIZER.toString(), data.toString(), "hdfs://store/out",
        "--master", "local[1]"));
    assertEquals(2, run.exitCode(), run.err());
    assertEquals("onnx-skip: --out must be a local folder, got hdfs://store/out; copy the results to Hadoop storage afterwards"
        + " (try 'onnx-skip eval --help')", run.err().strip());
  }
}
