package dev.onnxskip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.onnxskip.graph.Digests;
import dev.onnxskip.graph.ExternalData;
import dev.onnxskip.testing.ModelEdits;
import dev.onnxskip.testing.PlainNets;
import dev.onnxskip.testing.SyntheticBert;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every bad model file, span and output, through the command line: exit 2 for a usage error and 1
 * for a failure, one line on stderr that names the file, tensor or argument at fault, no stack
 * trace unless --verbose, and nothing left behind: the folder the run worked in holds exactly
 * what it held before, byte for byte, with no output and no temp file.
 */
class BadInputTest {

  /** Two layers of the tiny synthetic encoder: detection and rewriting take milliseconds. */
  private static final byte[] ENCODER = SyntheticBert.build(Spec.tiny(2)).toByteArray();

  /** The two commands that read a model and find its encoder; rewrite also writes variants. */
  enum Command {
    INSPECT, REWRITE;

    /** The command line for {@code model}; rewrite writes every span to {@code out}. */
    String[] args(Path model, Path out, String... extra) {
      List<String> args = new ArrayList<>(this == INSPECT
          ? List.of("inspect", model.toString())
          : List.of("rewrite", model.toString(), "--all-spans", "-o", out.toString()));
      args.addAll(Arrays.asList(extra));
      return args.toArray(String[]::new);
    }
  }

  /** A bad model: how to make it in a folder, and what the error must say besides the file's name. */
  record BadModel(Maker maker, Pattern says) {}

  @FunctionalInterface
  interface Maker {
    /** Writes the bad model (and whatever it needs) into {@code dir} and returns its path. */
    Made make(Path dir) throws IOException;
  }

  /** The bad model's path, and the tensor or side file the error must name, if any. */
  record Made(Path model, List<String> named) {
    Made(Path model) {
      this(model, List.of());
    }
  }

