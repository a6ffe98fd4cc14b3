package dev.onnxskip.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.data.SyntheticData;
import dev.onnxskip.data.WordTokenizer;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.testing.ModelEdits;
import dev.onnxskip.testing.SyntheticBert;
import dev.onnxskip.testing.SyntheticBert.Head;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The limits of a model's inputs, through the command line: how many tokens it takes (its position
 * table, or none), a batch or sequence size fixed by {@code rewrite --static-shapes}, how many token
 * ids its embedding table holds, and what data files look like. A value that fits is used as given;
 * one that does not is refused up front with one line that names the limit and the flag, exit 2,
 * and nothing left on disk.
 */
class InputLimitsCommandTest {

  static final WordTokenizer WORDS = WordTokenizer.numbered(64, true);
  static final Spec CLASSIFIER = Spec.tiny(2).withHead(Head.MEAN_POOL_CLASSIFIER, 2);

  @TempDir static Path dir;
  static Path tokenizer;
  /** The tiny classifier: 64 positions. */
  static Path classifier;
  static Path data;

  @BeforeAll
  static void write() throws IOException {
    tokenizer = WORDS.write(dir.resolve("tokenizer.json"));
    classifier = dir.resolve("classifier.onnx");
    ModelIO.save(SyntheticBert.build(CLASSIFIER), classifier);
    data = Files.writeString(dir.resolve("data.jsonl"), SyntheticData.jsonLines(SyntheticData.texts(20, 64, 3), "0", "1"));
  }

  /** A text of {@code words} words, so {@code words + 2} tokens with [CLS] and [SEP]. */
  static String words(int words) {
    List<String> w = new ArrayList<>();
    for (int i = 0; i < words; i++) {
      w.add("w" + (WordTokenizer.FIRST_WORD + (i * 7) % (64 - WordTokenizer.FIRST_WORD)));
    }
    return String.join(" ", w);
  }

  static String[] eval(Path out, Path model, Path dataFile, String... extra) {
    List<String> args = new ArrayList<>(List.of("eval", "--model", model.toString(), "--tokenizer", tokenizer.toString(),
        "--data", dataFile.toString(), "--out", out.toString(), "--quiet"));
    args.addAll(List.of(extra));
    return args.toArray(String[]::new);
  }

  /** Runs the command expecting a refusal: the exit code and the whole one-line message, and {@code dir} unchanged. */
  static void refused(int exit, String message, Path watched, String... args) throws IOException {
    Map<Path, String> before = BadInputTest.tree(watched);
    CliRun run = CliRun.of(args);
    assertEquals(exit, run.exit(), run.err());
    assertTrue(run.oneLineError(), "one line: " + run.err());
    assertEquals("onnx-skip: " + message, run.err().strip());
    assertEquals(before, BadInputTest.tree(watched), "nothing written, nothing left behind");
  }

