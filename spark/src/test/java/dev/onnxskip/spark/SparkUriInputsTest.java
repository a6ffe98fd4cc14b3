package dev.onnxskip.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.graph.ModelIO;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SparkEval with --model, --tokenizer and --data given as Hadoop URIs, on a local Spark, against
 * eval on one machine reading the same files by path: the MiniLM classifier on 32 texts in batches
 * of 8, a few spans.
 */
class SparkUriInputsTest {

  @TempDir static Path dir;
  static Path classifier;
  static Path data;
  static Path single;
  static final String SPANS = "0-0,2-3,5-5";

  @BeforeAll
  static void evaluateOnOneMachine() throws IOException {
    classifier = SparkRuns.classifier(dir);
    data = SparkRuns.reviews(dir, 32);
    single = dir.resolve("single");
    SparkRuns.Run run = SparkRuns.eval(args(classifier.toString(), SparkRuns.TOKENIZER.toString(), data.toString(), single, "--threads", "2"));
    assertEquals(0, run.exitCode(), run.err());
  }

  static String[] args(String model, String tokenizer, String data, Path out, String... more) {
    List<String> all = new ArrayList<>(List.of("--model", model, "--tokenizer", tokenizer, "--data", data, "--spans", SPANS,
        "--batch-size", "8", "--quiet", "--out", out.toString()));
    all.addAll(List.of(more));
    return all.toArray(String[]::new);
  }

  private static String[] sparkArgs(String model, String tokenizer, String data, Path out, String... more) {
    List<String> all = new ArrayList<>(List.of(args(model, tokenizer, data, out, "--master", "local[2]", "--partitions", "4",
        "--threads", "1")));
    all.addAll(List.of(more));
    return all.toArray(String[]::new);
  }

  private static void assertSameOutputs(Path expected, Path out) throws IOException {
    assertEquals(SparkRuns.resultsWithoutTimestampOrPaths(expected), SparkRuns.resultsWithoutTimestampOrPaths(out));
    for (String file : List.of("results.csv", "summary.md")) {
      assertEquals(Files.readString(expected.resolve(file)), Files.readString(out.resolve(file)), file);
    }
  }

  /** The copies' folders left in {@code scratch}, as spark.local.dir. */
  private static List<Path> stagingFolders(Path scratch) throws IOException {
    try (Stream<Path> entries = Files.list(scratch)) {
      return entries.filter(p -> p.getFileName().toString().startsWith(StagedInputs.FOLDER_PREFIX)).toList();
    }
  }

  @Test
  void fileUrisGiveEvalsResultsAndAResubmittedRunResumesFromTheJournal() throws IOException {
    Path scratch = Files.createDirectories(dir.resolve("scratch"));
    Path out = dir.resolve("file-uris");
    String[] uris = sparkArgs(SparkRuns.fileUri(classifier), SparkRuns.fileUri(SparkRuns.TOKENIZER), SparkRuns.fileUri(data), out);
    SparkRuns.Run crashed = SparkRuns.withSparkConf("spark.local.dir", scratch.toString(), () -> SparkRuns.withSparkConf(
        SparkEngines.DRIVER_STOPS_AFTER, "2", () -> SparkRuns.spark(uris)));
    assertEquals(1, crashed.exitCode(), crashed.err());
    assertTrue(crashed.err().contains("stopped after 2 partitions on purpose"), crashed.err());
    assertEquals(List.of(), stagingFolders(scratch), "the copies go when the run fails");
    int journaled = SparkRuns.examplesDone(crashed.err(), 1);
    assertTrue(journaled > 0, crashed.err());

    // A fresh copy of each input in a folder of another name: the journal's key holds their digests, not their paths.
    List<String> resume = new ArrayList<>(List.of(uris));
    resume.add("--resume");
    SparkRuns.Run again = SparkRuns.withSparkConf("spark.local.dir", scratch.toString(),
        () -> SparkRuns.spark(resume.toArray(String[]::new)));
    assertEquals(0, again.exitCode(), again.err());
    assertEquals(32 - journaled, SparkRuns.examplesDone(again.err(), 2), again.err());
    assertSameOutputs(single, out);
    assertEquals(List.of(), stagingFolders(scratch), "the copies go when the run ends");

    // results.json names the inputs as given, not the copies that eval read and that are gone now.
    JsonNode results = new ObjectMapper().readTree(out.resolve("results.json").toFile());
    JsonNode config = results.get("config");
    assertEquals(SparkRuns.fileUri(classifier), config.get("model").asText(), config.toString());
    assertEquals(SparkRuns.fileUri(SparkRuns.TOKENIZER), config.get("tokenizer").asText(), config.toString());
    assertEquals(SparkRuns.fileUri(data), config.get("dataset").asText(), config.toString());
    String labelsFrom = results.get("provenance").get("labels_from").asText();
    assertFalse(labelsFrom.contains(scratch.toString()), labelsFrom);
    assertTrue(labelsFrom.contains(SparkRuns.fileUri(classifier)), labelsFrom);
  }