  static Stream<Arguments> badModels() {
    Map<String, BadModel> cases = new java.util.LinkedHashMap<>();
    cases.put("missing file", new BadModel(dir -> new Made(dir.resolve("missing.onnx")), Pattern.compile(": no such file$")));
    cases.put("directory", new BadModel(dir -> new Made(Files.createDirectory(dir.resolve("model.onnx"))),
        Pattern.compile(": is a directory, not an ONNX model file$")));
    cases.put("random bytes", new BadModel(dir -> {
      byte[] bytes = new byte[4096];
      new Random(7).nextBytes(bytes);
      return new Made(Files.write(dir.resolve("random.onnx"), bytes));
    }, Pattern.compile(": not (a valid ONNX model \\(truncated or corrupt protobuf|an ONNX model \\(no IR version or no graph\\))")));
    cases.put("empty file", new BadModel(dir -> new Made(Files.createFile(dir.resolve("empty.onnx"))),
        Pattern.compile(": empty file, not an ONNX model$")));
    // Cut inside the first field's tag, after the IR version, in the graph's first node, in the
    // middle, and one byte short of the end (inside the last field).
    for (int cut : new int[] {1, 2, 40, ENCODER.length / 2, ENCODER.length - 1}) {
      cases.put("truncated to " + cut + " bytes", new BadModel(
          dir -> new Made(Files.write(dir.resolve("truncated.onnx"), Arrays.copyOf(ENCODER, cut))),
          Pattern.compile(": not (a valid ONNX model \\(truncated or corrupt protobuf|an ONNX model \\(no IR version or no graph\\))")));
    }
    cases.put("MLP", new BadModel(dir -> new Made(write(dir, "mlp.onnx", PlainNets.mlp())),
        Pattern.compile(": cannot find the encoder blocks: found no attention \\(Softmax or com.microsoft Attention\\) on the "
            + "residual stream .*; name the boundaries of the residual stream with --boundaries T0,T1,...$")));
    cases.put("conv net", new BadModel(dir -> new Made(write(dir, "convnet.onnx", PlainNets.convNet())),
        Pattern.compile(": no token-embedding lookup found \\(a Gather from a 2-D weight table indexed by a graph input\\): "
            + "not a transformer encoder$")));
    cases.put("cycle", new BadModel(dir -> new Made(write(dir, "cycle.onnx", ModelEdits.inputRewired(
        SyntheticBert.build(Spec.tiny(2)), "/encoder/layer.0/output/LayerNorm/Mul", 1, "/encoder/layer.0/output/LayerNorm/Add_1_output_0"))),
        Pattern.compile(": graph has a cycle: '/encoder/layer.0/output/LayerNorm/Mul' -> '/encoder/layer.0/output/LayerNorm/Add_1' -> "
            + "'/encoder/layer.0/output/LayerNorm/Mul'$")));
    cases.put("dangling input", new BadModel(dir -> new Made(write(dir, "dangling.onnx", ModelEdits.inputRewired(
        SyntheticBert.build(Spec.tiny(2)), "/encoder/layer.1/attention/self/query/MatMul", 0, "no_such_tensor"))),
        Pattern.compile(": node '/encoder/layer.1/attention/self/query/MatMul' reads tensor 'no_such_tensor', which no node, "
            + "initializer or graph input defines$")));
    cases.put("external data missing", new BadModel(dir -> {
      External ext = External.write(dir);
      Files.delete(ext.data());
      return new Made(ext.model(), List.of("'" + ext.firstTensor() + "'", ext.data().toString()));
    }, Pattern.compile(": external data file .* of tensor '.*' is missing$")));
    cases.put("external data too short", new BadModel(dir -> {
      External ext = External.write(dir);
      try (FileChannel ch = FileChannel.open(ext.data(), StandardOpenOption.WRITE)) {
        ch.truncate(ext.firstTensorEnd() - 1); // one byte short of the first tensor
      }
      return new Made(ext.model(), List.of("'" + ext.firstTensor() + "'", ext.data().toString()));
    }, Pattern.compile(": external data file .* is too short for tensor '.*' \\(needs bytes up to \\d+, file has \\d+\\)$")));

    List<Arguments> args = new ArrayList<>();
    for (Command command : Command.values()) {
      cases.forEach((name, bad) -> args.add(Arguments.of(command, Named.of(name, bad))));
    }
    return args.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("badModels")
  void aBadModelIsOneLineNamingTheFileAndLeavesNothing(Command command, BadModel bad, @TempDir Path tmp) throws IOException {
    Made made = bad.maker().make(tmp);
    Map<Path, String> before = tree(tmp);
    CliRun run = CliRun.of(command.args(made.model(), tmp.resolve("out")));
    assertFailure(run, 1);
    String message = message(run);
    assertTrue(message.startsWith(made.model() + ": "), "names the file first: " + message);
    assertTrue(bad.says().matcher(message).find(), message);
    made.named().forEach(n -> assertTrue(message.contains(n), "names " + n + ": " + message));
    assertEquals(before, tree(tmp), "nothing written, nothing left behind");
  }

  // ---- spans and boundaries -----------------------------------------------------------------

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource(delimiter = '|', textBlock = """
      --span  | 2-2     | span '2-2' is out of range: the model has 2 layers, numbered 0-1
      --spans | 0-0,0-2 | span '0-2' is out of range: the model has 2 layers, numbered 0-1
      --span  | 1-0     | inverted span '1-0': the first layer must not come after the last, e.g. 0-1
      --spans | 1-0     | inverted span '1-0': the first layer must not come after the last, e.g. 0-1
      --span  | a-b     | malformed span 'a-b': expected START-END with layer numbers from 0, e.g. 2-3
      --spans | 0-0,a-b | malformed span 'a-b': expected START-END with layer numbers from 0, e.g. 2-3
      --span  | 1-      | malformed span '1-': expected START-END with layer numbers from 0, e.g. 2-3
      --spans | 1-      | malformed span '1-': expected START-END with layer numbers from 0, e.g. 2-3
      --span  | -1      | malformed span '-1': expected START-END with layer numbers from 0, e.g. 2-3
      --spans | -1      | malformed span '-1': expected START-END with layer numbers from 0, e.g. 2-3
      --spans | 0-0,,1-1 | empty span in '0-0,,1-1': spans are separated by single commas, e.g. 0-0,2-3
      --spans | 1-2,     | empty span in '1-2,': spans are separated by single commas, e.g. 0-0,2-3
      --spans | all,0-0  | 'all' in 'all,0-0' stands alone: it already means every span; give 'all' or a list of spans
      --span  | 99999999999-1 | malformed span '99999999999-1': layer number too large
      --spans | 0-1,0-1 | span 0-1 is listed twice
      --spans | 0-0, 1-1,0-0 | span 0-0 is listed twice
      """)
  void aBadSpanIsAUsageErrorAndWritesNothing(String option, String span, String expected, @TempDir Path tmp) throws IOException {
    Path model = Files.write(tmp.resolve("model.onnx"), ENCODER);
    Path out = tmp.resolve(option.equals("--span") ? "v.onnx" : "variants");
    Map<Path, String> before = tree(tmp);
    CliRun run = CliRun.of("rewrite", model.toString(), option, span, "-o", out.toString());
    assertFailure(run, 2);
    assertEquals(expected, message(run));
    assertEquals(before, tree(tmp), "nothing written for " + span);
  }

  @ParameterizedTest
  @EnumSource(Command.class)
  void boundariesNamingNoTensorAreAUsageError(Command command, @TempDir Path tmp) throws IOException {
    SyntheticBert.Built built = SyntheticBert.buildWithTruth(Spec.tiny(2));
    Path model = Files.write(tmp.resolve("model.onnx"), built.model().toByteArray());
    Map<Path, String> before = tree(tmp);
    String boundaries = built.boundaries().get(0) + ",no_such_tensor," + built.boundaries().get(2);
    CliRun run = CliRun.of(command.args(model, tmp.resolve("out"), "--boundaries", boundaries));
    assertFailure(run, 2);
    assertEquals(model + ": --boundaries: tensor 'no_such_tensor' does not exist in the graph", message(run));
    assertEquals(before, tree(tmp));
  }

  // ---- outputs ------------------------------------------------------------------------------

  /**
   * An output folder that cannot be created. The tests run as root, for whom a folder without
   * write permission is still writable; but no one can create anything below a regular file, so
   * the output lies under one.
   */
  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "--span, 0-1, blocker.txt/v.onnx",
    "--spans, '0-0,1-1', blocker.txt/variants",
    "--all-spans, , blocker.txt/variants",
    "--all-spans, , blocker.txt/deeper/variants",
  })
  void anOutputThatCannotBeWrittenFailsInOneLineAndLeavesNothing(String option, String spans, String out, @TempDir Path tmp)
      throws IOException {
    Path model = Files.write(tmp.resolve("model.onnx"), ENCODER);
    Files.writeString(tmp.resolve("blocker.txt"), "a file, not a folder\n");
    for (boolean external : new boolean[] {false, true}) {
      Map<Path, String> before = tree(tmp);
      List<String> args = new ArrayList<>(List.of("rewrite", model.toString(), option));
      if (spans != null) {
        args.add(spans);
      }
      args.addAll(List.of("-o", tmp.resolve(out).toString()));
      if (external) {
        args.add("--external-data");
      }
      CliRun run = CliRun.of(args.toArray(String[]::new));
      assertFailure(run, 1);
      String message = message(run);
      assertTrue(message.startsWith("cannot write " + tmp.resolve("blocker.txt")), message);
      assertTrue(message.contains(tmp.resolve("blocker.txt") + " is not a folder"), message);
      assertEquals(before, tree(tmp), "nothing left behind");
    }
  }

  @Test
  void anExistingOutputIsKeptWithoutForce(@TempDir Path tmp) throws IOException {
    Path model = Files.write(tmp.resolve("model.onnx"), ENCODER);
    Path file = Files.writeString(tmp.resolve("v.onnx"), "earlier variant\n");
    Path folder = Files.createDirectory(tmp.resolve("variants"));
    Files.writeString(folder.resolve("notes.txt"), "earlier run\n");
    Map<Path, String> before = tree(tmp);

    CliRun single = CliRun.of("rewrite", model.toString(), "--span", "0-0", "-o", file.toString());
    assertFailure(single, 2);
    assertEquals("output " + file + " exists; use --force to replace it", message(single));

    CliRun many = CliRun.of("rewrite", model.toString(), "--all-spans", "-o", folder.toString());
    assertFailure(many, 2);
    assertEquals("output folder " + folder + " is not empty; use --force to write into it", message(many));
    assertEquals(before, tree(tmp), "refused outputs are untouched");
  }

  /**
   * The input model, under any spelling, is never an output; nor is its external-data file, nor a
   * variant name that a folder of variants would give it.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      same path                 | model.onnx    | --span      | 0-0 | model.onnx             | output {out} is the input model; refusing to overwrite it
      same path, folder mode    | model.onnx    | --spans     | 0-0 | model.onnx             | output {out} is the input model; refusing to overwrite it
      another spelling          | model.onnx    | --span      | 0-0 | sub/../model.onnx      | output {out} is the input model; refusing to overwrite it
      a symbolic link to it     | model.onnx    | --span      | 0-0 | link.onnx              | output {out} is the input model; refusing to overwrite it
      its folder, variant name  | skip-0-1.onnx | --all-spans |     | .                      | output {dir}skip-0-1.onnx is the input model; refusing to overwrite it
      its external data         | ext.onnx      | --span      | 0-0 | ext.weights            | output {out} is the external data of the input model; refusing to overwrite it
      its external data, shared | ext.onnx      | --spans     | 0-0 | . --external-data      | output {dir}ext.weights is the external data of the input model; refusing to overwrite it
      """)
  void theInputIsNeverAnOutput(String label, String modelName, String option, String spans, String outAndFlags, String expected,
      @TempDir Path tmp) throws IOException {
    Path model = tmp.resolve(modelName);
    if (modelName.equals("ext.onnx")) {
      External.write(tmp, "ext.onnx", "ext.weights");
    } else {
      Files.write(model, ENCODER);
    }
    Files.createDirectory(tmp.resolve("sub"));
    Files.createSymbolicLink(tmp.resolve("link.onnx"), model);
    String[] outParts = outAndFlags.split(" ");
    Path out = tmp.resolve(outParts[0]);
    Map<Path, String> before = tree(tmp);
    List<String> args = new ArrayList<>(List.of("rewrite", model.toString(), option));
    if (spans != null) {
      args.add(spans);
    }
    args.addAll(List.of("-o", out.toString(), "--force"));
    args.addAll(Arrays.asList(outParts).subList(1, outParts.length));
    CliRun run = CliRun.of(args.toArray(String[]::new));
    assertFailure(run, 2);
    assertEquals(expected.replace("{out}", out.toString()).replace("{dir}", out.toAbsolutePath().normalize() + "/"),
        message(run));
    assertEquals(before, tree(tmp), "the input and everything beside it untouched");
  }

  /** probe keeps the same promise: its classifier is never written over the encoder or its weights. */
  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      same path             | model.onnx  | output {out} is the input model; refusing to overwrite it
      a symbolic link to it | link.onnx   | output {out} is the input model; refusing to overwrite it
      its external data     | ext.weights | output {out} is the external data of the input model; refusing to overwrite it
      """)
  void probeNeverOverwritesItsEncoder(String label, String outName, String expected, @TempDir Path tmp) throws IOException {
    Path model = External.write(tmp, "model.onnx", "ext.weights").model();
    Files.createSymbolicLink(tmp.resolve("link.onnx"), model);
    Path train = Files.writeString(tmp.resolve("train.jsonl"), "{\"text\": \"good\", \"label\": \"pos\"}\n");
    Path out = tmp.resolve(outName);
    Map<Path, String> before = tree(tmp);
    CliRun run = CliRun.of("probe", "--model", model.toString(), "--tokenizer", "models/minilm-l6/tokenizer.json",
        "--train", train.toString(), "-o", out.toString(), "--force");
    assertFailure(run, 2);
    assertEquals(expected.replace("{out}", out.toString()), message(run));
    assertEquals(before, tree(tmp), "the encoder and its weights untouched");
  }

  /** A run that fails after writing some variants takes them back; what was there before stays. */
  @Test
  void aFailureHalfwayRemovesTheVariantsAlreadyWritten(@TempDir Path tmp) throws IOException {
    Path model = Files.write(tmp.resolve("model.onnx"), ENCODER);
    Path folder = Files.createDirectory(tmp.resolve("variants"));
    // A folder where the third variant's file should go: the first two are written, then it fails.
    Files.writeString(Files.createDirectory(folder.resolve("skip-1-1.onnx")).resolve("in-the-way.txt"), "x\n");
    Files.writeString(folder.resolve("notes.txt"), "kept\n");
    for (boolean external : new boolean[] {false, true}) {
      Map<Path, String> before = tree(tmp);
      List<String> args = new ArrayList<>(List.of("rewrite", model.toString(), "--all-spans", "-o", folder.toString(), "--force"));
      if (external) {
        args.add("--external-data");
      }
      CliRun run = CliRun.of(args.toArray(String[]::new));
      assertEquals(1, run.exit(), run.err());
      assertTrue(run.oneLineError(), run.err());
      assertTrue(message(run).startsWith("cannot write " + folder.resolve("skip-1-1.onnx") + ": "), run.err());
      assertEquals(before, tree(tmp), "variants of the failed run are removed, earlier files kept");
    }
  }

  // ---- --verbose ----------------------------------------------------------------------------

  @ParameterizedTest(name = "{0}, --verbose {1}")
  @CsvSource({"INSPECT, before", "INSPECT, after", "REWRITE, before", "REWRITE, after"})
  void verbosePrintsTheStackTraceAndOnlyThen(Command command, String where, @TempDir Path tmp) throws IOException {
    Path model = Files.write(tmp.resolve("convnet.onnx"), PlainNets.convNet().toByteArray());
    String[] plain = command.args(model, tmp.resolve("out"));
    CliRun quiet = CliRun.of(plain);
    assertFailure(quiet, 1);

    List<String> args = new ArrayList<>(Arrays.asList(plain));
    args.add(where.equals("before") ? 0 : args.size(), "--verbose");
    CliRun verbose = CliRun.of(args.toArray(String[]::new));
    assertEquals(1, verbose.exit());
    assertTrue(verbose.err().contains("dev.onnxskip.OnnxSkipException: " + model + ": no token-embedding lookup found"), verbose.err());
    assertTrue(verbose.err().contains("\tat dev.onnxskip.layout.LayoutDetector"), verbose.err());
    List<String> lines = verbose.err().strip().lines().toList();
    assertEquals(quiet.err().strip(), lines.get(lines.size() - 1), "the one-line message still ends the output");
    assertTrue(!Files.exists(tmp.resolve("out")));
  }

  // ---- helpers ------------------------------------------------------------------------------

  /** Exit code, one line on stderr with no stack trace, nothing on stdout. */
  private static void assertFailure(CliRun run, int exit) {
    assertEquals(exit, run.exit(), run.err());
    assertTrue(run.oneLineError(), "one line: " + run.err());
    assertTrue(run.err().startsWith("onnx-skip: ") && !run.err().startsWith("onnx-skip: error:"), run.err());
    assertEquals("", run.out(), "nothing on stdout");
  }

  /** The error line without the tool's prefix. */
  private static String message(CliRun run) {
    return run.err().strip().replaceFirst("^onnx-skip: (error: )?", "");
  }

  private static Path write(Path dir, String name, ModelProto model) throws IOException {
    return Files.write(dir.resolve(name), model.toByteArray());
  }

  /** Every file and folder under {@code dir}, relative, with each file's SHA-256. */
  static Map<Path, String> tree(Path dir) throws IOException {
    Map<Path, String> tree = new TreeMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      s.forEach(p -> tree.put(dir.relativize(p),
          Files.isSymbolicLink(p) ? "link" : Files.isDirectory(p) ? "folder" : Digests.sha256(p)));
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    return tree;
  }

  /**
   * The tiny encoder stored with its large weights in an external-data file, as ONNX writes
   * models over 2 GB.
   */
  record External(Path model, Path data, String firstTensor, long firstTensorEnd) {
    static External write(Path dir) throws IOException {
      return write(dir, "model.onnx", "model.onnx.data");
    }

    static External write(Path dir, String modelName, String dataName) throws IOException {
      ModelProto.Builder m = SyntheticBert.build(Spec.tiny(2)).toBuilder();
      Path data = dir.resolve(dataName);
      String first = null;
      long firstEnd = 0;
      try (var out = Files.newOutputStream(data)) {
        long offset = 0;
        for (TensorProto.Builder t : m.getGraphBuilder().getInitializerBuilderList()) {
          if (!t.hasRawData() || t.getRawData().size() < 256) {
            continue;
          }
          byte[] raw = t.getRawData().toByteArray();
          out.write(raw);
          t.clearRawData().setDataLocation(TensorProto.DataLocation.EXTERNAL)
              .addExternalData(entry("location", dataName))
              .addExternalData(entry("offset", Long.toString(offset)))
              .addExternalData(entry("length", Long.toString(raw.length)));
          if (first == null) {
            first = t.getName();
            firstEnd = offset + raw.length;
          }
          offset += raw.length;
        }
      }
      Path model = Files.write(dir.resolve(modelName), m.build().toByteArray());
      assertTrue(ExternalData.hasExternal(m.build()));
      return new External(model, data, first, firstEnd);
    }

    private static ai.onnx.proto.OnnxMl.StringStringEntryProto entry(String key, String value) {
      return ai.onnx.proto.OnnxMl.StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }
  }
}
