package dev.onnxskip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.data.SyntheticData;
import dev.onnxskip.data.WordTokenizer;
import dev.onnxskip.eval.OnnxSkipProcess;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.testing.SyntheticBert.Head;
import dev.onnxskip.testing.SyntheticBert.Spec;
import dev.onnxskip.testing.SyntheticBert;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code onnx-skip eval} from the command line on tiny synthetic models: what it writes and prints,
 * and how it refuses bad input (exit code, one line naming the problem, no results left behind).
 */
class EvalCommandTest {

  static final WordTokenizer WORDS = WordTokenizer.numbered(64, true);
  static final Spec SPEC = Spec.tiny(3).withHead(Head.MEAN_POOL_CLASSIFIER, 2);

  @TempDir static Path dir;
  static Path classifier;
  static Path encoder;
  static Path tokenizer;
  static Path data;

  @BeforeAll
  static void write() throws IOException {
    classifier = dir.resolve("classifier.onnx");
    ModelIO.save(SyntheticBert.build(SPEC), classifier);
    encoder = dir.resolve("encoder.onnx");
    ModelIO.save(SyntheticBert.build(Spec.tiny(3)), encoder);
    tokenizer = WORDS.write(dir.resolve("tokenizer.json"));
    data = Files.writeString(dir.resolve("data.jsonl"), SyntheticData.jsonLines(SyntheticData.texts(20, 64, 1), "0", "1"));
  }

  /** Eval arguments: {@code extra}, plus the test's model, tokenizer and data unless {@code extra} names others. */
  static String[] args(Path out, String... extra) {
    List<String> given = List.of(extra);
    List<String> all = new ArrayList<>(List.of("eval", "--out", out.toString(), "--quiet"));
    for (String[] option : new String[][] {{"--model", classifier.toString()}, {"--tokenizer", tokenizer.toString()},
        {"--data", data.toString()}}) {
      if (!given.contains(option[0])) {
        all.addAll(List.of(option));
      }
    }
    all.addAll(given);
    return all.toArray(String[]::new);
  }

