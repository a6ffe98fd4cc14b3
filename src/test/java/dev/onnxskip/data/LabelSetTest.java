package dev.onnxskip.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxskip.OnnxSkipException;
import dev.onnxskip.UsageException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LabelSetTest {

  @TempDir Path dir;

  private static final Map<String, String> NO_METADATA = Map.of();

  /** A model file with a config.json beside it. */
  private Path modelWithConfig(String config) throws IOException {
    Path model = Files.write(dir.resolve("model.onnx"), new byte[] {0});
    Files.writeString(dir.resolve("config.json"), config);
    return model;
  }

  private static String failure(org.junit.jupiter.api.function.Executable call) {
    return assertThrows(OnnxSkipException.class, call).getMessage();
  }

  @Test
  void explicitNamesThatDifferFromTheModelsReplaceThemOnlyWhenAskedTo() throws IOException {
    Path model = modelWithConfig("{\"id2label\": {\"0\": \"c0\", \"1\": \"c1\"}}");
    Map<String, String> metadata = Map.of("id2label", "[\"m0\", \"m1\"]");
    assertEquals(
        "--labels m1,m0 differs from the model's id2label (m0, m1, from the id2label metadata of " + model
            + "); give --labels-override to use yours",
        assertThrows(UsageException.class,
            () -> LabelSet.resolve(List.of("m1", "m0"), LabelSet.ModelLabels.KEEP, metadata, model, OptionalInt.of(2)))
            .getMessage());

    LabelSet labels = LabelSet.resolve(List.of("neg", "pos"), LabelSet.ModelLabels.OVERRIDE, metadata, model, OptionalInt.of(2));
    assertEquals(List.of("neg", "pos"), labels.names());
    assertEquals(LabelSet.Source.EXPLICIT, labels.source());
    assertEquals(LabelSet.OVERRIDING_ORIGIN, labels.origin());
    assertEquals(List.of("m0", "m1"), labels.overridden().orElseThrow().names());

    LabelSet same = LabelSet.resolve(List.of("m0", "m1"), LabelSet.ModelLabels.KEEP, metadata, model, OptionalInt.of(2));
    assertEquals("--labels", same.origin());
    assertTrue(same.overridden().isEmpty());

    // Without metadata, config.json beside the model is the model's own.
    assertEquals(
        "--labels neg,pos differs from the model's id2label (c0, c1, from id2label of "
            + model.toAbsolutePath().resolveSibling("config.json") + "); give --labels-override to use yours",
        assertThrows(UsageException.class,
            () -> LabelSet.resolve(List.of("neg", "pos"), LabelSet.ModelLabels.KEEP, NO_METADATA, model, OptionalInt.of(2)))
            .getMessage());
  }

  @Test
  void metadataObjectIsOrderedByIndexAndWinsOverConfig() throws IOException {
    Path model = modelWithConfig("{\"id2label\": {\"0\": \"c0\", \"1\": \"c1\"}}");
    LabelSet labels = LabelSet.resolve(
        List.of(), LabelSet.ModelLabels.KEEP, Map.of("id2label", "{\"1\": \"pos\", \"0\": \"neg\"}"), model, OptionalInt.empty());
    assertEquals(List.of("neg", "pos"), labels.names());
    assertEquals(LabelSet.Source.MODEL_METADATA, labels.source());
  }

  @Test
  void metadataMayBeAnArray() {
    LabelSet labels = LabelSet.resolve(
        null, LabelSet.ModelLabels.KEEP, Map.of("id2label", "[\"entailment\", \"neutral\", \"contradiction\"]"), null, OptionalInt.of(3));
    assertEquals(List.of("entailment", "neutral", "contradiction"), labels.names());
    assertEquals(1, labels.indexOf("neutral"));
  }

  @Test
  void configJsonBesideTheModelIsUsedWithoutMetadata() throws IOException {
    Path model = modelWithConfig("""
        {"architectures": ["BertForSequenceClassification"],
         "id2label": {"0": "NEGATIVE", "1": "POSITIVE"}, "label2id": {"NEGATIVE": 0, "POSITIVE": 1}}
        """);
    LabelSet labels = LabelSet.resolve(List.of(), LabelSet.ModelLabels.KEEP, NO_METADATA, model, OptionalInt.of(2));
    assertEquals(List.of("NEGATIVE", "POSITIVE"), labels.names());
    assertEquals(LabelSet.Source.CONFIG_JSON, labels.source());
    assertTrue(labels.origin().endsWith("config.json"), labels.origin());
  }

  @Test
  void withoutNamesTheLogitIndicesAreTheNames() throws IOException {
    Path model = modelWithConfig("{\"hidden_size\": 384}");
    LabelSet labels = LabelSet.resolve(List.of(), LabelSet.ModelLabels.KEEP, NO_METADATA, model, OptionalInt.of(3));
    assertEquals(List.of("0", "1", "2"), labels.names());
    assertEquals(LabelSet.Source.INDICES, labels.source());
    assertEquals(2, labels.indexOf("2"));
    assertEquals(-1, labels.indexOf("3"));
  }

  @Test
  void withoutNamesOrWidthResolutionFails() {
    Path model = dir.resolve("model.onnx");
    assertEquals(
        "no label names: " + model + " has no id2label metadata, no config.json with id2label beside it"
            + " and no fixed logits width; pass --labels",
        failure(() -> LabelSet.resolve(List.of(), LabelSet.ModelLabels.KEEP, NO_METADATA, model, OptionalInt.empty())));
  }

  @Test
  void integerGoldLabelsMapToNamesByIndexWhenNoNameIsAnInteger() {
    LabelSet labels = LabelSet.of(List.of("neg", "pos"));
    assertEquals(1, labels.indexOf("pos"));
    assertEquals(1, labels.indexOf("1"));
    assertEquals(0, labels.indexOf("0"));
    assertEquals(-1, labels.indexOf("2"));
    assertEquals(-1, labels.indexOf("01"));
    assertEquals(-1, labels.indexOf("-1"));
    assertEquals(-1, labels.indexOf("Pos"));
  }

  @Test
  void integerNamesMatchOnlyByName() {
    LabelSet stars = LabelSet.of(List.of("1", "2", "3", "4", "5"));
    assertEquals(0, stars.indexOf("1"));
    assertEquals(4, stars.indexOf("5"));
    assertEquals(-1, stars.indexOf("0"));

    LabelSet swapped = LabelSet.of(List.of("1", "0"));
    assertEquals(1, swapped.indexOf("0"));
  }

  @Test
  void goldIndicesFollowDataOrder() throws IOException {
    Path file = Files.writeString(dir.resolve("dev.jsonl"), """
        {"text": "a", "label": 1}
        {"text": "b", "label": "neg"}
        {"text": "c", "label": "pos"}
        {"text": "d", "label": 0}
        """);
    LabelledData data = LabelledData.read(file, DataColumns.DEFAULT);
    assertArrayEquals(new int[] {1, 0, 1, 0}, LabelSet.of(List.of("neg", "pos")).goldIndices(data));
  }

  @Test
  void unknownGoldLabelNamesLabelLineAndKnownLabels() throws IOException {
    Path file = Files.writeString(dir.resolve("dev.tsv"), "text\tlabel\na\tpos\nb\tneutral\n");
    LabelledData data = LabelledData.read(file, DataColumns.DEFAULT);
    LabelSet labels = LabelSet.of(List.of("neg", "pos"));
    assertEquals(
        file + " line 3: label 'neutral' is not one of the model's labels: neg, pos (from --labels)",
        failure(() -> labels.goldIndices(data)));
  }

  @Test
  void logitsWidthMustMatchTheNames() {
    LabelSet labels = LabelSet.of(List.of("a", "b", "c"));
    labels.checkLogitsWidth(3);
    assertEquals(
        "model has 2 logits but 3 labels are named: a, b, c (from --labels)",
        failure(() -> labels.checkLogitsWidth(2)));
    assertEquals(
        "model has 2 logits but 3 labels are named: a, b, c (from --labels)",
        failure(() -> LabelSet.resolve(List.of("a", "b", "c"), LabelSet.ModelLabels.KEEP, NO_METADATA, null, OptionalInt.of(2))));
  }

  @Test
  void malformedId2labelIsReportedWithItsOrigin() throws IOException {
    assertEquals(
        "the id2label metadata of the model: label indices must be 0..1, got [0, 2]",
        failure(() -> LabelSet.resolve(null, LabelSet.ModelLabels.KEEP, Map.of("id2label", "{\"0\": \"a\", \"2\": \"b\"}"), null,
            OptionalInt.empty())));
    assertEquals(
        "the id2label metadata of the model: key 'x' is not a label index",
        failure(() -> LabelSet.resolve(null, LabelSet.ModelLabels.KEEP, Map.of("id2label", "{\"x\": \"a\"}"), null, OptionalInt.empty())));
    assertTrue(
        failure(() -> LabelSet.resolve(null, LabelSet.ModelLabels.KEEP, Map.of("id2label", "{0: a}"), null, OptionalInt.empty()))
            .startsWith("the id2label metadata of the model is not JSON: "));
    assertEquals(
        "label 'a' is named twice in the id2label metadata of the model (labels 0 and 1)",
        failure(() -> LabelSet.resolve(null, LabelSet.ModelLabels.KEEP, Map.of("id2label", "[\"a\", \"a\"]"), null, OptionalInt.empty())));

    Path model = modelWithConfig("{\"id2label\": ");
    Path config = model.toAbsolutePath().resolveSibling("config.json");
    assertTrue(
        failure(() -> LabelSet.resolve(null, LabelSet.ModelLabels.KEEP, NO_METADATA, model, OptionalInt.empty()))
            .startsWith(config + ": invalid JSON: "));
  }

  /** --labels alone does not get past unreadable model labels (they may be a sign of the wrong model); the override does. */
  @Test
  void theOverrideIsTheWayPastUnreadableModelLabels() {
    Map<String, String> broken = Map.of("id2label", "{\"x\": \"a\"}");
    assertEquals("the id2label metadata of the model: key 'x' is not a label index; --labels-override uses --labels instead",
        failure(() -> LabelSet.resolve(List.of("neg", "pos"), LabelSet.ModelLabels.KEEP, broken, null, OptionalInt.of(2))));
    LabelSet labels = LabelSet.resolve(List.of("neg", "pos"), LabelSet.ModelLabels.OVERRIDE, broken, null, OptionalInt.of(2));
    assertEquals(List.of("neg", "pos"), labels.names());
    assertEquals("--labels (the model's own labels are unreadable)", labels.origin());
  }

  @Test
  void explicitNamesMustBeDistinctAndNonEmpty() {
    assertEquals("label 'a' is named twice in --labels (labels 0 and 2)",
        failure(() -> LabelSet.of(List.of("a", "b", "a"))));
    assertEquals("label 1 in --labels has an empty name", failure(() -> LabelSet.of(List.of("a", " "))));
  }
}