  /** The baseline's logits of every example, in data order, from predictions.jsonl. */
  static List<float[]> baselineLogits(Path out) throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<float[]> rows = new ArrayList<>();
    for (String line : Files.readAllLines(out.resolve("predictions.jsonl"))) {
      JsonNode logits = json.readTree(line).get("logits").get("baseline");
      float[] row = new float[logits.size()];
      for (int i = 0; i < row.length; i++) {
        row[i] = logits.get(i).floatValue();
      }
      rows.add(row);
    }
    return rows;
  }

  static JsonNode results(Path out) throws IOException {
    return new ObjectMapper().readTree(out.resolve("results.json").toFile());
  }

  // ---- --max-length and the model's positions -------------------------------------------------

  /**
   * An encoder without a position table takes any length: a 902-token text is cut at exactly the
   * length asked for, past the tokenizer library's own cap of 512. Cutting at 512 and 600 gives
   * different logits, and 1,000 the same as 2,000 (both keep the whole text).
   */
  @Test
  void maxLengthAboveTheTokenizersOwnCapIsUsedOnAModelWithoutPositions(@TempDir Path tmp) throws IOException {
    Path model = tmp.resolve("relative.onnx");
    ModelIO.save(ModelEdits.positionTableRemoved(SyntheticBert.build(CLASSIFIER)), model);
    Path longText = Files.writeString(tmp.resolve("long.jsonl"), SyntheticData.jsonLines(List.of(words(900), "w5 w6"), "0", "1"));
    Map<Integer, float[]> logits = new java.util.TreeMap<>();
    for (int maxLength : new int[] {512, 600, 1000, 2000}) {
      Path out = tmp.resolve("out-" + maxLength);
      CliRun run = CliRun.of(eval(out, model, longText, "--spans", "0-0", "--max-length", Integer.toString(maxLength),
          "--save-predictions"));
      assertEquals(0, run.exit(), run.err());
      assertEquals(maxLength, results(out).get("config").get("max_length").asInt(), "the length used is recorded");
      logits.put(maxLength, baselineLogits(out).get(0));
    }
    assertFalse(java.util.Arrays.equals(logits.get(512), logits.get(600)), "600 keeps 88 tokens more than 512");
    assertFalse(java.util.Arrays.equals(logits.get(600), logits.get(1000)), "1000 keeps the whole text, 600 does not");
    assertArrayEquals(logits.get(1000), logits.get(2000), "both keep all 902 tokens");
  }

  /**
   * On a model with 600 positions, --max-length 100000 used to be lowered to 512 without a word, so
   * a 702-token text ran, cut. It is kept whole now, and refused: it does not fit the positions.
   */
  @Test
  void aTextLongerThanThePositionsIsRefusedWhateverTheMaxLength(@TempDir Path tmp) throws IOException {
    Path model = tmp.resolve("positions-600.onnx");
    ModelIO.save(SyntheticBert.build(CLASSIFIER.withMaxPositions(600)), model);
    Path longText = Files.writeString(tmp.resolve("long.jsonl"), SyntheticData.jsonLines(List.of("w5 w6", words(700)), "0", "1"));
    Path out = Files.createDirectory(tmp.resolve("out"));
    refused(2, longText + " line 2: the text has 702 tokens, more than the model's 600 positions; use --max-length 600 or less", tmp,
        eval(out, model, longText, "--max-length", "100000"));
    Path encoder = tmp.resolve("encoder-600.onnx");
    ModelIO.save(SyntheticBert.build(Spec.tiny(2).withMaxPositions(600)), encoder);
    refused(2, longText + " line 2: the text has 702 tokens, more than the model's 600 positions; use --max-length 600 or less", tmp,
        "probe", "--model", encoder.toString(), "--tokenizer", tokenizer.toString(), "--train", longText.toString(), "--max-length",
        "100000", "-o", tmp.resolve("probe.onnx").toString());
    CliRun fits = CliRun.of(eval(out, model, longText, "--max-length", "600", "--spans", "0-0"));
    assertEquals(0, fits.exit(), fits.err());
  }

  // ---- the tokenizer against the embedding table ----------------------------------------------

  @Test
  void probeRefusesATokenizerWithMoreIdsThanEmbeddingRows(@TempDir Path tmp) throws IOException {
    Path encoder = tmp.resolve("encoder.onnx");
    ModelIO.save(SyntheticBert.build(Spec.tiny(2)), encoder);
    Path miniLm = Path.of("models/minilm-l6/tokenizer.json");
    refused(1, miniLm + ": the tokenizer's vocabulary has 30522 tokens but the model's embedding table " + encoder
        + " has only 64 rows; token ids past it would fail at run time (wrong tokenizer for this model?)", tmp,
        "probe", "--model", encoder.toString(), "--tokenizer", miniLm.toString(), "--train", data.toString(),
        "-o", tmp.resolve("probe.onnx").toString());
  }

  // ---- --static-shapes and the positions --------------------------------------------------------

  @Test
  void rewriteRefusesAStaticSequenceLongerThanThePositions(@TempDir Path tmp) throws IOException {
    refused(2, classifier + ": --static-shapes sequence=100000 is more than the model's 64 positions; use sequence=64 or less", tmp,
        "rewrite", classifier.toString(), "--span", "0-0", "--static-shapes", "sequence=100000", "-o", tmp.resolve("v.onnx").toString());
    Path miniLm = Path.of("models/minilm-l6/model.onnx");
    refused(2, miniLm + ": --static-shapes sequence=100000 is more than the model's 512 positions; use sequence=512 or less", tmp,
        "rewrite", miniLm.toString(), "--span", "0-0", "--static-shapes", "batch=1,sequence=100000", "-o",
        tmp.resolve("v.onnx").toString());
  }

  /**
   * A MiniLM whose inputs fix 100,000 tokens, as an older rewrite wrote it: the checker and shape
   * inference pass it (the position ids are computed), and validate now fails it.
   */
  @Test
  void validateFailsAStaticSequenceLongerThanThePositions(@TempDir Path tmp) throws IOException {
    ai.onnx.proto.OnnxMl.ModelProto miniLm = ModelIO.load(Path.of("models/minilm-l6/model.onnx")).proto();
    ai.onnx.proto.OnnxMl.GraphProto.Builder g = miniLm.getGraph().toBuilder();
    for (ai.onnx.proto.OnnxMl.ValueInfoProto.Builder in : g.getInputBuilderList()) {
      in.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder().setDim(1,
          ai.onnx.proto.OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(100_000));
    }
    Path fixed = tmp.resolve("fixed.onnx");
    ModelIO.save(miniLm.toBuilder().setGraph(g).build(), fixed);
    refused(1, fixed + ": not usable: its inputs fix the sequence length at 100000, more than its 512 positions", tmp,
        "validate", fixed.toString());
  }

  // ---- eval of a variant with fixed dimensions ---------------------------------------------------

  /** The variant skipping layer 0, written with and without {@code --static-shapes dims}. */
  static Path[] variants(Path tmp, String dims) {
    Path dynamic = tmp.resolve("dynamic.onnx");
    Path fixed = tmp.resolve("fixed.onnx");
    assertEquals(0, CliRun.of("rewrite", classifier.toString(), "--span", "0-0", "-o", dynamic.toString()).exit());
    CliRun run = CliRun.of("rewrite", classifier.toString(), "--span", "0-0", "--static-shapes", dims, "-o", fixed.toString());
    assertEquals(0, run.exit(), run.err());
    return new Path[] {dynamic, fixed};
  }

  /**
   * A fixed sequence length S needs --max-length S or less, and batches padded to S: then both
   * engines give the logits the dynamic variant gives with its batches padded as little as they
   * need (padded positions are masked).
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"shared", "naive"})
  void aFixedSequenceLengthIsFittedOrRefusedUpFront(String engine, @TempDir Path tmp) throws IOException {
    Path[] v = variants(tmp, "sequence=16");
    Path out = Files.createDirectory(tmp.resolve("out"));
    refused(2, v[1] + ": fixed sequence length 16: use --max-length 16 or less (batches are padded to 16)", tmp,
        eval(out, v[1], data, "--engine", engine));

    CliRun fixed = CliRun.of(eval(out, v[1], data, "--engine", engine, "--max-length", "12", "--save-predictions"));
    assertEquals(0, fixed.exit(), fixed.err());
    Path dynamicOut = tmp.resolve("dynamic-out");
    CliRun dynamic = CliRun.of(eval(dynamicOut, v[0], data, "--engine", engine, "--max-length", "12", "--save-predictions"));
    assertEquals(0, dynamic.exit(), dynamic.err());
    List<float[]> expected = baselineLogits(dynamicOut);
    List<float[]> actual = baselineLogits(out);
    assertEquals(20, actual.size());
    for (int i = 0; i < expected.size(); i++) {
      assertArrayEquals(expected.get(i), actual.get(i), 1e-4f, "example " + i);
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"shared", "naive"})
  void aFixedBatchSizeNamesTheBatchSizeThatFits(String engine, @TempDir Path tmp) throws IOException {
    Path[] v = variants(tmp, "batch=4,sequence=16");
    Path out = Files.createDirectory(tmp.resolve("out"));
    refused(2, v[1] + ": fixed batch size 4: use --batch-size 4", tmp,
        eval(out, v[1], data, "--engine", engine, "--max-length", "16"));
    Path eighteen = Files.writeString(tmp.resolve("eighteen.jsonl"), SyntheticData.jsonLines(SyntheticData.texts(18, 64, 3), "0", "1"));
    refused(2, v[1] + ": fixed batch size 4: the 18 examples leave a last batch of 2, which the model cannot take; use a multiple of 4"
        + " examples, or a model written without --static-shapes batch", tmp,
        eval(out, v[1], eighteen, "--engine", engine, "--max-length", "16", "--batch-size", "4"));

    CliRun fits = CliRun.of(eval(out, v[1], data, "--engine", engine, "--max-length", "16", "--batch-size", "4", "--save-predictions"));
    assertEquals(0, fits.exit(), fits.err());
    Path dynamicOut = tmp.resolve("dynamic-out");
    assertEquals(0, CliRun.of(eval(dynamicOut, v[0], data, "--engine", engine, "--max-length", "16", "--save-predictions")).exit());
    List<float[]> expected = baselineLogits(dynamicOut);
    List<float[]> actual = baselineLogits(out);
    for (int i = 0; i < expected.size(); i++) {
      assertArrayEquals(expected.get(i), actual.get(i), 1e-4f, "example " + i);
    }
  }

  /** probe runs the encoder as eval runs a classifier: a fixed sequence length is fitted or refused alike. */
  @Test
  void probeFitsAFixedSequenceLengthOrRefusesIt(@TempDir Path tmp) throws IOException {
    Path source = tmp.resolve("encoder.onnx");
    ModelIO.save(SyntheticBert.build(Spec.tiny(2)), source);
    Path fixed = tmp.resolve("fixed.onnx");
    assertEquals(0, CliRun.of("rewrite", source.toString(), "--span", "0-0", "--static-shapes", "sequence=16", "-o", fixed.toString()).exit());
    Path probe = tmp.resolve("probe.onnx");
    refused(2, fixed + ": fixed sequence length 16: use --max-length 16 or less (batches are padded to 16)", tmp,
        "probe", "--model", fixed.toString(), "--tokenizer", tokenizer.toString(), "--train", data.toString(), "-o", probe.toString());
    CliRun run = CliRun.of("probe", "--model", fixed.toString(), "--tokenizer", tokenizer.toString(), "--train", data.toString(),
        "--max-length", "16", "-o", probe.toString());
    assertEquals(0, run.exit(), run.err());
    assertTrue(Files.size(probe) > 0);
  }

  // ---- data files --------------------------------------------------------------------------------

  @Test
  void aFolderGivenAsDataSaysSoAndWhatIsExpected(@TempDir Path tmp) throws IOException {
    Path folder = Files.createDirectory(tmp.resolve("splits"));
    Path out = Files.createDirectory(tmp.resolve("out"));
    refused(1, folder + " is a folder, not a data file; expected one file: .jsonl (JSON Lines), .json (an array of objects,"
        + " or JSON Lines), .csv or .tsv (with a header)", tmp, eval(out, classifier, folder));
  }

  /** A JSON array of objects is read as the same lines would be, and its examples are named by element. */
  @Test
  void aJsonArrayIsReadAndItsElementsAreNamed(@TempDir Path tmp) throws IOException {
    List<String> texts = SyntheticData.texts(6, 64, 4);
    Path lines = Files.writeString(tmp.resolve("data.jsonl"), SyntheticData.jsonLines(texts, "0", "1"));
    Path array = Files.writeString(tmp.resolve("data.json"),
        "[\n" + String.join(",\n", SyntheticData.jsonLines(texts, "0", "1").strip().split("\n")) + "\n]\n");
    Path linesOut = tmp.resolve("lines-out");
    Path arrayOut = tmp.resolve("array-out");
    assertEquals(0, CliRun.of(eval(linesOut, classifier, lines, "--spans", "0-0", "--save-predictions")).exit());
    CliRun run = CliRun.of(eval(arrayOut, classifier, array, "--spans", "0-0", "--save-predictions"));
    assertEquals(0, run.exit(), run.err());
    assertEquals(results(linesOut).get("variants"), results(arrayOut).get("variants"));

    Path badLabel = Files.writeString(tmp.resolve("bad.json"), "[" + String.join(",", SyntheticData.jsonLines(
        Collections.nCopies(3, "w4 w5"), "0", "1", "7").strip().split("\n")) + "]");
    Path out = Files.createDirectory(tmp.resolve("out"));
    refused(1, badLabel + " element 3: label '7' is not one of the model's labels: 0, 1 (from logit indices)", tmp,
        eval(out, classifier, badLabel));
  }
}
