package dev.onnxskip.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SparkEval on a local Spark against eval on one machine: the MiniLM classifier on 64 texts in
 * batches of 8 (eight batches, so four partitions hold two each); every span, and for the fault
 * tests a few, which are quicker and fail or stop the same way.
 */
class SparkEvalTest {

  @TempDir static Path dir;
  static Path classifier;
  static Path data;
  static Path single;
  static Path singleFewSpans;
  static final String FEW_SPANS = "0-0,2-3,5-5";

  @BeforeAll
  static void evaluateOnOneMachine() throws IOException {
    classifier = SparkRuns.classifier(dir);
    data = SparkRuns.reviews(dir, 64);
    single = dir.resolve("single");
    SparkRuns.Run run = SparkRuns.eval(args(single, "--threads", "2", "--spans", "all"));
    assertEquals(0, run.exitCode(), run.err());
    singleFewSpans = dir.resolve("single-few");
    run = SparkRuns.eval(args(singleFewSpans, "--threads", "2", "--spans", FEW_SPANS));
    assertEquals(0, run.exitCode(), run.err());
  }

  /** eval's arguments for the classifier and data, writing to {@code out}, then {@code more}. */
  static String[] args(Path out, String... more) {
    List<String> all = new ArrayList<>(List.of("--model", classifier.toString(), "--tokenizer", SparkRuns.TOKENIZER.toString(), "--data",
        data.toString(), "--batch-size", "8", "--quiet", "--out", out.toString()));
    all.addAll(List.of(more));
    return all.toArray(String[]::new);
  }

  private static void assertSameOutputs(Path expected, Path out) throws IOException {
    assertEquals(SparkRuns.resultsWithoutTimestamp(expected), SparkRuns.resultsWithoutTimestamp(out));
    for (String file : List.of("results.csv", "summary.md")) {
      assertEquals(Files.readString(expected.resolve(file)), Files.readString(out.resolve(file)), file);
    }
  }

  @Test
  void givesTheSameResultsAsEvalOnOneMachine() throws IOException {
    Path out = dir.resolve("spark");
    StageNames.SEEN.clear();
    SparkRuns.Run run = SparkRuns.withSparkConf("spark.extraListeners", StageNames.class.getName(),
        () -> SparkRuns.spark(args(out, "--master", "local[2]", "--partitions", "4", "--threads", "1", "--spans", "all")));
    assertEquals(0, run.exitCode(), run.err());
    assertTrue(StageNames.SEEN.contains("onnx-skip eval: 22 variants on 64 examples in 4 partitions"), StageNames.SEEN.toString());
    assertSameOutputs(single, out);
    assertEquals(4, run.err().lines().filter(l -> l.startsWith("spark: partition ")).count(), run.err());
    assertTrue(Files.readString(out.resolve("timing.json")).contains("spark (shared on local[2])"), "timing.json names the engine");
    assertTrue(Files.exists(out.resolve("heatmaps.png")));
  }

  @Test
  void aTaskThatFailsItsFirstAttemptIsRetriedWithTheSameResults() throws IOException {
    // local[N] tries a task once: the injected failure ends the job, which shows the hook does fail the task.
    SparkRuns.Run once = SparkRuns.withSparkConf(SparkEngines.FAIL_FIRST_ATTEMPT_OF, "1",
        () -> SparkRuns.spark(args(dir.resolve("no-retry"), "--master", "local[2]", "--partitions", "4", "--threads", "1", "--spans", FEW_SPANS)));
    assertEquals(1, once.exitCode());
    assertTrue(once.err().contains("partition 1 fails its first attempt on purpose"), once.err());
    // local[N,F] tries each task up to F times, as a cluster does.
    Path out = dir.resolve("retried");
    SparkRuns.Run retried = SparkRuns.withSparkConf(SparkEngines.FAIL_FIRST_ATTEMPT_OF, "1",
        () -> SparkRuns.spark(args(out, "--master", "local[2,2]", "--partitions", "4", "--threads", "1", "--spans", FEW_SPANS)));
    assertEquals(0, retried.exitCode(), retried.err());
    assertSameOutputs(singleFewSpans, out);
  }

  @Test
  void aJobSubmittedAgainAfterTheDriverDiedResumesFromTheJournal() throws IOException {
    Path out = dir.resolve("resumed");
    SparkRuns.Run crashed = SparkRuns.withSparkConf(SparkEngines.DRIVER_STOPS_AFTER, "2",
        () -> SparkRuns.spark(args(out, "--master", "local[2]", "--partitions", "4", "--threads", "1", "--spans", FEW_SPANS)));
    assertEquals(1, crashed.exitCode(), crashed.err());
    assertTrue(crashed.err().contains("stopped after 2 partitions on purpose"), crashed.err());
    assertTrue(Files.exists(out.resolve("journal.jsonl")));
    assertTrue(!Files.exists(out.resolve("results.json")));
    int journaled = SparkRuns.examplesDone(crashed.err(), 1);
    assertTrue(journaled > 0, crashed.err());
    // The job submitted again evaluates only what the journal lacks.
    SparkRuns.Run again = SparkRuns.spark(args(out, "--master", "local[2]", "--partitions", "4", "--threads", "1", "--spans", FEW_SPANS,
        "--resume"));
    assertEquals(0, again.exitCode(), again.err());
    assertEquals(64 - journaled, SparkRuns.examplesDone(again.err(), 2), again.err());
    assertSameOutputs(singleFewSpans, out);
  }
}
