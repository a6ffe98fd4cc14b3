package dev.onnxskip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.onnxskip.data.SyntheticData;
import dev.onnxskip.data.WordTokenizer;
import dev.onnxskip.graph.ModelIO;
import dev.onnxskip.graph.OnnxModel;
import dev.onnxskip.testing.SyntheticBert;
import dev.onnxskip.testing.SyntheticBert.Head;
import dev.onnxskip.testing.SyntheticBert.Spec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How eval treats {@code --labels} where the model names its labels itself, and what
 * {@code --save-predictions} writes per example: its id and, with {@code =text}, its texts.
 */
class EvalLabelsAndPredictionsTest {

  static final WordTokenizer WORDS = WordTokenizer.numbered(64, true);
  static final Spec SPEC = Spec.tiny(2).withHead(Head.MEAN_POOL_CLASSIFIER, 3);
  static final List<String> TEXTS = SyntheticData.texts(9, 64, 3);
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path dir;
  /** A classifier whose metadata names its labels alpha, beta, gamma. */
  static Path named;
  /** The same classifier without names, in a folder of its own with a config.json that names them. */
  static Path configured;
  /** The same classifier without names anywhere: its labels are the logit indices. */
  static Path unnamed;
  static Path tokenizer;
  static Path data;

  @BeforeAll
  static void write() throws IOException {
    named = dir.resolve("named.onnx");
    ModelIO.save(OnnxModel.of(SyntheticBert.build(SPEC)).withMetadata(Map.of("id2label", "{\"0\": \"alpha\", \"1\": \"beta\", \"2\": \"gamma\"}")).proto(),
        named);
    configured = Files.createDirectories(dir.resolve("exported")).resolve("model.onnx");
    ModelIO.save(SyntheticBert.build(SPEC), configured);
    Files.writeString(configured.resolveSibling("config.json"), "{\"id2label\": [\"alpha\", \"beta\", \"gamma\"]}");
    unnamed = dir.resolve("unnamed.onnx");
    ModelIO.save(SyntheticBert.build(SPEC), unnamed);
    tokenizer = WORDS.write(dir.resolve("tokenizer.json"));
    data = Files.writeString(dir.resolve("data.jsonl"), SyntheticData.jsonLines(TEXTS, "alpha", "beta", "gamma"));
  }

  static CliRun eval(Path model, Path dataFile, Path out, String... extra) {
    List<String> args = new ArrayList<>(List.of("eval", "--model", model.toString(), "--tokenizer", tokenizer.toString(),
        "--data", dataFile.toString(), "--spans", "0-0", "--quiet", "--out", out.toString()));
    args.addAll(Arrays.asList(extra));
    return CliRun.of(args.toArray(String[]::new));
  }

  static JsonNode results(Path out) throws IOException {
    return JSON.readTree(out.resolve("results.json").toFile());
  }

  static List<JsonNode> predictions(Path out) throws IOException {
    List<JsonNode> lines = new ArrayList<>();
    for (String line : Files.readAllLines(out.resolve("predictions.jsonl"))) {
      lines.add(JSON.readTree(line));
    }
    return lines;
  }

  static void assertNothingWritten(Path out) throws IOException {
    if (Files.exists(out)) {
      try (Stream<Path> left = Files.list(out)) {
        assertEquals(List.of(), left.toList(), "nothing written to --out");
      }
    }
  }

  @Test
  void labelsThatDifferFromTheModelsMetadataAreRefused(@TempDir Path out) throws IOException {
    CliRun run = eval(named, data, out, "--labels", "gamma,beta,alpha");
    assertEquals(2, run.exit(), run.err());
    assertTrue(run.oneLineError(), run.err());
    assertEquals("onnx-skip: --labels gamma,beta,alpha differs from the model's id2label (alpha, beta, gamma, from the id2label"
        + " metadata of " + named + "); give --labels-override to use yours", run.err().strip());
    assertNothingWritten(out);

    // Other names than the model's are refused just the same as another order.
    CliRun renamed = eval(named, data, out, "--labels", "a,b,c");
    assertEquals(2, renamed.exit(), renamed.err());
    assertTrue(renamed.err().startsWith("onnx-skip: --labels a,b,c differs from the model's id2label (alpha, beta, gamma,"),
        renamed.err());
    assertNothingWritten(out);
  }

