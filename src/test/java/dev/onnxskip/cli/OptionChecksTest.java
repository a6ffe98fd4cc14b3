package dev.onnxskip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Options are checked by the option group that owns them, before any input is read: the model given
 * here is not even an ONNX file, so reaching it would fail with another message. The options eval
 * and probe share have one rule each; closed choices list their values in --help.
 */
class OptionChecksTest {

  /** The command line of {@code command} with placeholder inputs that are never read, plus {@code extra}. */
  private static String[] args(String command, Path dir, String... extra) throws IOException {
    Path notAModel = Files.writeString(dir.resolve("not-a-model.onnx"), "not a model\n");
    Path data = Files.writeString(dir.resolve("data.jsonl"), "{\"text\": \"good\", \"label\": \"pos\"}\n");
    List<String> args = new ArrayList<>(command.equals("eval")
        ? List.of("eval", "--model", notAModel.toString(), "--data", data.toString(), "--out", dir.resolve("out").toString(), "--quiet")
        : List.of("probe", "--model", notAModel.toString(), "--train", data.toString(), "-o", dir.resolve("probe.onnx").toString()));
    args.addAll(List.of("--tokenizer", dir.resolve("tokenizer.json").toString()));
    args.addAll(Arrays.asList(extra));
    return args.toArray(String[]::new);
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource(delimiter = '|', textBlock = """
      --max-length | 1  | --max-length must be at least 2, got 1
      --max-length | 0  | --max-length must be at least 2, got 0
      --batch-size | 0  | --batch-size must be positive, got 0
      --threads    | 0  | --threads must be at least 1 (leave it out for the runtime's default), got 0
      --threads    | -2 | --threads must be at least 1 (leave it out for the runtime's default), got -2
      """)
  void evalAndProbeRefuseABadValueAlikeBeforeReadingTheModel(String option, String value, String message, @TempDir Path tmp)
      throws IOException {
    for (String command : List.of("eval", "probe")) {
      Path dir = Files.createDirectory(tmp.resolve(command));
      CliRun run = CliRun.of(args(command, dir, option, value));
      assertEquals(2, run.exit(), command + ": " + run.err());
      assertTrue(run.oneLineError(), command + ": " + run.err());
      assertEquals("onnx-skip: " + message, run.err().strip(), command);
      try (Stream<Path> files = Files.list(dir)) {
        assertEquals(List.of("data.jsonl", "not-a-model.onnx"), files.map(p -> p.getFileName().toString()).sorted().toList(),
            command + " wrote nothing");
      }
    }
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource(delimiter = '|', textBlock = """
      --alpha     | 0   | --alpha must lie between 0 and 1, got 0.0
      --alpha     | 1   | --alpha must lie between 0 and 1, got 1.0
      --bootstrap | -1  | --bootstrap must be 0 (none) or more resamples, got -1
      --folds     | 1   | --folds must be at least 2, got 1
      """)
  void aBadStatisticsSettingIsRefusedBeforeReadingTheModel(String option, String value, String message, @TempDir Path tmp)
      throws IOException {
    CliRun run = CliRun.of(args("eval", tmp, option, value));
    assertEquals(2, run.exit(), run.err());
    assertEquals("onnx-skip: " + message, run.err().strip());
    assertTrue(Files.notExists(tmp.resolve("out")), "nothing written");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      2-x     | malformed span '2-x': expected START-END with layer numbers from 0, e.g. 2-3
      3-1     | inverted span '3-1': the first layer must not come after the last, e.g. 1-3
      1-1,1   | span 1-1 is listed twice
      """)
  void aMalformedSpanListIsRefusedBeforeTheModelIsRead(String spans, String message, @TempDir Path tmp) throws IOException {
    CliRun eval = CliRun.of(args("eval", tmp, "--spans", spans));
    assertEquals(2, eval.exit(), eval.err());
    assertEquals("onnx-skip: " + message, eval.err().strip());
    Path notAModel = tmp.resolve("not-a-model.onnx");
    CliRun rewrite = CliRun.of("rewrite", notAModel.toString(), "--spans", spans, "-o", tmp.resolve("variants").toString());
    assertEquals(2, rewrite.exit(), rewrite.err());
    assertEquals("onnx-skip: " + message, rewrite.err().strip());
    assertTrue(Files.notExists(tmp.resolve("variants")) && Files.notExists(tmp.resolve("out")), "nothing written");
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource(delimiter = '|', textBlock = """
      eval  | --engine  | One of shared, naive:
      probe | --pooling | One of mean, cls:
      """)
  void helpListsTheChoices(String command, String option, String listed) {
    CliRun run = CliRun.of(command, "--help");
    assertEquals(0, run.exit(), run.err());
    String line = run.out().lines().filter(l -> l.strip().startsWith(option)).findFirst().orElseThrow();
    assertTrue(line.contains(listed), line);
  }

  @ParameterizedTest(name = "{0} {1} {2}")
  @CsvSource(delimiter = '|', textBlock = """
      eval  | --engine  | fast | unknown engine 'fast': expected shared or naive
      probe | --pooling | max  | unknown pooling 'max': expected mean or cls
      """)
  void anUnknownChoiceIsAOneLineUsageError(String command, String option, String value, String message, @TempDir Path tmp)
      throws IOException {
    CliRun run = CliRun.of(args(command, tmp, option, value));
    assertEquals(2, run.exit(), run.err());
    assertTrue(run.oneLineError(), run.err());
    assertEquals("onnx-skip: Invalid value for option '" + option + "': " + message + " (try 'onnx-skip " + command + " --help')",
        run.err().strip());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"NAIVE", "Naive", "naive"})
  void aChoiceIsTakenInAnyCase(String value, @TempDir Path tmp) throws IOException {
    // The value is accepted: the run gets as far as the model, which is not one.
    CliRun run = CliRun.of(args("eval", tmp, "--engine", value));
    assertEquals(1, run.exit(), run.err());
    assertTrue(run.err().contains("not-a-model.onnx"), run.err());
  }

  /**
   * One output policy for every command, applied before the model is read: the model here is not
   * an ONNX file, so a message about the output proves it came first. What was there stays.
   */
  @ParameterizedTest(name = "{0}: {1}")
  @CsvSource(delimiter = '|', textBlock = """
      rewrite --span  | an existing file       | file   | output {out} exists; use --force to replace it
      rewrite --span  | a folder               | folder | output {out} is a directory; --span writes one file
      rewrite --spans | a file                 | file   | output {out} is a file; --spans and --all-spans write a folder
      rewrite --spans | a folder with files    | folder | output folder {out} is not empty; use --force to write into it
      probe           | an existing file       | file   | output {out} exists; use --force to replace it
      probe           | a folder               | folder | output {out} is a directory; probe writes one classifier file
      eval            | a file                 | file   | output {out} is a file; eval writes a folder
      rewrite --spans | a new x.onnx           | model  | output {out} is named like a model file, but --spans and --all-spans write a folder; name a folder
      eval            | a new x.onnx           | model  | output {out} is named like a model file, but eval writes a folder; name a folder
      eval            | an earlier run         | run    | output folder {out} holds an earlier run (journal.jsonl); use --resume to continue it or --force to start over
      """)
  void anOutputInTheWayIsRefusedBeforeTheModelIsRead(String command, String label, String kind, String message, @TempDir Path tmp)
      throws IOException {
    Path out = tmp.resolve(kind.equals("model") ? "x.onnx" : "out");
    switch (kind) {
      case "model" -> { }
      case "file" -> Files.writeString(out, "kept\n");
      case "folder" -> Files.writeString(Files.createDirectory(out).resolve("kept.txt"), "kept\n");
      default -> Files.writeString(Files.createDirectory(out).resolve("journal.jsonl"), "{\"run_key\": \"k\"}\n{\"span\": null}\n");
    }
    String[] argv = switch (command) {
      case "eval" -> replaceOutput(args("eval", tmp), out, "--out");
      case "probe" -> replaceOutput(args("probe", tmp), out, "-o");
      default -> new String[] {"rewrite", tmp.resolve("not-a-model.onnx").toString(), command.split(" ")[1], "0-0", "-o",
          out.toString()};
    };
    Files.writeString(tmp.resolve("not-a-model.onnx"), "not a model\n");
    Map<Path, String> before = BadInputTest.tree(tmp);
    CliRun run = CliRun.of(argv);
    assertEquals(2, run.exit(), run.err());
    assertTrue(run.oneLineError(), run.err());
    assertEquals("onnx-skip: " + message.replace("{out}", out.toString()), run.err().strip());
    assertEquals(before, BadInputTest.tree(tmp), "what was there is kept, nothing is added");
  }

  private static String[] replaceOutput(String[] args, Path out, String option) {
    List<String> list = new ArrayList<>(Arrays.asList(args));
    list.set(list.indexOf(option) + 1, out.toString());
    return list.toArray(String[]::new);
  }

  @Test
  void theBareCommandNamesTheCommandsAndTheHelp() {
    CliRun run = CliRun.of();
    assertEquals(2, run.exit(), run.err());
    assertEquals("onnx-skip: no command given; one of inspect, rewrite, validate, eval, probe, compare, select (try 'onnx-skip --help')",
        run.err().strip());
    CliRun unknown = CliRun.of("evaluate");
    assertEquals(2, unknown.exit());
    assertTrue(unknown.err().strip().endsWith("(try 'onnx-skip --help')"), unknown.err());
    CliRun sub = CliRun.of("eval", "--no-such-option");
    assertTrue(sub.err().strip().endsWith("(try 'onnx-skip eval --help')"), sub.err());
  }
}
