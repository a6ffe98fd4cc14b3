package dev.onnxskip.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.data.SyntheticData;
import dev.onnxskip.data.WordTokenizer;
import dev.onnxskip.graph.Digests;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.testing.SyntheticBert;
import dev.onnxskip.testing.SyntheticBert.Head;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import org.apache.commons.csv.CSVFormat;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An eval run killed with SIGKILL part way and resumed must end with the results of a run that was
 * never interrupted, and leave no broken file; and the journal and lock refuse what would mix runs.
 */
class EvalResumeTest {

  static final Spec SPEC = Spec.tiny(6).withHead(Head.MEAN_POOL_CLASSIFIER, 3);
  static final WordTokenizer WORDS = WordTokenizer.numbered(SPEC.vocab(), true);

  @TempDir static Path dir;
  static Path model;
  static Path tokenizer;
  static Path data;
  static Path otherData;
  static Path otherModel;

  @BeforeAll
  static void write() throws IOException {
    model = dir.resolve("model.onnx");
    ModelIO.save(SyntheticBert.build(SPEC), model);
    otherModel = dir.resolve("other.onnx");
    ModelIO.save(SyntheticBert.build(SPEC.withSeed(2)), otherModel);
    tokenizer = WORDS.write(dir.resolve("tokenizer.json"));
    // Batches of two: dozens of journaled batches (shared engine) or 22 variants (naive), time enough to be killed.
    data = Files.writeString(dir.resolve("data.jsonl"), SyntheticData.jsonLines(SyntheticData.texts(120, SPEC.vocab(), 3), "0", "1", "2"));
    otherData = Files.writeString(dir.resolve("other.jsonl"), SyntheticData.jsonLines(SyntheticData.texts(120, SPEC.vocab(), 4), "0", "1", "2"));
  }

  /** Eval arguments; an option in {@code extra} that the defaults hold replaces its default value. */
  static List<String> evalArgs(Path out, String engine, String... extra) {
    List<String> args = new ArrayList<>(List.of("eval", "--model", model.toString(), "--tokenizer", tokenizer.toString(),
        "--data", data.toString(), "--spans", "all", "--engine", engine, "--batch-size", "2", "--save-predictions", "--quiet",
        "--out", out.toString()));
    for (int i = 0; i < extra.length; i++) {
      int at = args.indexOf(extra[i]);
      if (at > 0 && extra[i].startsWith("--") && i + 1 < extra.length) {
        args.set(at + 1, extra[++i]);
      } else {
        args.add(extra[i]);
      }
    }
    return args;
  }

  static long newlines(Path file) throws IOException {
    if (!Files.exists(file)) {
      return 0;
    }
    byte[] bytes = Files.readAllBytes(file);
    long count = 0;
    for (byte b : bytes) {
      count += b == '\n' ? 1 : 0;
    }
    return count;
  }