  @Test
  void labelsThatDifferFromAConfigJsonAreRefused(@TempDir Path out) throws IOException {
    CliRun run = eval(configured, data, out, "--labels", "gamma,beta,alpha");
    assertEquals(2, run.exit(), run.err());
    assertTrue(run.oneLineError(), run.err());
    assertEquals("onnx-skip: --labels gamma,beta,alpha differs from the model's id2label (alpha, beta, gamma, from id2label of "
        + configured.toAbsolutePath().resolveSibling("config.json") + "); give --labels-override to use yours", run.err().strip());
    assertNothingWritten(out);
  }

  /**
   * With --labels-override the given names go to the logits in their order: the logits are the
   * model's, so each prediction is the name at the same logit index in the other list.
   */
  @Test
  void overrideWarnsAndNamesTheLogitsWithTheGivenLabels(@TempDir Path out) throws IOException {
    Path own = out.resolve("own");
    Path overridden = out.resolve("overridden");
    CliRun plain = eval(named, data, own, "--save-predictions");
    assertEquals(0, plain.exit(), plain.err());
    CliRun run = eval(named, data, overridden, "--labels", "gamma,beta,alpha", "--labels-override", "--save-predictions");
    assertEquals(0, run.exit(), run.err());
    assertEquals("onnx-skip: warning: --labels gamma,beta,alpha replace the model's id2label (alpha, beta, gamma, from the"
        + " id2label metadata of " + named + ")", run.err().strip());

    JsonNode results = results(overridden);
    assertEquals("[\"gamma\",\"beta\",\"alpha\"]", results.get("labels").toString());
    assertEquals("--labels (overriding the model's id2label)", results.get("provenance").get("labels_from").asText());
    assertEquals("the id2label metadata of " + named, results(own).get("provenance").get("labels_from").asText());

    List<String> given = List.of("gamma", "beta", "alpha");
    List<String> modelNames = List.of("alpha", "beta", "gamma");
    List<JsonNode> before = predictions(own);
    List<JsonNode> after = predictions(overridden);
    assertEquals(TEXTS.size(), after.size());
    for (int i = 0; i < after.size(); i++) {
      assertEquals(before.get(i).get("logits"), after.get(i).get("logits"), "the same logits");
      for (String variant : List.of("baseline", "0-0")) {
        int index = modelNames.indexOf(before.get(i).get("predicted").get(variant).asText());
        assertEquals(given.get(index), after.get(i).get("predicted").get(variant).asText(), "example " + i + " " + variant);
      }
      // The data's gold "alpha" is the given name of logit 2 now.
      assertEquals(before.get(i).get("gold").asText(), after.get(i).get("gold").asText());
    }
  }

  @Test
  void overrideWithoutLabelsIsAUsageError(@TempDir Path out) throws IOException {
    CliRun run = eval(named, data, out, "--labels-override");
    assertEquals(2, run.exit(), run.err());
    assertTrue(run.oneLineError(), run.err());
    assertEquals("onnx-skip: --labels-override needs --labels: it lets them replace the model's id2label", run.err().strip());
    assertNothingWritten(out);
  }

  @Test
  void labelsEqualToTheModelsAreTakenSilently(@TempDir Path out) throws IOException {
    CliRun run = eval(named, data, out, "--labels", "alpha,beta,gamma");
    assertEquals(0, run.exit(), run.err());
    assertEquals("", run.err());
    assertEquals("--labels", results(out).get("provenance").get("labels_from").asText());
  }

  @Test
  void labelsNameAModelWithoutNamesAsBefore(@TempDir Path out) throws IOException {
    CliRun run = eval(unnamed, data, out, "--labels", "gamma,beta,alpha");
    assertEquals(0, run.exit(), run.err());
    assertEquals("", run.err());
    assertEquals("[\"gamma\",\"beta\",\"alpha\"]", results(out).get("labels").toString());
    assertEquals("--labels", results(out).get("provenance").get("labels_from").asText());
  }

