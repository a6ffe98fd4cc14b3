package dev.onnxskip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxskip.data.SyntheticData;
import dev.onnxskip.data.WordTokenizer;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.testing.SyntheticBert;
import dev.onnxskip.testing.SyntheticBert.Head;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What eval and probe say on stderr while they run, where stderr is not a terminal (as in these
 * tests, a log or CI): a few plain progress lines, and warnings as they happen, with or without
 * --quiet.
 */
class EvalMessagesTest {

  static final WordTokenizer WORDS = WordTokenizer.numbered(64, true);
  static final Spec SPEC = Spec.tiny(3).withHead(Head.MEAN_POOL_CLASSIFIER, 2);
  static final int EXAMPLES = 20;

  @TempDir static Path dir;
  static Path classifier;
  static Path tokenizer;
  static Path data;

  @BeforeAll
  static void write() throws IOException {
    classifier = dir.resolve("classifier.onnx");
    ModelIO.save(SyntheticBert.build(SPEC), classifier);
    tokenizer = WORDS.write(dir.resolve("tokenizer.json"));
    data = Files.writeString(dir.resolve("data.jsonl"), SyntheticData.jsonLines(SyntheticData.texts(EXAMPLES, 64, 1), "0", "1"));
  }

  static CliRun eval(Path out, String... extra) {
    List<String> args = new ArrayList<>(List.of("eval", "--model", classifier.toString(), "--tokenizer", tokenizer.toString(),
        "--data", data.toString(), "--out", out.toString()));
    args.addAll(Arrays.asList(extra));
    return CliRun.of(args.toArray(String[]::new));
  }

  @Test
  void withoutATerminalProgressIsAFewPlainLines(@TempDir Path out) {
    CliRun run = eval(out, "--spans", "0-0,1-1");
    assertEquals(0, run.exit(), run.err());
    List<String> lines = run.err().strip().lines().toList();
    assertEquals("running on cpu: 3 variants to evaluate", lines.get(0));
    // The last line counts every example once per variant: 3 variants of 20 examples.
    String last = lines.get(lines.size() - 1);
    assertTrue(last.matches("eval: 60 of 60 examples \\([0-9,]+ ex/s\\), 3 of 3 variants done"), last);
    assertTrue(lines.size() <= 4, "a few lines, not one per batch: " + lines);
    assertTrue(lines.stream().noneMatch(l -> l.contains("\u001b") || l.contains("\r")), "no terminal control characters");

    CliRun quiet = eval(out.resolveSibling(out.getFileName() + "-quiet"), "--spans", "0-0", "--quiet");
    assertEquals(0, quiet.exit(), quiet.err());
    assertEquals("", quiet.err(), "--quiet prints nothing on stderr");
  }

  /** A resume says first how much of the work the journal already held. */
  @Test
  void aResumeSaysWhatWasAlreadyDone(@TempDir Path out) {
    assertEquals(0, eval(out, "--spans", "0-0", "--quiet").exit());
    CliRun more = eval(out, "--spans", "0-0,1-1,2-2", "--resume");
    assertEquals(0, more.exit(), more.err());
    List<String> lines = more.err().strip().lines().toList();
    assertEquals("resuming " + out + ": 2 of 4 variants were finished", lines.get(0));
    assertEquals("running on cpu: 2 variants to evaluate", lines.get(1));
  }

  @Test
  void moreThreadsThanProcessorsIsAWarning(@TempDir Path out) {
    int processors = Runtime.getRuntime().availableProcessors();
    int threads = processors + 7;
    CliRun run = eval(out, "--spans", "0-0", "--quiet", "--threads", Integer.toString(threads));
    assertEquals(0, run.exit(), run.err());
    assertEquals("onnx-skip: warning: --threads " + threads + " is more than the " + processors + " processors available;"
        + " ONNX Runtime will run slower, not faster (leave --threads out for its default)", run.err().strip());
    CliRun fits = eval(out.resolveSibling(out.getFileName() + "-fits"), "--spans", "0-0", "--quiet", "--threads",
        Integer.toString(processors));
    assertEquals("", fits.err(), "no warning at the processor count");
  }

  /** This build has no CUDA: auto says so when it falls back, before any progress, even with --quiet. */
  @Test
  void aFallbackToTheCpuIsSaidWhenItHappens(@TempDir Path out) {
    CliRun run = eval(out, "--spans", "0-0", "--device", "auto");
    assertEquals(0, run.exit(), run.err());
    List<String> lines = run.err().strip().lines().toList();
    assertEquals("onnx-skip: warning: --device auto: CUDA is unavailable (this build of onnx-skip has no CUDA support;"
        + " build it with 'mvn -Pgpu package' (or 'make build-gpu')); running on the CPU", lines.get(0));
    assertTrue(lines.get(1).startsWith("running on auto: CUDA unavailable"), lines.get(1));
    CliRun quiet = eval(out.resolveSibling(out.getFileName() + "-quiet"), "--spans", "0-0", "--device", "auto", "--quiet");
    assertEquals(lines.get(0), quiet.err().strip());
  }

  /** More folds than a label has examples is refused once the data is read, before any model runs. */
  @Test
  void moreFoldsThanTheSmallestLabelHasIsAUsageError(@TempDir Path out) throws IOException {
    long zeros = Files.readAllLines(data).stream().filter(l -> l.contains("\"label\": \"0\"") || l.contains("\"label\":\"0\"")).count();
    long ones = EXAMPLES - zeros;
    long smallest = Math.min(zeros, ones);
    String label = zeros <= ones ? "0" : "1";
    CliRun run = eval(out, "--spans", "0-0", "--quiet", "--folds", Long.toString(smallest + 1));
    assertEquals(2, run.exit(), run.err());
    assertEquals("onnx-skip: --folds " + (smallest + 1) + " is more than the " + smallest + " examples of label '" + label
        + "'; use --folds " + smallest + " or less", run.err().strip());
    assertTrue(Files.notExists(out.resolve("journal.jsonl")), "refused before the journal");
  }
}