  @ParameterizedTest
  @ValueSource(strings = {"shared", "naive"})
  void aRunKilledMidwayResumesToTheResultsOfAnUninterruptedRun(String engine, @TempDir Path tmp) throws Exception {
    Path reference = tmp.resolve("reference");
    EvalCli.ok(evalArgs(reference, engine).toArray(String[]::new));
    long fullRunEntries = newlines(reference.resolve(Journal.FILE)) - 1;

    Path out = tmp.resolve("killed");
    Path journal = out.resolve(Journal.FILE);
    Process run = OnnxSkipProcess.start(evalArgs(out, engine), tmp.resolve("killed.log"));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    // The header and at least two pieces of finished work.
    while (newlines(journal) < 3) {
      if (!run.isAlive()) {
        fail("the run ended before it could be killed (exit " + run.exitValue() + "): " + Files.readString(tmp.resolve("killed.log")));
      }
      if (System.nanoTime() > deadline) {
        run.destroyForcibly();
        fail("no work journaled in time: " + Files.readString(tmp.resolve("killed.log")));
      }
      Thread.sleep(2);
    }
    assertTrue(run.isAlive(), "still running when killed");
    run.destroyForcibly();
    assertTrue(run.waitFor(30, TimeUnit.SECONDS));
    assertEquals(128 + 9, run.exitValue(), "killed by SIGKILL");
    assertFalse(Files.exists(out.resolve("results.json")), "a killed run has no results");
    long journaledBeforeResume = newlines(journal) - 1;
    assertTrue(journaledBeforeResume < fullRunEntries, "killed before the end: " + journaledBeforeResume + " of " + fullRunEntries);

    byte[] killedJournal = Files.readAllBytes(journal);
    EvalCli again = EvalCli.of(evalArgs(out, engine).toArray(String[]::new));
    assertEquals(2, again.exit(), again.err());
    assertEquals("onnx-skip: output folder " + out + " holds an earlier run (journal.jsonl); use --resume to continue it or --force to start over",
        again.err().strip());
    EvalCli otherData = EvalCli.of(evalArgs(out, engine, "--resume", "--data", EvalResumeTest.otherData.toString()).toArray(String[]::new));
    assertRefusedResume(otherData, journal);
    EvalCli otherModel = EvalCli.of(evalArgs(out, engine, "--resume", "--model", EvalResumeTest.otherModel.toString()).toArray(String[]::new));
    assertRefusedResume(otherModel, journal);
    EvalCli otherSettings = EvalCli.of(evalArgs(out, engine, "--resume", "--batch-size", "3").toArray(String[]::new));
    assertRefusedResume(otherSettings, journal);
    assertArrayEquals(killedJournal, Files.readAllBytes(journal), "refused runs leave the journal as it was");

    String printed = EvalCli.ok(evalArgs(out, engine, "--resume").toArray(String[]::new));
    if (engine.equals("naive")) {
      // The naive engine journals whole variants: the ones finished before the kill are not run again.
      assertTrue(printed.matches("(?s).*Evaluated 22 variants on cpu in [0-9.]+ s \\([1-9][0-9]* resumed from the journal\\)\\..*"), printed);
    }
    long computedAfterResume = newlines(journal) - 1 - journaledBeforeResume;
    assertTrue(computedAfterResume < fullRunEntries, "the resumed run skipped finished work: it journaled " + computedAfterResume
        + " pieces, a whole run " + fullRunEntries);

    assertEquals(EvalOutputs.resultsWithoutTimestamp(reference), EvalOutputs.resultsWithoutTimestamp(out));
    assertEquals(Files.readString(reference.resolve("results.csv")), Files.readString(out.resolve("results.csv")));
    assertEquals(EvalOutputs.predictions(reference), EvalOutputs.predictions(out));
    Map<String, float[][]> resumed = EvalOutputs.logits(out);
    EvalOutputs.logits(reference).forEach((variant, logits) -> EvalOutputs.assertClose(logits, resumed.get(variant), 1e-6, variant));
    assertEveryFileIsWhole(out);
  }

  /** Ctrl-C says what finished and how to go on; the resume then says how much the journal held. */
  @Test
  void anInterruptedRunSaysWhatFinishedAndTheResumeWhatItTakes(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("interrupted");
    Path journal = out.resolve(Journal.FILE);
    Path log = tmp.resolve("interrupted.log");
    // Ten times the usual data through whole variants: the naive engine journals one variant at a
    // time, and 20 of 22 variants left take long enough to be interrupted however fast the machine.
    Path large = Files.writeString(tmp.resolve("large.jsonl"),
        SyntheticData.jsonLines(SyntheticData.texts(1200, SPEC.vocab(), 5), "0", "1", "2"));
    Process run = OnnxSkipProcess.start(evalArgs(out, "naive", "--data", large.toString(), "--batch-size", "16"), log);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (newlines(journal) < 3) {
      if (!run.isAlive() || System.nanoTime() > deadline) {
        run.destroyForcibly();
        fail("no work journaled while running: " + Files.readString(log));
      }
      Thread.sleep(2);
    }
    // SIGTERM, which runs the same shutdown hook as Ctrl-C's SIGINT: a test run from a background
    // shell starts its processes with SIGINT ignored, so SIGINT would not reach this one.
    run.destroy();
    assertTrue(run.waitFor(30, TimeUnit.SECONDS));
    assertEquals(128 + 15, run.exitValue(), "ended by SIGTERM: " + Files.readString(log));
    String said = Files.readString(log).strip();
    assertTrue(said.matches("(?s).*onnx-skip: interrupted: \\d+ of 22 variants finished; finished work is journaled in "
        + java.util.regex.Pattern.quote(out.toString()) + ", and the same command with --resume continues it"), said);

    // The baseline and the first span were journaled before the interrupt; the resume takes them and runs one more.
    List<String> resume = new ArrayList<>(evalArgs(out, "naive", "--data", large.toString(), "--batch-size", "16", "--spans", "0-0,0-1",
        "--resume"));
    resume.remove("--quiet");
    EvalCli again = EvalCli.of(resume.toArray(String[]::new));
    assertEquals(0, again.exit(), again.err());
    String first = again.err().lines().findFirst().orElse("");
    assertTrue(first.matches("resuming " + java.util.regex.Pattern.quote(out.toString())
        + ": [23] of 3 variants were finished(, and [1-9][0-9,]* examples of the other \\d+)?"), first);
  }