  /**
   * A model whose weights are in a file beside it, with the tokenizer and data, all read through a
   * Hadoop FileSystem of a scheme java.nio cannot open. The driver's copies of the model go before
   * the executors load it, so they load what Spark's file distribution fetched for them.
   */
  @Test
  void aModelWithExternalDataAtAHadoopUriLoadsOnTheDriverAndOnTheExecutors() throws IOException {
    Path folder = Files.createDirectories(dir.resolve("external"));
    Path model = SparkRuns.withExternalData(classifier, folder.resolve("classifier.onnx"), "classifier.onnx.data");
    Path weights = folder.resolve("classifier.onnx.data");
    assertEquals(List.of(weights.toAbsolutePath()), List.copyOf(ExternalData.files(ModelIO.load(model))));
    Path expected = dir.resolve("external-single");
    SparkRuns.Run local = SparkRuns.eval(args(model.toString(), SparkRuns.TOKENIZER.toString(), data.toString(), expected, "--threads", "2"));
    assertEquals(0, local.exitCode(), local.err());

    Path out = dir.resolve("external-spark");
    List<String> driverCopies = new ArrayList<>();
    TestFileSystem.OPENED.clear();
    List<String> given = new ArrayList<>(List.of(sparkArgs(TestFileSystem.uri(model), TestFileSystem.uri(SparkRuns.TOKENIZER),
        TestFileSystem.uri(data), out)));
    given.remove("--quiet");
    SparkRuns.Run run = SparkRuns.withSparkConf(TestFileSystem.CONF_KEY, TestFileSystem.class.getName(),
        () -> SparkRuns.spark(spark -> SparkRuns.beforeOpening(spark, cfg -> {
          Path copy = cfg.inputs().model();
          for (Path file : List.of(copy, copy.resolveSibling(copy.getFileName() + ".data"))) {
            Files.delete(file);
            driverCopies.add(file.getFileName().toString());
          }
        }), given.toArray(String[]::new)));
    assertEquals(0, run.exitCode(), run.err());
    assertSameOutputs(expected, out);
    assertEquals(List.of("classifier.onnx", "classifier.onnx.data"), driverCopies);

    String modelPath = model.toAbsolutePath().toString();
    String weightsPath = weights.toAbsolutePath().toString();
    List<String> opened = List.copyOf(TestFileSystem.OPENED);
    for (String input : List.of(modelPath, weightsPath, SparkRuns.TOKENIZER.toAbsolutePath().toString(), data.toAbsolutePath().toString())) {
      assertTrue(opened.contains(input), input + " was read through Hadoop: " + opened);
    }
    // The driver's copy, then Spark's fetch for the executors.
    assertTrue(opened.stream().filter(modelPath::equals).count() >= 2, opened.toString());
    assertTrue(opened.stream().filter(weightsPath::equals).count() >= 2, opened.toString());
    assertTrue(run.err().contains("spark: copied " + TestFileSystem.uri(model) + " to the driver ("), run.err());
    assertTrue(run.err().contains("spark: copied " + TestFileSystem.uri(weights) + " to the driver ("), run.err());
  }

}