  /**
   * JSON ids of any kind: integers stay numbers, other values become strings; an example without an
   * id (or with a null one) is named by its line, counted with the blank line in between.
   */
  @Test
  void predictionsCarryTheDataIdOrTheLine(@TempDir Path out) throws IOException {
    Path withIds = Files.writeString(out.resolve("ids.jsonl"), String.join("\n",
        "{\"id\": 7, \"text\": \"" + TEXTS.get(0) + "\", \"label\": \"alpha\"}",
        "{\"id\": \"doc-a\", \"text\": \"" + TEXTS.get(1) + "\", \"label\": \"beta\"}",
        "",
        "{\"id\": 2.5, \"text\": \"" + TEXTS.get(2) + "\", \"label\": \"gamma\"}",
        "{\"id\": true, \"text\": \"" + TEXTS.get(3) + "\", \"label\": \"alpha\"}",
        "{\"id\": 123456789012345678901234, \"text\": \"" + TEXTS.get(4) + "\", \"label\": \"beta\"}",
        "{\"text\": \"" + TEXTS.get(5) + "\", \"label\": \"gamma\"}",
        "{\"id\": null, \"text\": \"" + TEXTS.get(6) + "\", \"label\": \"alpha\"}",
        "{\"id\": -3, \"text\": \"" + TEXTS.get(7) + "\", \"label\": \"beta\"}",
        ""));
    Path run = out.resolve("run");
    // A bare --save-predictions before another option takes no value.
    CliRun result = eval(named, withIds, run, "--save-predictions", "--batch-size", "4");
    assertEquals(0, result.exit(), result.err());
    List<JsonNode> lines = predictions(run);
    assertEquals("[7,\"doc-a\",\"2.5\",\"true\",\"123456789012345678901234\",7,8,-3]",
        lines.stream().map(l -> l.get("id")).toList().toString().replace(", ", ","));
    assertEquals(List.of(1, 2, 4, 5, 6, 7, 8, 9), lines.stream().map(l -> l.get("line").asInt()).toList());
    for (JsonNode line : lines) {
      assertFalse(line.has("text") || line.has("text_pair"), "no texts without =text: " + line);
      assertEquals(List.of("index", "line", "id", "gold", "predicted", "logits"), fieldNames(line));
    }
  }

  @Test
  void aJsonArrayWithoutIdsNamesExamplesByElement(@TempDir Path out) throws IOException {
    StringBuilder array = new StringBuilder("[\n");
    for (int i = 0; i < 3; i++) {
      array.append(i == 0 ? "" : ",\n").append("  {\"text\": \"").append(TEXTS.get(i)).append("\", \"label\": \"beta\"}");
    }
    Path json = Files.writeString(out.resolve("data.json"), array.append("\n]\n").toString());
    Path run = out.resolve("run");
    CliRun result = eval(named, json, run, "--save-predictions=text");
    assertEquals(0, result.exit(), result.err());
    List<JsonNode> lines = predictions(run);
    assertEquals(List.of(1, 2, 3), lines.stream().map(l -> l.get("id").asInt()).toList());
    assertTrue(lines.stream().allMatch(l -> l.get("id").isInt()), "element numbers are numbers");
    assertEquals(TEXTS.subList(0, 3), lines.stream().map(l -> l.get("text").asText()).toList());
    assertTrue(lines.stream().noneMatch(l -> l.has("text_pair")), "single texts have no pair");
  }

  /** A CSV's id column is text, whatever it looks like; an empty cell falls back to the line. */
  @Test
  void textPairsAndCsvIdsWithSavePredictionsText(@TempDir Path out) throws IOException {
    Path csv = Files.writeString(out.resolve("pairs.csv"), "id,premise,hypothesis,label\n"
        + "p-1," + TEXTS.get(0) + "," + TEXTS.get(1) + ",alpha\n"
        + "42," + TEXTS.get(2) + "," + TEXTS.get(3) + ",beta\n"
        + "," + TEXTS.get(4) + "," + TEXTS.get(5) + ",gamma\n");
    Path run = out.resolve("run");
    CliRun result = eval(named, csv, run, "--text-column", "premise", "--text-pair-column", "hypothesis",
        "--save-predictions=TEXT");
    assertEquals(0, result.exit(), result.err());
    List<JsonNode> lines = predictions(run);
    assertEquals("[\"p-1\",\"42\",4]", lines.stream().map(l -> l.get("id")).toList().toString().replace(", ", ","));
    assertEquals(List.of(TEXTS.get(0), TEXTS.get(2), TEXTS.get(4)), lines.stream().map(l -> l.get("text").asText()).toList());
    assertEquals(List.of(TEXTS.get(1), TEXTS.get(3), TEXTS.get(5)), lines.stream().map(l -> l.get("text_pair").asText()).toList());
    assertEquals(List.of("index", "line", "id", "text", "text_pair", "gold", "predicted", "logits"), fieldNames(lines.get(0)));
  }

  @Test
  void anUnknownPredictionsContentIsAOneLineUsageError(@TempDir Path out) throws IOException {
    CliRun run = eval(named, data, out, "--save-predictions=texts");
    assertEquals(2, run.exit(), run.err());
    assertTrue(run.oneLineError(), run.err());
    assertEquals("onnx-skip: Invalid value for option '--save-predictions': unknown predictions content 'texts': expected logits"
        + " or text (try 'onnx-skip eval --help')", run.err().strip());
    assertNothingWritten(out);
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