  /** Runs eval expecting a refusal: the exit code, one stderr line holding {@code message}, no results. */
  static String refused(int exit, String message, Path out, String... extra) {
    CliRun run = CliRun.of(args(out, extra));
    assertEquals(exit, run.exit(), run.err());
    assertTrue(run.oneLineError(), "one line: " + run.err());
    assertTrue(run.err().contains(message), "expected '" + message + "' in: " + run.err());
    assertFalse(Files.exists(out.resolve("results.json")), "no results.json after a refusal");
    try (Stream<Path> left = Files.list(out)) {
      // Not even a journal: a refused run must not make the next one need --resume or --force.
      assertEquals(List.of(), left.toList(), "nothing written to --out");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return run.err().strip();
  }

  @Test
  void writesEveryOutputAndASummary(@TempDir Path out) throws IOException {
    CliRun run = CliRun.of(args(out, "--save-predictions"));
    assertEquals(0, run.exit(), run.err());
    assertEquals("", run.err(), "--quiet prints nothing on stderr");
    assertTrue(run.out().contains("## Baseline"), run.out());
    assertTrue(run.out().contains("Evaluated 7 variants on cpu in "), run.out());
    for (String file : List.of("results.json", "results.csv", "timing.json", "predictions.jsonl", "journal.jsonl",
        "heatmaps.png", "heatmaps.svg", "heatmap-0.png", "heatmap-1-delta.svg")) {
      assertTrue(Files.size(out.resolve(file)) > 0, file);
      if (!file.startsWith("journal")) {
        assertTrue(run.out().contains(out.resolve(file).toString()), "listed: " + file);
      }
    }
    JsonNode results = new ObjectMapper().readTree(out.resolve("results.json").toFile());
    assertEquals(3, results.get("layers").asInt());
    assertEquals(7, results.get("variants").size(), "the baseline and 6 spans");
    assertEquals(20, results.get("provenance").get("examples").asInt());
    assertEquals("logit indices", results.get("provenance").get("labels_from").asText());
  }

  /**
   * timing.json and the closing line tell the run's time by phase, with each engine: the engine's
   * phases add up to its time, and a run resumed whole from its journal ran no sessions.
   */
  @ParameterizedTest
  @ValueSource(strings = {"shared", "naive"})
  void timingTellsTheRunsPhases(String engine, @TempDir Path out) throws IOException {
    CliRun run = CliRun.of(args(out, "--engine", engine));
    assertEquals(0, run.exit(), run.err());
    JsonNode timing = new ObjectMapper().readTree(out.resolve("timing.json").toFile());
    JsonNode phases = timing.get("phases_seconds");
    List<String> names = new ArrayList<>();
    phases.fieldNames().forEachRemaining(names::add);
    // No start-up phase in a test: the JVM did not start for this command.
    assertEquals(List.of("model", "tokenize", "digests", "sessions", "baseline_runs", "span_runs", "journal", "engine_other", "scoring",
        "reports"), names);
    phases.forEach(seconds -> assertTrue(seconds.asDouble() >= 0, phases.toString()));
    double engineParts = phases.get("sessions").asDouble() + phases.get("baseline_runs").asDouble() + phases.get("span_runs").asDouble()
        + phases.get("journal").asDouble() + phases.get("engine_other").asDouble();
    assertEquals(timing.get("seconds").asDouble(), engineParts, 1e-6, "the engine's phases add up to its time: " + timing);
    assertTrue(phases.get("baseline_runs").asDouble() > 0 && phases.get("span_runs").asDouble() > 0, phases.toString());
    String line = run.out().lines().filter(l -> l.startsWith("Time: ")).findFirst().orElseThrow(() -> new AssertionError(run.out()));
    assertTrue(line.matches("Time: model [0-9.]+ s · tokenize [0-9.]+ s · digests [0-9.]+ s · sessions [0-9.]+ s · baseline runs [0-9.]+ s"
        + " · span runs [0-9.]+ s · journal [0-9.]+ s · engine other [0-9.]+ s · scoring [0-9.]+ s · reports [0-9.]+ s\\."), line);

    CliRun resumed = CliRun.of(args(out, "--engine", engine, "--resume"));
    assertEquals(0, resumed.exit(), resumed.err());
    JsonNode again = new ObjectMapper().readTree(out.resolve("timing.json").toFile()).get("phases_seconds");
    assertFalse(again.has("sessions") || again.has("baseline_runs") || again.has("span_runs") || again.has("journal")
        || again.has("engine_other"),
        "nothing ran: " + again);
  }

  /** A command in a JVM of its own also tells how long that JVM took to reach it, as the first phase. */
  @Test
  void aProcessOfItsOwnTellsItsStartUp(@TempDir Path out) throws Exception {
    Path log = out.resolveSibling(out.getFileName() + ".log");
    Process run = OnnxSkipProcess.start(List.of(args(out, "--spans", "0-0")), log);
    assertTrue(run.waitFor(120, TimeUnit.SECONDS));
    assertEquals(0, run.exitValue(), Files.readString(log));
    JsonNode phases = new ObjectMapper().readTree(out.resolve("timing.json").toFile()).get("phases_seconds");
    assertEquals("start", phases.fieldNames().next(), phases.toString());
    double start = phases.get("start").asDouble();
    assertTrue(start > 0 && start < 60, "JVM start-up: " + start + " s");
  }

  /**
   * The data and tokens are read beside the model, yet errors come in the order of the steps: a
   * missing model before missing data, missing data before a missing tokenizer.
   */
  @Test
  void errorsComeInTheOrderOfTheSteps(@TempDir Path out) {
    Path noModel = out.resolveSibling(out.getFileName() + "-none.onnx");
    Path noData = out.resolveSibling(out.getFileName() + "-none.jsonl");
    Path noTokenizer = out.resolveSibling(out.getFileName() + "-none.json");
    refused(1, noModel + ": no such file", out, "--model", noModel.toString(), "--data", noData.toString(), "--tokenizer", noTokenizer.toString());
    refused(1, "data file not found: " + noData, out, "--data", noData.toString(), "--tokenizer", noTokenizer.toString());
    refused(1, "tokenizer file not found: " + noTokenizer, out, "--tokenizer", noTokenizer.toString());
  }

  @Test
  void aGoldLabelTheModelHasNoLogitForIsNamedWithItsLine(@TempDir Path out) throws IOException {
    Path bad = Files.writeString(out.resolveSibling(out.getFileName() + "-three.jsonl"), SyntheticData.jsonLines(SyntheticData.texts(6, 64, 2), "0", "1", "2"));
    String err = refused(1, bad + " line 3: label '2' is not one of the model's labels: 0, 1 (from logit indices)", out,
        "--data", bad.toString());
    assertTrue(err.startsWith("onnx-skip: "), err);

    Path named = Files.writeString(out.resolveSibling(out.getFileName() + "-named.jsonl"), SyntheticData.jsonLines(SyntheticData.texts(4, 64, 2), "neg", "pos", "meh"));
    refused(1, named + " line 3: label 'meh' is not one of the model's labels: neg, pos (from --labels)", out,
        "--data", named.toString(), "--labels", "neg,pos");
  }

  @Test
  void moreLabelNamesThanLogitsIsAUsageError(@TempDir Path out) {
    refused(2, "model has 2 logits but 3 labels are named: neg, meh, pos (from --labels)", out, "--labels", "neg,meh,pos");
  }

  @Test
  void anEmptyDataSetIsRefused(@TempDir Path out) throws IOException {
    Path empty = Files.writeString(out.resolveSibling(out.getFileName() + "-empty.jsonl"), "\n\n");
    refused(1, empty + " is empty", out, "--data", empty.toString());
    Path headerOnly = Files.writeString(out.resolveSibling(out.getFileName() + "-header.csv"), "text,label\n");
    refused(1, headerOnly + " has no examples, only a header", out, "--data", headerOnly.toString());
  }

  @Test
  void aMissingColumnIsNamedWithTheColumnsThereAre(@TempDir Path out) throws IOException {
    refused(1, data + " line 1: no field 'sentence' (fields: text, label)", out, "--text-column", "sentence");
    Path csv = Files.writeString(out.resolveSibling(out.getFileName() + ".csv"), "sentence,gold\nw4 w5,0\n");
    refused(1, csv + " line 1: no column 'text' in the header (columns: sentence, gold)", out, "--data", csv.toString());
  }

  @Test
  void aMalformedRowIsNamedByItsLine(@TempDir Path out) throws IOException {
    Path jsonl = Files.writeString(out.resolveSibling(out.getFileName() + ".jsonl"),
        "{\"text\": \"w4\", \"label\": \"0\"}\n{\"text\": \"w5\", \"label\": \"1\"}\n{\"text\": \"w6\", \"label\": \n");
    refused(1, jsonl + " line 3: invalid JSON", out, "--data", jsonl.toString());
    Path csv = Files.writeString(out.resolveSibling(out.getFileName() + ".csv"), "text,label\nw4 w5,0\nw6,1,extra\n");
    refused(1, csv + " line 3: expected 2 fields as in the header, got 3", out, "--data", csv.toString());
  }

  @Test
  void aTokenizerThatDoesNotParseIsNamed(@TempDir Path out) throws IOException {
    Path broken = Files.writeString(out.resolveSibling(out.getFileName() + "-tokenizer.json"), "{\"model\": {\"vocab\": ");
    refused(1, broken + ": not a tokenizer.json: invalid JSON at line 1", out, "--tokenizer", broken.toString());
  }

  @Test
  void badRuntimeSettingsAreUsageErrors(@TempDir Path out) {
    assertEquals("onnx-skip: --batch-size must be positive, got 0", refused(2, "--batch-size", out, "--batch-size", "0"));
    assertEquals("onnx-skip: --threads must be at least 1 (leave it out for the runtime's default), got -1",
        refused(2, "--threads", out, "--threads", "-1"));
    assertEquals("onnx-skip: --threads must be at least 1 (leave it out for the runtime's default), got 0",
        refused(2, "--threads", out, "--threads", "0"));
    refused(2, "unknown device 'tpu': expected cpu, cuda, cuda:N or auto", out, "--device", "tpu");
    refused(2, "unknown engine 'fast': expected shared or naive", out, "--engine", "fast");
  }

  @Test
  void cudaOnThisCpuBuildSaysWhatIsMissing(@TempDir Path out) {
    refused(1, "--device cuda:0: this build of onnx-skip has no CUDA support; build it with 'mvn -Pgpu package'", out,
        "--device", "cuda");
  }

  @Test
  void anEncoderWithoutLogitsPointsToProbe(@TempDir Path out) {
    String err = refused(1, "no logits output", out, "--model", encoder.toString());
    assertTrue(err.contains("'onnx-skip probe' trains one"), err);
    assertTrue(err.contains("last_hidden_state"), err);
  }

  @Test
  void aTokenizerWithMoreIdsThanEmbeddingRowsIsRefused(@TempDir Path out) {
    Path miniLm = Path.of("models/minilm-l6/tokenizer.json");
    refused(1, miniLm + ": the tokenizer's vocabulary has 30522 tokens but the model's embedding table " + classifier
        + " has only 64 rows", out, "--tokenizer", miniLm.toString());
  }

  @Test
  void autoDeviceFallsBackToTheCpuAndSaysSo(@TempDir Path out) {
    CliRun run = CliRun.of(args(out, "--device", "auto", "--spans", "0-0"));
    assertEquals(0, run.exit(), run.err());
    assertTrue(run.out().contains("Evaluated 2 variants on auto: CUDA unavailable (this build of onnx-skip has no CUDA support;"),
        run.out());
    assertTrue(run.out().contains("), using cpu in "), run.out());
  }

  @Test
  void spansListedOutOfOrderAreReportedInLayerOrder(@TempDir Path out) throws IOException {
    CliRun run = CliRun.of(args(out, "--spans", "2-2,0-1"));
    assertEquals(0, run.exit(), run.err());
    JsonNode variants = new ObjectMapper().readTree(out.resolve("results.json").toFile()).get("variants");
    assertEquals("[null,[0,1],[2,2]]", List.of(variants.get(0), variants.get(1), variants.get(2)).stream()
        .map(v -> v.get("span").toString()).toList().toString().replace(" ", ""));
  }

  /**
   * A failure inside ONNX Runtime: a text longer than the model's 8 positions, a table too small to
   * be told from a token-type table, so that only ONNX Runtime finds the text too long (a table of
   * 16 rows or more is found and such texts are refused up front, see BadInputTest). Run in a
   * process of its own, so that anything the native library writes to stderr would show: still one
   * line. The failed run finished nothing, so the corrected run needs neither --resume nor --force.
   */
  @Test
  void aFailureInsideOnnxRuntimeIsOneLineAndDoesNotBlockTheNextRun(@TempDir Path out) throws Exception {
    Path shortModel = out.resolveSibling(out.getFileName() + "-8.onnx");
    ModelIO.save(SyntheticBert.build(SPEC.withMaxPositions(8)), shortModel);
    Path tooLong = Files.writeString(out.resolveSibling(out.getFileName() + "-long.jsonl"),
        SyntheticData.jsonLines(List.of("w4 w5 w6 w7 w8 w9 w10 w11 w12 w13", "w5 w6"), "0", "1"));
    Path log = out.resolveSibling(out.getFileName() + ".log");
    Process run = OnnxSkipProcess.start(List.of(args(out, "--model", shortModel.toString(), "--data", tooLong.toString())), log);
    assertTrue(run.waitFor(120, TimeUnit.SECONDS));
    String err = Files.readString(log);
    assertEquals(1, run.exitValue(), err);
    assertEquals(1, err.strip().lines().count(), "one line: " + err);
    assertTrue(err.startsWith("onnx-skip: ONNX Runtime failed"), err);
    assertFalse(Files.exists(out.resolve("results.json")));

    CliRun shorter = CliRun.of(args(out, "--model", shortModel.toString(), "--data", tooLong.toString(), "--max-length", "8"));
    assertEquals(0, shorter.exit(), shorter.err());
  }

  /** With a position table that can be told, the same mistake is refused before anything runs, naming the line. */
  @Test
  void aTextLongerThanThePositionsIsRefusedUpFront(@TempDir Path out) throws Exception {
    Path tooLong = Files.writeString(out.resolveSibling(out.getFileName() + "-long.jsonl"),
        SyntheticData.jsonLines(List.of("w5 w6", String.join(" ", java.util.Collections.nCopies(99, "w7"))), "0", "1"));
    CliRun run = CliRun.of(args(out, "--data", tooLong.toString(), "--max-length", "200"));
    assertEquals(2, run.exit(), run.err());
    assertTrue(run.oneLineError(), run.err());
    assertEquals("onnx-skip: " + tooLong + " line 2: the text has 101 tokens, more than the model's 64 positions; use --max-length 64 or less",
        run.err().strip());
    assertFalse(Files.exists(out.resolve("results.json")));
  }

  @Test
  void forceStartsOverWithoutTheEarlierRunsFiles(@TempDir Path out) throws IOException {
    assertEquals(0, CliRun.of(args(out, "--spans", "0-0", "--save-predictions")).exit());
    assertTrue(Files.exists(out.resolve("heatmap-0.png")) && Files.exists(out.resolve("predictions.jsonl")));
    Path notOurs = Files.writeString(out.resolve("notes.txt"), "kept");

    CliRun again = CliRun.of(args(out, "--spans", "0-0", "--labels", "neg,pos"));
    assertEquals(2, again.exit(), again.err());
    assertTrue(again.err().contains("holds an earlier run (journal.jsonl); use --resume to continue it or --force to start over"));

    CliRun forced = CliRun.of(args(out, "--spans", "0-0", "--labels", "neg,pos", "--force"));
    assertEquals(0, forced.exit(), forced.err());
    assertTrue(Files.exists(out.resolve("heatmap-neg.png")));
    assertFalse(Files.exists(out.resolve("heatmap-0.png")), "a heatmap of a label the new run does not have");
    assertFalse(Files.exists(out.resolve("predictions.jsonl")), "predictions the new run did not ask for");
    assertEquals("kept", Files.readString(notOurs));
  }
}