  /**
   * The spans are not part of what a resume must match: the same spans in another order take
   * everything from the journal, and added spans are the only ones evaluated.
   */
  @Test
  void aResumeEvaluatesOnlyTheSpansTheJournalLacks(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("run");
    EvalCli.ok(evalArgs(out, "naive", "--spans", "0-0,1-1").toArray(String[]::new));
    Path journal = out.resolve(Journal.FILE);
    byte[] finished = Files.readAllBytes(journal);
    String printed = EvalCli.ok(evalArgs(out, "naive", "--spans", "1-1, 0", "--resume").toArray(String[]::new));
    assertTrue(printed.contains("Evaluated 3 variants on cpu in ") && printed.contains("(3 resumed from the journal)"), printed);
    assertArrayEquals(finished, Files.readAllBytes(journal), "nothing was run again");

    printed = EvalCli.ok(evalArgs(out, "naive", "--spans", "0-0,1-1,2-2", "--resume").toArray(String[]::new));
    assertTrue(printed.contains("Evaluated 4 variants on cpu in ") && printed.contains("(3 resumed from the journal)"), printed);
    List<String> lines = Files.readAllLines(journal);
    List<String> added = lines.subList(new String(finished, StandardCharsets.UTF_8).split("\n").length, lines.size());
    assertFalse(added.isEmpty());
    assertTrue(added.stream().allMatch(l -> l.startsWith("{\"span\":[2,2]")), "only the new span was journaled");

    Path fresh = tmp.resolve("fresh");
    EvalCli.ok(evalArgs(fresh, "naive", "--spans", "0-0,1-1,2-2").toArray(String[]::new));
    assertEquals(EvalOutputs.resultsWithoutTimestamp(fresh).replace(fresh.toString(), "OUT"),
        EvalOutputs.resultsWithoutTimestamp(out).replace(out.toString(), "OUT"), "the same results as a run of all three at once");
  }

  /** A refused resume names what differs: which input's digest, or which setting, with both values. */
  @Test
  void aRefusedResumeSaysWhatDiffers(@TempDir Path out) throws Exception {
    EvalCli.ok(evalArgs(out, "naive", "--spans", "0-0").toArray(String[]::new));
    Path journal = out.resolve(Journal.FILE);
    EvalCli batch = EvalCli.of(evalArgs(out, "naive", "--spans", "0-0", "--resume", "--batch-size", "3").toArray(String[]::new));
    assertRefusedResume(batch, journal);
    assertTrue(batch.err().contains("was written for another run: batch_size (2 before, 3 now); use --force"), batch.err());
    EvalCli both = EvalCli.of(evalArgs(out, "naive", "--spans", "0-0", "--resume", "--data", otherData.toString(), "--max-length", "20")
        .toArray(String[]::new));
    assertRefusedResume(both, journal);
    String sha = Digests.sha256(data).substring(0, 12);
    String otherSha = Digests.sha256(otherData).substring(0, 12);
    assertTrue(both.err().contains("was written for another run: the data set (sha256 " + sha + "… before, " + otherSha
        + "… now); max_length (128 before, 20 now); use --force"), both.err());
  }

  private static void assertRefusedResume(EvalCli run, Path journal) {
    assertEquals(2, run.exit(), run.err());
    assertTrue(run.err().strip().lines().count() == 1, run.err());
    assertTrue(run.err().startsWith("onnx-skip: cannot resume: " + journal + " was written for another run: "), run.err());
    assertTrue(run.err().strip().endsWith("; use --force to start over"), run.err());
  }

  /** Every output parses as what its name says; no temporary file is left. */
  static void assertEveryFileIsWhole(Path out) throws Exception {
    ObjectMapper json = new ObjectMapper();
    List<Path> files;
    try (Stream<Path> list = Files.list(out)) {
      files = list.toList();
    }
    assertTrue(files.size() > 10, "outputs: " + files);
    for (Path file : files) {
      String name = file.getFileName().toString();
      assertFalse(name.endsWith(".tmp"), "left over: " + name);
      if (name.endsWith(".json")) {
        assertNotNull(json.readTree(file.toFile()), name);
      } else if (name.endsWith(".jsonl")) {
        for (String line : Files.readAllLines(file)) {
          json.readTree(line);
        }
      } else if (name.endsWith(".png")) {
        assertNotNull(ImageIO.read(file.toFile()), name + " loads as an image");
      } else if (name.endsWith(".svg")) {
        DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file.toFile());
      } else if (name.endsWith(".md")) {
        assertTrue(Files.readString(file).startsWith("## Variants\n"), name + " is the whole summary");
        assertTrue(Files.readString(file).endsWith("(<heatmaps.png>)\n"), name + " ends with its last line");
      } else if (name.endsWith(".csv")) {
        assertTrue(CSVFormat.DEFAULT.parse(new StringReader(Files.readString(file))).getRecords().size() > 1, name);
      } else {
        fail("an output of an unknown kind: " + name + " (the lock is removed when the run ends)");
      }
    }
  }

  @Test
  void aSecondRunOnTheSameFolderIsRefusedByTheLock(@TempDir Path out) throws Exception {
    try (Journal held = Journal.open(out, RunKey.of(Map.of("run", "in progress")), false, false)) {
      Path log = out.resolveSibling(out.getFileName() + ".log");
      Process other = OnnxSkipProcess.start(evalArgs(out, "shared", "--resume"), log);
      assertTrue(other.waitFor(120, TimeUnit.SECONDS), "refused at once");
      String err = Files.readString(log).strip();
      assertEquals(1, other.exitValue(), err);
      assertEquals("onnx-skip: output folder " + out + " is in use by another onnx-skip run (lock " + out.resolve(Journal.LOCK) + ")",
          err);
      // The same inside one process, where the lock shows up differently.
      EvalCli inProcess = EvalCli.of(evalArgs(out, "shared", "--resume").toArray(String[]::new));
      assertEquals(1, inProcess.exit());
      assertEquals(err, inProcess.err().strip());
      assertFalse(Files.exists(out.resolve("results.json")));
    }
  }

  @Test
  void resumingWithOtherWeightsInTheExternalDataFileIsRefused(@TempDir Path tmp) throws IOException {
    Path modelFile = withExternalWeights(SyntheticBert.build(SPEC), tmp.resolve("ext"));
    byte[] structure = Files.readAllBytes(modelFile);
    Path out = tmp.resolve("out");
    String[] args = evalArgs(out, "shared", "--model", modelFile.toString(), "--spans", "0-0").toArray(String[]::new);
    EvalCli.ok(args);
    List<String> resume = new ArrayList<>(List.of(args));
    resume.add("--resume");
    assertTrue(EvalCli.ok(resume.toArray(String[]::new)).contains("(2 resumed from the journal)"), "the same weights resume");

    withExternalWeights(SyntheticBert.build(SPEC.withSeed(2)), tmp.resolve("ext"));
    assertArrayEquals(structure, Files.readAllBytes(modelFile), "only the weights file changed");
    assertRefusedResume(EvalCli.of(resume.toArray(String[]::new)), out.resolve(Journal.FILE));
  }

  /** Saves a model as model.onnx in {@code dir} with its weights in weights.bin beside it. */
  static Path withExternalWeights(ModelProto model, Path dir) throws IOException {
    Files.createDirectories(dir);
    GraphProto.Builder graph = model.getGraph().toBuilder();
    ByteArrayOutputStream weights = new ByteArrayOutputStream();
    for (int i = 0; i < graph.getInitializerCount(); i++) {
      TensorProto t = graph.getInitializer(i);
      if (t.getRawData().isEmpty()) {
        continue;
      }
      TensorProto.Builder external = t.toBuilder().clearRawData().setDataLocation(TensorProto.DataLocation.EXTERNAL)
          .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue("weights.bin"))
          .addExternalData(StringStringEntryProto.newBuilder().setKey("offset").setValue(Integer.toString(weights.size())))
          .addExternalData(StringStringEntryProto.newBuilder().setKey("length").setValue(Integer.toString(t.getRawData().size())));
      t.getRawData().writeTo(weights);
      graph.setInitializer(i, external);
    }
    Files.write(dir.resolve("weights.bin"), weights.toByteArray());
    Path file = dir.resolve("model.onnx");
    ModelIO.save(model.toBuilder().setGraph(graph).build(), file);
    return file;
  }
}
